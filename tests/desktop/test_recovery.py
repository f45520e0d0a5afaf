"""RecoveryService against a real store and a real (scriptable) server on 127.0.0.1.

Every test uses a fresh SQLite file, a real ServerClient over real sockets, and a clock
the test moves by hand. "Server down" is a closed port; "server hangs" is a server that
accepts the request and never answers. Assertions are on what the attendant would see
(the notice, or none) and on what the booth keeps (rows in its store).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator

import pytest

from desktop.domain import (
    BlacklistChange,
    BlacklistEntry,
    OutcomeKind,
    PaymentMethod,
    PlateRead,
)
from desktop.plates import MatchTier
from desktop.recovery import RecoveryService
from desktop.store import Store
from desktop.sync import SyncWorker
from tests.desktop.booth_support import (
    CHANGES_PATH,
    OUTCOMES_PATH,
    READS_PATH,
    ManualClock,
    closed_port,
    make_client,
    recorded,
    rows,
    session_json,
)
from tests.desktop.hostile_server import HostileServer, echo_json, hang, json_answer

DEADLINE_S = 0.5
COOLDOWN_S = 120.0


def entry_json(
    plate: str,
    sessions: tuple[tuple[int, int], ...] = ((7, 1200), (9, 650)),
    status: str = "active",
) -> dict[str, object]:
    """A blacklist entry as the server sends it: owes the sum of its sessions."""
    return {
        "plate": plate,
        "status": status,
        "unpaid_cents": sum(c for _, c in sessions),
        "currency": "USD",
        "sessions": [session_json(i, c) for i, c in sessions],
        "updated_at": "2025-02-26T10:05:00+00:00",
    }


def upsert(seq: int, plate: str, **entry: object) -> BlacklistChange:
    return BlacklistChange(
        seq=seq,
        plate=plate,
        action="upsert",
        entry=BlacklistEntry.model_validate(entry_json(plate, **entry)),  # type: ignore[arg-type]
    )


def read_answer(owes: bool, entry: dict[str, object] | None) -> Callable[[dict], object]:
    """A /reads answer for whatever read the booth sent."""
    return lambda request: {
        "read_id": request["read_id"],
        "plate": request["plate"],
        "owes": owes,
        "entry": entry,
    }


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with HostileServer() as srv:
        yield srv


def open_service(store: Store, url: str, clock: ManualClock) -> Iterator[RecoveryService]:
    client = make_client(url)
    service = RecoveryService(
        store, client, deadline_s=DEADLINE_S, cooldown_s=COOLDOWN_S, attendant="alice", clock=clock
    )
    try:
        yield service
    finally:
        service.close()
        # Let the calls still in flight (a hung server's) finish before the client closes.
        for thread in threading.enumerate():
            if thread.name.startswith("history"):
                thread.join(5)
        client.close()


@pytest.fixture
def service(store: Store, server: HostileServer, clock: ManualClock) -> Iterator[RecoveryService]:
    yield from open_service(store, server.url, clock)


@pytest.fixture
def offline(store: Store, clock: ManualClock) -> Iterator[RecoveryService]:
    """A recovery service whose server is down (nothing listens on its port)."""
    yield from open_service(store, f"http://127.0.0.1:{closed_port()}", clock)


def seen_at_exit(clock: ManualClock, plate: str = "ABC123", lane: str = "Exit 1") -> PlateRead:
    return PlateRead(plate=plate, lane=lane, confidence=0.93, seen_at=clock())


def queued_reads(store: Store) -> list[dict[str, object]]:
    return rows(store, "SELECT key, payload FROM outbox WHERE kind = 'read'")


# --------------------------------------------------------------------------- the decision


def test_server_owes_gives_an_exact_server_notice_and_both_are_recorded(
    service: RecoveryService, server: HostileServer, store: Store, clock: ManualClock
) -> None:
    server.on("POST", READS_PATH, echo_json(read_answer(True, entry_json("ABC123"))))
    read = seen_at_exit(clock)

    notice = service.check(read)

    assert notice is not None
    assert notice.source == "server" and notice.tier is MatchTier.EXACT
    assert notice.listed_plate == "ABC123" and notice.read is read
    assert (notice.unpaid_cents, notice.currency) == (1850, "USD")
    assert notice.session_ids == [7, 9]
    assert [s.unpaid_cents for s in notice.sessions] == [1200, 650]
    assert notice.cache_age_s is None
    (sent,) = server.seen("POST", READS_PATH)
    assert json.loads(sent.body) == read.report_payload()
    (read_row,) = rows(store, "SELECT * FROM plate_reads")
    assert read_row["read_id"] == str(read.read_id)
    assert (read_row["plate"], read_row["lane"]) == ("ABC123", "Exit 1")
    (notice_row,) = rows(store, "SELECT * FROM notices")
    assert notice_row["notice_id"] == str(notice.notice_id)
    assert notice_row["read_id"] == str(read.read_id)
    assert (notice_row["source"], notice_row["tier"]) == ("server", "exact")
    assert (notice_row["listed_plate"], notice_row["unpaid_cents"]) == ("ABC123", 1850)
    assert [s["id"] for s in json.loads(str(notice_row["sessions"]))] == [7, 9]
    assert queued_reads(store) == []  # the server heard of the read already


def test_server_down_and_plate_cached_gives_a_cache_notice_and_queues_the_read(
    offline: RecoveryService, store: Store, clock: ManualClock
) -> None:
    store.blacklist.apply_changes([upsert(5, "ABC123")], 5)
    store.blacklist.record_sync(clock())
    clock.advance(seconds=90)
    read = seen_at_exit(clock)

    notice = offline.check(read)

    assert notice is not None
    assert notice.source == "cache" and notice.tier is MatchTier.EXACT
    assert (notice.listed_plate, notice.unpaid_cents, notice.session_ids) == (
        "ABC123",
        1850,
        [7, 9],
    )
    assert notice.cache_age_s == pytest.approx(90.0)
    assert notice.entry_seq == 5
    (queued,) = queued_reads(store)
    assert queued["key"] == str(read.read_id)
    assert json.loads(str(queued["payload"])) == read.report_payload()
    (notice_row,) = rows(store, "SELECT source, cache_age_s, entry_seq FROM notices")
    assert notice_row == {"source": "cache", "cache_age_s": pytest.approx(90.0), "entry_seq": 5}


def test_server_down_and_never_synced_still_decides_from_the_cache(
    offline: RecoveryService, store: Store, clock: ManualClock
) -> None:
    store.blacklist.apply_changes([upsert(5, "ABC123")], 5)

    notice = offline.check(seen_at_exit(clock))

    assert notice is not None and notice.source == "cache"
    assert notice.cache_age_s is None  # unknown age, not a made-up one


def test_server_hanging_still_gives_a_cache_notice_and_queues_the_read(
    service: RecoveryService, server: HostileServer, store: Store, clock: ManualClock
) -> None:
    server.on("POST", READS_PATH, hang())
    store.blacklist.apply_changes([upsert(5, "ABC123")], 5)
    store.blacklist.record_sync(clock())
    read = seen_at_exit(clock)

    notice = service.check(read)

    assert notice is not None
    assert (notice.source, notice.tier, notice.listed_plate) == ("cache", MatchTier.EXACT, "ABC123")
    assert server.count("POST", READS_PATH) == 1  # it was asked, it just never answered
    (queued,) = queued_reads(store)
    assert queued["key"] == str(read.read_id)


def test_server_clear_but_a_look_alike_is_cached_gives_an_ocr_equivalent_notice(
    service: RecoveryService, server: HostileServer, store: Store, clock: ManualClock
) -> None:
    server.on("POST", READS_PATH, echo_json(read_answer(False, None)))
    store.blacklist.apply_changes([upsert(5, "ABC123")], 5)

    notice = service.check(seen_at_exit(clock, plate="A8C123"))

    assert notice is not None
    assert notice.tier is MatchTier.OCR_EQUIVALENT and notice.source == "cache"
    assert notice.listed_plate == "ABC123" and notice.read.plate == "A8C123"
    (notice_row,) = rows(store, "SELECT read_plate, listed_plate, tier FROM notices")
    assert notice_row == {
        "read_plate": "A8C123",
        "listed_plate": "ABC123",
        "tier": "ocr_equivalent",
    }


def test_server_clear_overrides_a_stale_exact_cache_entry(
    service: RecoveryService, server: HostileServer, store: Store, clock: ManualClock
) -> None:
    server.on("POST", READS_PATH, echo_json(read_answer(False, None)))
    store.blacklist.apply_changes([upsert(5, "ABC123")], 5)

    assert service.check(seen_at_exit(clock)) is None
    assert rows(store, "SELECT * FROM notices") == []
    assert queued_reads(store) == []


def test_a_disputed_cached_entry_raises_no_notice_offline(
    offline: RecoveryService, store: Store, clock: ManualClock
) -> None:
    store.blacklist.apply_changes([upsert(5, "ABC123", status="disputed")], 5)

    assert offline.check(seen_at_exit(clock)) is None
    assert rows(store, "SELECT * FROM notices") == []


def test_server_disputed_entry_without_owes_raises_no_notice(
    service: RecoveryService, server: HostileServer, store: Store, clock: ManualClock
) -> None:
    disputed = entry_json("ABC123", status="disputed")
    server.on("POST", READS_PATH, echo_json(read_answer(False, disputed)))
    store.blacklist.apply_changes([upsert(5, "ABC123")], 5)  # cache not yet told

    assert service.check(seen_at_exit(clock)) is None
    assert rows(store, "SELECT * FROM notices") == []


def test_cooldown_one_notice_per_vehicle_and_lane(
    service: RecoveryService, server: HostileServer, store: Store, clock: ManualClock
) -> None:
    server.on("POST", READS_PATH, echo_json(read_answer(True, entry_json("ABC123"))))

    first = service.check(seen_at_exit(clock, lane="Exit 1"))
    clock.advance(seconds=5)
    again = service.check(seen_at_exit(clock, lane="Exit 1"))
    other_lane = service.check(seen_at_exit(clock, lane="Exit 2"))
    clock.advance(seconds=COOLDOWN_S)
    after_cooldown = service.check(seen_at_exit(clock, lane="Exit 1"))

    assert first is not None and again is None
    assert other_lane is not None and other_lane.read.lane == "Exit 2"
    assert after_cooldown is not None and after_cooldown.read.lane == "Exit 1"
    assert [r["lane"] for r in rows(store, "SELECT lane FROM notices ORDER BY created_at")] == [
        "Exit 1",
        "Exit 2",
        "Exit 1",
    ]
    assert len(rows(store, "SELECT * FROM plate_reads")) == 4  # every read is kept


# --------------------------------------------------------------------------- outcomes


def test_a_paid_outcome_is_recorded_once_and_queued_with_the_contract_body(
    service: RecoveryService, server: HostileServer, store: Store, clock: ManualClock
) -> None:
    server.on("POST", READS_PATH, echo_json(read_answer(True, entry_json("ABC123"))))
    notice = service.check(seen_at_exit(clock))
    assert notice is not None
    clock.advance(seconds=30)

    paid = service.record_outcome(notice, OutcomeKind.PAID, method=PaymentMethod.CASH)
    twice = service.record_outcome(notice, OutcomeKind.PAID, method=PaymentMethod.CARD)

    assert paid.created and paid.kind is OutcomeKind.PAID
    assert (paid.amount_cents, paid.session_ids, paid.attendant) == (1850, (7, 9), "alice")
    assert not twice.created
    assert (twice.outcome_id, twice.method) == (paid.outcome_id, PaymentMethod.CASH)
    (outcome_row,) = rows(store, "SELECT * FROM outcomes")
    assert outcome_row["outcome_id"] == str(paid.outcome_id)
    assert outcome_row["notice_id"] == str(notice.notice_id)
    (queued,) = rows(store, "SELECT kind, key, payload FROM outbox")
    assert (queued["kind"], queued["key"]) == ("outcome", str(paid.outcome_id))
    assert json.loads(str(queued["payload"])) == {
        "outcome_id": str(paid.outcome_id),
        "notice_id": str(notice.notice_id),
        "plate": "ABC123",
        "lane": "Exit 1",
        "kind": "paid",
        "method": "cash",
        "amount_cents": 1850,
        "session_ids": [7, 9],
        "reason": None,
        "reference": None,
        "attendant": "alice",
        "recorded_at": "2025-03-01T08:00:30+00:00",
    }


def test_a_paid_outcome_without_a_method_is_refused(
    offline: RecoveryService, store: Store, clock: ManualClock
) -> None:
    store.blacklist.apply_changes([upsert(5, "ABC123")], 5)
    notice = offline.check(seen_at_exit(clock))
    assert notice is not None

    with pytest.raises(ValueError, match="method"):
        offline.record_outcome(notice, OutcomeKind.PAID)

    assert rows(store, "SELECT * FROM outcomes") == []
    assert rows(store, "SELECT * FROM outbox WHERE kind = 'outcome'") == []


def test_a_settled_debt_stays_quiet_until_a_newer_debt_arrives(
    offline: RecoveryService, server: HostileServer, store: Store, clock: ManualClock
) -> None:
    store.blacklist.apply_changes([upsert(5, "ABC123")], 5)
    notice = offline.check(seen_at_exit(clock))
    assert notice is not None and notice.entry_seq == 5
    paid = offline.record_outcome(notice, OutcomeKind.PAID, method=PaymentMethod.CARD)

    # Still in the outbox, server down: seen again (after the cooldown, at another lane too).
    clock.advance(seconds=COOLDOWN_S + 1)
    assert offline.check(seen_at_exit(clock)) is None
    assert offline.check(seen_at_exit(clock, lane="Exit 2")) is None

    # The outcome reaches the server; the cache still holds the version it settled.
    server.on(
        "POST",
        OUTCOMES_PATH,
        echo_json(recorded),
    )
    server.on(
        "GET",
        CHANGES_PATH,
        json_answer({"changes": [], "next_since": 5, "has_more": False, "latest_seq": 5}),
    )
    # The queued sightings are reported too; by now the server has the payment.
    server.on("POST", READS_PATH, echo_json(read_answer(False, None)))
    with make_client(server.url) as client:
        assert SyncWorker(store, client, clock=clock).sync_once().online
    assert store.outbox.counts()["pending"] == 0
    clock.advance(seconds=COOLDOWN_S + 1)
    assert offline.check(seen_at_exit(clock)) is None

    # A new debt (higher seq) for the same vehicle: the attendant is told again.
    store.blacklist.apply_changes([upsert(8, "ABC123", sessions=((12, 900),))], 8)
    again = offline.check(seen_at_exit(clock))
    assert again is not None
    assert (again.entry_seq, again.unpaid_cents, again.session_ids) == (8, 900, [12])
    (sent,) = server.seen("POST", OUTCOMES_PATH)
    assert json.loads(sent.body)["outcome_id"] == str(paid.outcome_id)


def test_a_debt_paid_on_a_server_notice_stays_quiet_while_the_removal_is_not_pulled(
    service: RecoveryService, server: HostileServer, store: Store, clock: ManualClock
) -> None:
    store.blacklist.apply_changes([upsert(3, "ABC123")], 3)
    server.on("POST", READS_PATH, echo_json(read_answer(True, entry_json("ABC123"))))
    notice = service.check(seen_at_exit(clock))
    assert notice is not None and notice.source == "server"
    # While the attendant takes the payment, the sync pulls the refresh the read caused.
    store.blacklist.apply_changes([upsert(5, "ABC123")], 5)
    service.record_outcome(notice, OutcomeKind.PAID, method=PaymentMethod.CASH)
    # The outcome is delivered, then the server drops off before the removal is pulled.
    server.on(
        "POST",
        OUTCOMES_PATH,
        echo_json(recorded),
    )
    server.on("GET", CHANGES_PATH, json_answer({"detail": "down"}, status=503))
    with make_client(server.url) as client:
        assert SyncWorker(store, client, clock=clock).sync_once().online is False
    assert store.outbox.counts()["delivered"] == 1
    server.on("POST", READS_PATH, hang())

    again = service.check(seen_at_exit(clock, lane="Exit 2"))

    assert again is None  # the customer who just paid is not asked to pay again
