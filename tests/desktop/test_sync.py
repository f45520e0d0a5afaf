"""SyncWorker against a real store and a real (scriptable) server on 127.0.0.1.

The server's answers are scripted per request; the booth's store is a fresh SQLite file.
Tests assert what the booth ends up knowing (cache, cursor, outbox rows), what the
status bar would say, and what the server received, never how the worker got there.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from desktop.domain import BlacklistChange, BlacklistEntry, Outcome, OutcomeKind, PaymentMethod
from desktop.plates import MatchTier
from desktop.store import Store
from desktop.sync import FRESH_FAILURES_PER_ROUND, SyncStatus, SyncWorker
from tests.desktop.booth_support import (
    CHANGES_PATH,
    OUTCOMES_PATH,
    SNAPSHOT_PATH,
    T0,
    ManualClock,
    closed_port,
    make_client,
    recorded,
    rows,
    session_json,
)
from tests.desktop.hostile_server import Behaviour, HostileServer, echo_json, json_answer, raw

HTML_502 = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
SERVER_ERROR = json_answer({"detail": "Internal Server Error"}, status=500)
OVERLOADED = {"detail": {"code": "overloaded", "message": "212 requests are waiting"}}


def entry_json(plate: str, cents: int = 1850, session_id: int = 7) -> dict[str, object]:
    return {
        "plate": plate,
        "status": "active",
        "unpaid_cents": cents,
        "currency": "USD",
        "sessions": [session_json(session_id, cents)],
        "updated_at": "2025-02-26T10:05:00+00:00",
    }


def up(seq: int, plate: str, cents: int = 1850) -> dict[str, object]:
    return {"seq": seq, "plate": plate, "action": "upsert", "entry": entry_json(plate, cents)}


def gone(seq: int, plate: str) -> dict[str, object]:
    return {"seq": seq, "plate": plate, "action": "remove", "entry": None}


def page(
    changes: list[dict[str, object]],
    next_since: int,
    has_more: bool = False,
    latest_seq: int | None = None,
) -> dict[str, object]:
    latest = next_since if latest_seq is None else latest_seq
    return {
        "changes": changes,
        "next_since": next_since,
        "has_more": has_more,
        "latest_seq": latest,
    }


def snapshot(plates: list[str], as_of_seq: int, has_more: bool) -> dict[str, object]:
    return {
        "entries": [entry_json(p) for p in plates],
        "as_of_seq": as_of_seq,
        "next_after": plates[-1] if plates else None,
        "has_more": has_more,
    }


def already_paid(request: dict) -> dict[str, object]:
    return {
        "outcome_id": request["outcome_id"],
        "status": "already_paid",
        "collected_cents": 0,
        "already_paid_session_ids": request["session_ids"],
        "message": "sessions 7 already paid at booth-b",
    }


def resync_required(latest_seq: int) -> dict[str, object]:
    return {
        "detail": {"code": "resync_required", "message": "cursor pruned", "latest_seq": latest_seq}
    }


def query(seen_path: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(seen_path).query).items()}


def cached(store: Store) -> list[str]:
    return [
        str(r["plate"]) for r in rows(store, "SELECT plate FROM blacklist_entries ORDER BY plate")
    ]


def seed_cache(store: Store, plates: list[str], cursor: int) -> None:
    changes = [
        BlacklistChange(
            seq=seq,
            plate=plate,
            action="upsert",
            entry=BlacklistEntry.model_validate(entry_json(plate)),
        )
        for seq, plate in enumerate(plates, start=cursor - len(plates) + 1)
    ]
    store.blacklist.apply_changes(changes, cursor)


def queue_outcome(store: Store, clock: ManualClock, plate: str = "ABC123") -> Outcome:
    """What the recovery service leaves behind after a paid notice: read, notice, outcome."""
    read_id, notice_id = uuid.uuid4(), uuid.uuid4()
    store.record_read(
        read_id=read_id,
        lane="Exit 1",
        plate=plate,
        confidence=0.9,
        source="camera",
        seen_at=clock(),
    )
    entry = BlacklistEntry.model_validate(entry_json(plate))
    store.record_notice(
        notice_id=notice_id,
        read_id=read_id,
        lane="Exit 1",
        read_plate=plate,
        listed_plate=plate,
        tier=MatchTier.EXACT,
        unpaid_cents=1850,
        currency="USD",
        sessions=entry.sessions,
        source="cache",
        cache_age_s=1.0,
        entry_seq=1,
        created_at=clock(),
    )
    return store.record_outcome(
        outcome_id=uuid.uuid4(),
        notice_id=notice_id,
        plate=plate,
        lane="Exit 1",
        kind=OutcomeKind.PAID,
        method=PaymentMethod.CASH,
        amount_cents=1850,
        session_ids=[7],
        attendant="alice",
        recorded_at=clock(),
    )


def outbox_rows(store: Store) -> list[dict[str, object]]:
    return rows(store, "SELECT * FROM outbox ORDER BY id")


def posted_ids(server: HostileServer) -> list[str]:
    return [json.loads(s.body)["outcome_id"] for s in server.seen("POST", OUTCOMES_PATH)]


def failing_for(outcome_ids: set[str], failure: Behaviour, otherwise: Behaviour) -> Behaviour:
    """Answer outcomes with these ids with ``failure``, every other one with ``otherwise``."""

    def behave(handler) -> None:  # type: ignore[no-untyped-def]
        outcome_id = json.loads(handler.seen_request.body)["outcome_id"]
        (failure if outcome_id in outcome_ids else otherwise)(handler)

    return behave


def attempt_at(row: dict[str, object]) -> datetime:
    return datetime.fromisoformat(str(row["next_attempt_at"]))


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with HostileServer() as srv:
        srv.on("GET", CHANGES_PATH, json_answer(page([], 0)))
        yield srv


@pytest.fixture
def worker(store: Store, server: HostileServer, clock: ManualClock) -> Iterator[SyncWorker]:
    with make_client(server.url) as client:
        sync = SyncWorker(store, client, interval_s=60.0, page_size=2, clock=clock)
        try:
            yield sync
        finally:
            sync.stop()


def warnings_from(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


# --------------------------------------------------------------------------- pull


def test_pulls_every_page_and_stores_entries_and_cursor(
    worker: SyncWorker, server: HostileServer, store: Store, clock: ManualClock
) -> None:
    server.on(
        "GET",
        CHANGES_PATH,
        json_answer(page([up(1, "ABC123"), up(2, "XYZ789")], 2, has_more=True, latest_seq=4)),
        json_answer(page([up(3, "DEF456", 900), gone(4, "XYZ789")], 4)),
    )

    status = worker.sync_once()

    assert (status.online, status.cache_entries, status.cursor) == (True, 2, 4)
    assert status.last_sync_at == clock() and status.last_error == ""
    assert cached(store) == ["ABC123", "DEF456"]
    entry = store.blacklist.get("DEF456")
    assert entry is not None and entry.unpaid_cents == 900
    assert [query(s.path)["since"] for s in server.seen("GET", CHANGES_PATH)] == ["0", "2"]
    assert store.blacklist.last_synced_at() == clock()


def test_resync_replaces_the_cache_then_pulls_changes_since_the_snapshot(
    worker: SyncWorker, server: HostileServer, store: Store
) -> None:
    seed_cache(store, ["OLD111", "ABC123"], cursor=4)
    server.on(
        "GET",
        CHANGES_PATH,
        json_answer(resync_required(44), status=410),
        json_answer(page([up(43, "NEW999")], 43)),
    )
    server.on(
        "GET",
        SNAPSHOT_PATH,
        json_answer(snapshot(["ABC123", "KLM456"], 42, has_more=True)),
        json_answer(snapshot(["XYZ789"], 43, has_more=False)),
    )

    status = worker.sync_once()

    assert status.online and status.last_error == ""
    assert cached(store) == ["ABC123", "KLM456", "NEW999", "XYZ789"]  # OLD111 is gone
    assert status.cursor == 43 and status.cache_entries == 4
    snapshots = server.seen("GET", SNAPSHOT_PATH)
    assert "after" not in query(snapshots[0].path)
    assert query(snapshots[1].path)["after"] == "KLM456"
    changes = server.seen("GET", CHANGES_PATH)
    assert [query(s.path)["since"] for s in changes] == ["4", "42"]  # first page's as_of_seq


def test_a_snapshot_failing_midway_keeps_the_old_cache_and_cursor(
    worker: SyncWorker, server: HostileServer, store: Store
) -> None:
    seed_cache(store, ["OLD111", "ABC123"], cursor=4)
    server.on("GET", CHANGES_PATH, json_answer(resync_required(44), status=410))
    server.on(
        "GET",
        SNAPSHOT_PATH,
        json_answer(snapshot(["ABC123", "KLM456"], 42, has_more=True)),
        raw(502, HTML_502, "text/html"),
    )

    status = worker.sync_once()

    assert status.online is False and "502" in status.last_error
    assert cached(store) == ["ABC123", "OLD111"]
    assert store.blacklist.cursor() == 4 and status.cursor == 4


MALFORMED_PAGES = {
    "wrong types": json_answer(
        {
            "changes": [{"seq": "five", "plate": "ABC123", "action": "upsert", "entry": None}],
            "next_since": "many",
            "has_more": "maybe",
            "latest_seq": 5,
        }
    ),
    "out-of-order seqs": json_answer(page([up(6, "ABC123"), up(5, "XYZ789")], 6)),
    "HTML with 200": raw(200, HTML_502, "text/html"),
    "has_more without progress": json_answer(page([], 4, has_more=True, latest_seq=9)),
}


@pytest.mark.parametrize("bad_answer", MALFORMED_PAGES.values(), ids=MALFORMED_PAGES.keys())
def test_a_malformed_changes_page_leaves_the_booth_running_and_it_recovers(
    worker: SyncWorker,
    server: HostileServer,
    store: Store,
    caplog: pytest.LogCaptureFixture,
    bad_answer: object,
) -> None:
    seed_cache(store, ["ABC123"], cursor=4)
    server.on("GET", CHANGES_PATH, bad_answer)  # type: ignore[arg-type]

    status = worker.sync_once()

    assert status.online is False and status.offline_since is not None
    assert "malformed" in status.last_error and "Traceback" not in status.last_error
    assert status.cursor == 4 and store.blacklist.cursor() == 4
    assert cached(store) == ["ABC123"]
    assert warnings_from(caplog)

    server.on("GET", CHANGES_PATH, json_answer(page([up(5, "XYZ789")], 5)))
    status = worker.sync_once()

    assert status.online is True and status.last_error == "" and status.offline_since is None
    assert status.cursor == 5 and cached(store) == ["ABC123", "XYZ789"]


def test_a_snapshot_that_never_advances_is_refused_and_the_old_cache_kept(
    worker: SyncWorker, server: HostileServer, store: Store
) -> None:
    seed_cache(store, ["OLD111"], cursor=4)
    server.on("GET", CHANGES_PATH, json_answer(resync_required(44), status=410))
    stuck = {**snapshot(["ABC123"], 42, has_more=True), "next_after": None}
    server.on("GET", SNAPSHOT_PATH, json_answer(stuck))

    status = worker.sync_once()

    assert status.online is False and "malformed" in status.last_error
    assert cached(store) == ["OLD111"] and store.blacklist.cursor() == 4


# --------------------------------------------------------------------------- push


def test_a_recorded_outcome_is_delivered_once_with_its_answer_kept(
    worker: SyncWorker, server: HostileServer, store: Store, clock: ManualClock
) -> None:
    outcome = queue_outcome(store, clock)
    server.on("POST", OUTCOMES_PATH, echo_json(recorded))

    status = worker.sync_once()
    worker.sync_once()

    assert status.online and status.outbox_pending == 0
    (row,) = outbox_rows(store)
    assert row["delivered_at"] is not None and row["dead_at"] is None
    answer = json.loads(str(row["response"]))
    assert answer["http_status"] == 200 and answer["status"] == "recorded"
    assert answer["collected_cents"] == 1850 and answer["settled_session_ids"] == [7]
    assert posted_ids(server) == [str(outcome.outcome_id)]
    assert json.loads(server.seen("POST", OUTCOMES_PATH)[0].body) == outcome.request_body()


def test_already_paid_is_delivered_not_retried_and_warned_about(
    worker: SyncWorker,
    server: HostileServer,
    store: Store,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    outcome = queue_outcome(store, clock)
    server.on("POST", OUTCOMES_PATH, echo_json(already_paid, status=409))

    status = worker.sync_once()
    clock.advance(hours=1)
    worker.sync_once()

    assert status.online and status.outbox_pending == 0 and status.outbox_dead == 0
    (row,) = outbox_rows(store)
    assert row["delivered_at"] is not None
    answer = json.loads(str(row["response"]))
    assert (answer["http_status"], answer["status"]) == (409, "already_paid")
    assert posted_ids(server) == [str(outcome.outcome_id)]
    assert any("already paid" in message for message in warnings_from(caplog))


def test_a_refused_outcome_is_kept_as_dead_and_never_retried(
    worker: SyncWorker, server: HostileServer, store: Store, clock: ManualClock
) -> None:
    outcome = queue_outcome(store, clock)
    server.on(
        "POST",
        OUTCOMES_PATH,
        json_answer(
            {"detail": {"code": "amount_mismatch", "message": "amount differs"}}, status=422
        ),
    )

    status = worker.sync_once()
    clock.advance(hours=1)
    later = worker.sync_once()

    assert status.online and (status.outbox_pending, status.outbox_dead) == (0, 1)
    assert later.outbox_dead == 1
    (row,) = outbox_rows(store)
    assert row["dead_at"] is not None and row["delivered_at"] is None
    assert "amount_mismatch" in str(row["last_error"])
    assert posted_ids(server) == [str(outcome.outcome_id)]
    assert len(rows(store, "SELECT * FROM outcomes")) == 1  # the booth's record stays


def test_a_gateway_error_ends_the_push_and_blames_no_row(
    worker: SyncWorker, server: HostileServer, store: Store, clock: ManualClock
) -> None:
    first, second = queue_outcome(store, clock), queue_outcome(store, clock, plate="XYZ789")
    server.on("POST", OUTCOMES_PATH, raw(502, HTML_502, "text/html"), echo_json(recorded))

    down = worker.sync_once()

    assert down.online is False and down.offline_since == clock()
    assert "502" in down.last_error and down.outbox_pending == 2
    assert down.outbox_stuck == 0  # the server never judged the rows
    assert posted_ids(server) == [str(first.outcome_id)]  # nothing more sent into it
    assert server.count("GET", CHANGES_PATH) == 0
    untouched = [(row["attempts"], row["last_error"]) for row in outbox_rows(store)]
    assert untouched == [(0, None), (0, None)]

    clock.advance(seconds=1)
    back = worker.sync_once()

    assert back.online is True and back.offline_since is None
    assert back.outbox_pending == 0 and back.outbox_stuck == 0
    assert all(row["delivered_at"] is not None for row in outbox_rows(store))
    assert posted_ids(server) == [str(first.outcome_id)] * 2 + [str(second.outcome_id)]


def test_server_down_reports_offline_since_the_first_failure(
    store: Store, clock: ManualClock
) -> None:
    queue_outcome(store, clock)
    with make_client(f"http://127.0.0.1:{closed_port()}") as client:
        worker = SyncWorker(store, client, clock=clock)
        first = worker.sync_once()
        clock.advance(seconds=30)
        second = worker.sync_once()

    assert first.online is False and first.offline_since == T0
    assert second.offline_since == T0  # offline since the first failure, not the latest
    assert "connection refused" in first.last_error and first.outbox_pending == 1
    assert second.outbox_stuck == 0
    (row,) = outbox_rows(store)
    assert row["attempts"] == 0 and row["delivered_at"] is None and row["dead_at"] is None


# --------------------------------------------------------------------------- stuck rows


def test_a_row_the_server_fails_backs_off_alone_and_the_rest_and_the_pull_go_on(
    worker: SyncWorker, server: HostileServer, store: Store, clock: ManualClock
) -> None:
    first = queue_outcome(store, clock, plate="ABC123")
    stuck = queue_outcome(store, clock, plate="DEF456")
    last = queue_outcome(store, clock, plate="XYZ789")
    only_stuck = failing_for({str(stuck.outcome_id)}, SERVER_ERROR, echo_json(recorded))
    server.on("POST", OUTCOMES_PATH, only_stuck)
    server.on(
        "GET", CHANGES_PATH, json_answer(page([up(1, "NEW111")], 1)), json_answer(page([], 1))
    )

    status = worker.sync_once()

    assert status.online is True and status.offline_since is None and status.last_error == ""
    assert (status.outbox_pending, status.outbox_stuck) == (1, 1)
    assert (status.stuck_reason, status.stuck_status) == ("server error 500", 500)
    assert "HTTP 500" in status.stuck_error
    assert status.last_sync_at == clock() and cached(store) == ["NEW111"]  # pulled
    delivered, failed, after = outbox_rows(store)
    assert delivered["delivered_at"] is not None and after["delivered_at"] is not None
    assert failed["attempts"] == 1 and failed["delivered_at"] is None
    assert attempt_at(failed) == clock() + timedelta(seconds=2)
    assert posted_ids(server) == [str(o.outcome_id) for o in (first, stuck, last)]

    clock.advance(seconds=1)  # before its retry time: not sent again
    worker.sync_once()
    assert posted_ids(server).count(str(stuck.outcome_id)) == 1

    clock.advance(seconds=1)  # due: fails again and waits twice as long
    again = worker.sync_once()
    (_, failed, _) = outbox_rows(store)
    assert again.outbox_stuck == 1 and failed["attempts"] == 2
    assert attempt_at(failed) == clock() + timedelta(seconds=4)

    server.on("POST", OUTCOMES_PATH, echo_json(recorded))  # the server is fixed
    clock.advance(seconds=4)
    fixed = worker.sync_once()

    assert (fixed.outbox_pending, fixed.outbox_stuck, fixed.stuck_reason) == (0, 0, "")
    assert posted_ids(server).count(str(stuck.outcome_id)) == 3
    assert posted_ids(server).count(str(first.outcome_id)) == 1  # each delivered once


def test_a_malformed_answer_to_one_row_makes_it_stuck_not_the_booth_offline(
    worker: SyncWorker, server: HostileServer, store: Store, clock: ManualClock
) -> None:
    odd, fine = queue_outcome(store, clock), queue_outcome(store, clock, plate="XYZ789")
    not_json = raw(200, HTML_502, "text/html")
    server.on(
        "POST", OUTCOMES_PATH, failing_for({str(odd.outcome_id)}, not_json, echo_json(recorded))
    )

    status = worker.sync_once()

    assert status.online is True
    assert (status.outbox_pending, status.outbox_stuck) == (1, 1)
    assert (status.stuck_reason, status.stuck_status) == ("malformed answer", None)
    assert posted_ids(server) == [str(odd.outcome_id), str(fine.outcome_id)]


def test_a_server_failing_every_row_gets_a_few_per_round_and_stuck_rows_hold_back_none(
    worker: SyncWorker, server: HostileServer, store: Store, clock: ManualClock
) -> None:
    broken = [queue_outcome(store, clock, plate=f"BAD{n}") for n in range(FRESH_FAILURES_PER_ROUND)]
    later = queue_outcome(store, clock, plate="XYZ789")
    broken_ids = {str(o.outcome_id) for o in broken}
    server.on("POST", OUTCOMES_PATH, failing_for(broken_ids, SERVER_ERROR, echo_json(recorded)))

    first = worker.sync_once()

    # As many rows in a row failed at their first try: the backlog is not sent into it.
    assert posted_ids(server) == [str(o.outcome_id) for o in broken]
    assert first.online is True and server.count("GET", CHANGES_PATH) == 1
    assert (first.outbox_pending, first.outbox_stuck) == (len(broken) + 1, len(broken))

    clock.advance(seconds=2)  # the stuck rows are due again, still failing
    second = worker.sync_once()

    assert posted_ids(server)[-1] == str(later.outcome_id)
    assert set(posted_ids(server)[len(broken) : -1]) == broken_ids
    assert (second.outbox_pending, second.outbox_stuck) == (len(broken), len(broken))


# --------------------------------------------------------------------------- busy server


def when_not_busy(path: str) -> Behaviour:
    """What ``path`` answers once the server is no longer busy."""
    if path == OUTCOMES_PATH:
        return echo_json(recorded)
    return json_answer(page([], 0))


BUSY_ANSWERS = {
    "503 overloaded on an outcome": (
        "POST",
        OUTCOMES_PATH,
        json_answer(OVERLOADED, status=503, headers={"Retry-After": "12"}),
    ),
    "429 on the change feed": (
        "GET",
        CHANGES_PATH,
        json_answer({"detail": "slow down"}, status=429, headers={"Retry-After": "12"}),
    ),
}


@pytest.mark.parametrize(("method", "path", "busy"), BUSY_ANSWERS.values(), ids=BUSY_ANSWERS.keys())
def test_a_busy_server_gets_no_request_before_retry_after_and_no_row_is_blamed(
    worker: SyncWorker,
    server: HostileServer,
    store: Store,
    clock: ManualClock,
    method: str,
    path: str,
    busy: Behaviour,
) -> None:
    outcome = queue_outcome(store, clock)
    server.on("POST", OUTCOMES_PATH, echo_json(recorded))
    server.on(method, path, busy, when_not_busy(path))

    status = worker.sync_once()

    assert status.online is True and status.offline_since is None  # busy, not offline
    assert status.busy_until == clock() + timedelta(seconds=12)
    assert "retry after 12 s" in status.last_error
    assert status.outbox_stuck == 0
    sent = len(server.requests)

    clock.advance(seconds=11)
    queue_outcome(store, clock, plate="XYZ789")  # an outcome recorded meanwhile wakes it
    waiting = worker.sync_once()

    assert len(server.requests) == sent  # nothing sent before Retry-After has passed
    assert waiting.busy_until == status.busy_until
    assert waiting.outbox_pending == status.outbox_pending + 1
    assert all(row["attempts"] == 0 for row in outbox_rows(store))

    clock.advance(seconds=1)
    after = worker.sync_once()

    assert after.online is True and after.busy_until is None and after.last_error == ""
    assert (after.outbox_pending, after.outbox_stuck) == (0, 0)
    expected = 2 if path == OUTCOMES_PATH else 1  # the busy answer, then the delivery
    assert posted_ids(server).count(str(outcome.outcome_id)) == expected


def test_a_retry_after_of_a_day_is_honoured_for_five_minutes_at_most(
    worker: SyncWorker, server: HostileServer, store: Store, clock: ManualClock
) -> None:
    queue_outcome(store, clock)
    server.on(
        "POST",
        OUTCOMES_PATH,
        json_answer(OVERLOADED, status=503, headers={"Retry-After": "86400"}),
        echo_json(recorded),
    )

    status = worker.sync_once()
    clock.advance(seconds=300)
    after = worker.sync_once()

    assert status.busy_until == T0 + timedelta(seconds=300)
    assert after.busy_until is None and after.outbox_pending == 0


def test_a_plain_503_from_a_proxy_is_the_server_being_away_not_busy(
    worker: SyncWorker, server: HostileServer, store: Store, clock: ManualClock
) -> None:
    queue_outcome(store, clock)
    server.on("POST", OUTCOMES_PATH, raw(503, b"no healthy upstream", "text/plain"))

    status = worker.sync_once()

    assert status.online is False and status.busy_until is None and "503" in status.last_error


@pytest.mark.parametrize(
    ("status", "detail", "shown"),
    [
        (401, "Not authenticated", "token"),
        (404, "Not Found", "404"),  # a proxy or a wrong server URL, not this outcome
    ],
)
def test_a_refused_booth_or_path_does_not_throw_outcomes_away(
    worker: SyncWorker,
    server: HostileServer,
    store: Store,
    clock: ManualClock,
    status: int,
    detail: str,
    shown: str,
) -> None:
    outcome = queue_outcome(store, clock)
    server.on(
        "POST",
        OUTCOMES_PATH,
        json_answer({"detail": detail}, status=status),
        echo_json(recorded),
    )

    refused = worker.sync_once()

    assert refused.online is False and shown in refused.last_error
    assert (refused.outbox_pending, refused.outbox_dead) == (1, 0)

    clock.advance(seconds=1)  # the token or the URL is fixed
    fixed = worker.sync_once()

    assert fixed.online and (fixed.outbox_pending, fixed.outbox_dead) == (0, 0)
    assert posted_ids(server) == [str(outcome.outcome_id)] * 2


# --------------------------------------------------------------------------- thread


def test_start_runs_a_round_wake_runs_another_and_stop_joins(
    worker: SyncWorker, server: HostileServer, store: Store, clock: ManualClock
) -> None:
    server.on("POST", OUTCOMES_PATH, echo_json(recorded))
    rounds: list[SyncStatus] = []
    changed = threading.Condition()

    def on_status(status: SyncStatus) -> None:
        with changed:
            rounds.append(status)
            changed.notify_all()

    worker.add_listener(on_status)
    worker.start()
    with changed:
        assert changed.wait_for(lambda: len(rounds) >= 1, timeout=5)
    assert rounds[0].online is True

    outcome = queue_outcome(store, clock)
    worker.wake()
    with changed:
        assert changed.wait_for(
            lambda: rounds[-1].outbox_pending == 0 and len(rounds) >= 2, timeout=5
        )
    assert posted_ids(server) == [str(outcome.outcome_id)]

    (thread,) = [t for t in threading.enumerate() if t.name == "sync"]
    worker.stop(timeout_s=5)
    assert not thread.is_alive()
