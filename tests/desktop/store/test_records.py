"""Reads, notices and outcomes, and the outbox rows that report them to the server."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from desktop.domain import OutcomeKind, PaymentMethod
from desktop.plates import MatchTier
from desktop.store import Store, UnknownNoticeError
from tests.desktop.booth_support import ManualClock, record_camera_read, rows
from tests.desktop.store.conftest import T0, make_entry


def _read_and_notice(store: Store, *, listed: str = "ABC123", entry_seq: int = 4) -> uuid.UUID:
    read_id, notice_id = uuid.uuid4(), uuid.uuid4()
    assert store.record_read(
        read_id=read_id,
        lane="Exit 1",
        plate="A8C 123",
        confidence=0.91,
        source="camera",
        seen_at=T0,
        snapshot_path="snaps/1.jpg",
        crop_path="snaps/1-crop.jpg",
    )
    assert store.record_notice(
        notice_id=notice_id,
        read_id=read_id,
        lane="Exit 1",
        read_plate="A8C123",
        listed_plate=listed,
        tier=MatchTier.OCR_EQUIVALENT,
        unpaid_cents=1850,
        currency="USD",
        sessions=make_entry(listed).sessions,
        source="cache",
        cache_age_s=30.0,
        entry_seq=entry_seq,
        created_at=T0 + timedelta(seconds=1),
    )
    return notice_id


def _pay(
    store: Store,
    notice_id: uuid.UUID,
    outcome_id: uuid.UUID | None = None,
    kind: OutcomeKind = OutcomeKind.PAID,
):
    return store.record_outcome(
        outcome_id=outcome_id or uuid.uuid4(),
        notice_id=notice_id,
        plate="ABC123",
        lane="Exit 1",
        kind=kind,
        method=PaymentMethod.CASH if kind is OutcomeKind.PAID else None,
        amount_cents=1850,
        session_ids=[7],
        attendant="alice",
        recorded_at=T0 + timedelta(minutes=1),
    )


def test_an_outcome_is_queued_for_the_server_with_the_contract_body(store: Store) -> None:
    notice_id = _read_and_notice(store)
    outcome_id = uuid.uuid4()
    recorded = _pay(store, notice_id, outcome_id)
    assert recorded.created
    (item,) = store.outbox.due(T0 + timedelta(hours=1), limit=10)
    assert (item.kind, item.key, item.attempts) == ("outcome", str(outcome_id), 0)
    assert item.payload == {
        "outcome_id": str(outcome_id),
        "notice_id": str(notice_id),
        "plate": "ABC123",
        "lane": "Exit 1",
        "kind": "paid",
        "method": "cash",
        "amount_cents": 1850,
        "session_ids": [7],
        "reason": None,
        "reference": None,
        "attendant": "alice",
        "recorded_at": "2025-03-01T08:01:00+00:00",
    }


def test_a_second_outcome_for_the_same_notice_is_refused(store: Store) -> None:
    notice_id = _read_and_notice(store)
    first = _pay(store, notice_id)
    second = _pay(store, notice_id, kind=OutcomeKind.LEFT_UNPAID)
    assert not second.created
    assert second.outcome_id == first.outcome_id
    assert second.kind is OutcomeKind.PAID
    assert second.method is PaymentMethod.CASH
    assert second.session_ids == (7,)
    assert store.outbox.counts() == {"pending": 1, "delivered": 0, "dead": 0}


def test_an_outcome_and_its_outbox_row_commit_together(store: Store) -> None:
    notice_id = _read_and_notice(store)
    # The outbox insert comes second; make it fail and the outcome must go too.
    with store.engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TRIGGER refuse BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'full'); END"
        )
    with pytest.raises(IntegrityError):
        _pay(store, notice_id)
    with store.engine.connect() as connection:
        outcomes = connection.exec_driver_sql("SELECT count(*) FROM outcomes").scalar_one()
    assert outcomes == 0
    with store.engine.begin() as connection:
        connection.exec_driver_sql("DROP TRIGGER refuse")
    assert _pay(store, notice_id).created
    assert store.outbox.counts()["pending"] == 1


def test_an_outcome_for_an_unknown_notice_is_refused(store: Store) -> None:
    with pytest.raises(UnknownNoticeError):
        _pay(store, uuid.uuid4())
    assert store.outbox.counts()["pending"] == 0


def test_a_paid_outcome_needs_a_method(store: Store) -> None:
    notice_id = _read_and_notice(store)
    with pytest.raises(ValueError, match="method"):
        store.record_outcome(
            outcome_id=uuid.uuid4(),
            notice_id=notice_id,
            plate="ABC123",
            lane="Exit 1",
            kind=OutcomeKind.PAID,
            method=None,
            amount_cents=1850,
            session_ids=[7],
            attendant="alice",
            recorded_at=T0,
        )


@pytest.mark.parametrize(
    ("kind", "settles"),
    [
        (OutcomeKind.PAID, True),
        (OutcomeKind.WAIVED, True),
        (OutcomeKind.DISPUTED, True),
        (OutcomeKind.LEFT_UNPAID, False),
    ],
)
def test_settling_outcomes_report_the_sessions_they_cover(
    store: Store, kind: OutcomeKind, settles: bool
) -> None:
    _pay(store, _read_and_notice(store), kind=kind)
    expected = {7} if settles else set()
    assert store.settled_session_ids("abc-123") == expected
    assert store.settled_session_ids("abc-123", undelivered_only=True) == expected
    assert store.settled_session_ids("XYZ789") == set()


def test_settled_sessions_follow_the_outcome_through_the_outbox(store: Store) -> None:
    _pay(store, _read_and_notice(store))
    (item,) = store.outbox.due(T0 + timedelta(hours=1), limit=10)

    store.outbox.mark_delivered(item.id, {"status": "recorded"})
    assert store.settled_session_ids("ABC123") == {7}
    assert store.settled_session_ids("ABC123", undelivered_only=True) == set()

    store.outbox.mark_dead(item.id, "refused by the server")
    assert store.settled_session_ids("ABC123") == set()


def test_a_read_report_is_queued_once_per_read(store: Store) -> None:
    read_id = uuid.uuid4()
    body = {
        "read_id": read_id,
        "plate": "ABC123",
        "lane": "Exit 1",
        "seen_at": T0,
        "confidence": 0.93,
        "source": "camera",
    }
    assert store.queue_read_report(body) is True
    assert store.queue_read_report(body) is False
    (item,) = store.outbox.due(T0, limit=10)
    assert (item.kind, item.key) == ("read", str(read_id))
    assert item.payload["seen_at"] == "2025-03-01T08:00:00Z"


def test_a_read_is_recorded_once(store: Store) -> None:
    read_id = uuid.uuid4()
    kwargs = {
        "read_id": read_id,
        "lane": "Exit 2",
        "plate": "ABC123",
        "confidence": 0.5,
        "source": "manual",
        "seen_at": T0,
    }
    assert store.record_read(**kwargs) is True
    assert store.record_read(**kwargs) is False


def _kept_plates(store: Store) -> list[str]:
    return [row["plate"] for row in rows(store, "SELECT plate FROM plate_reads ORDER BY plate")]


def _report(store: Store, read_id: uuid.UUID, plate: str) -> None:
    body = {
        "read_id": read_id,
        "plate": plate,
        "lane": "Exit 1",
        "seen_at": T0,
        "confidence": 0.9,
        "source": "camera",
    }
    assert store.queue_read_report(body)


def test_the_first_read_of_a_day_forgets_reads_older_than_the_kept_days(
    store_path: Path, clock: ManualClock
) -> None:
    with Store(store_path, clock=clock, keep_read_days=30) as store:
        delivered = record_camera_read(store, "OLD001", T0)
        _report(store, delivered, "OLD001")
        _report(store, record_camera_read(store, "OLD002", T0), "OLD002")
        _read_and_notice(store, listed="ABC123")  # read as A8C123, raised a notice
        (first, _) = store.outbox.due(T0, limit=10)
        store.outbox.mark_delivered(first.id, {"status": "recorded"})
        clock.advance(days=10)
        record_camera_read(store, "MID010", clock.now)

        clock.advance(days=21)
        record_camera_read(store, "NEW031", clock.now)

        # The noticed read stays with its pictures; so does the report the server lacks.
        assert _kept_plates(store) == ["A8C123", "MID010", "NEW031"]
        (waiting,) = store.outbox.due(clock.now, limit=10)
        assert waiting.payload["plate"] == "OLD002"
        assert store.outbox.counts()["delivered"] == 0


def test_a_booth_left_running_forgets_old_reads_every_day(
    store_path: Path, clock: ManualClock
) -> None:
    with Store(store_path, clock=clock, keep_read_days=7) as store:
        record_camera_read(store, "DAY000", clock.now)
        clock.advance(days=8)
        record_camera_read(store, "DAY008", clock.now)
        assert _kept_plates(store) == ["DAY008"]
        clock.advance(days=8)
        record_camera_read(store, "DAY016", clock.now)
        assert _kept_plates(store) == ["DAY016"]


def test_without_kept_days_every_read_stays(store: Store, clock: ManualClock) -> None:
    record_camera_read(store, "DAY000", clock.now)
    clock.advance(days=400)
    record_camera_read(store, "DAY400", clock.now)
    assert _kept_plates(store) == ["DAY000", "DAY400"]
