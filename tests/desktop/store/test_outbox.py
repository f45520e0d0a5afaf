"""The outbox lifecycle: due, failed and retried, delivered, dead."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from desktop.store import Store, UnknownOutboxItemError
from tests.desktop.booth_support import ManualClock


def _queue(store: Store, count: int) -> list[str]:
    keys = []
    for _ in range(count):
        read_id = str(uuid.uuid4())
        store.queue_read_report({"read_id": read_id, "plate": "ABC123"})
        keys.append(read_id)
    return keys


def test_due_lists_pending_rows_oldest_first_up_to_the_limit(
    store: Store, clock: ManualClock
) -> None:
    keys = _queue(store, 3)
    assert [item.key for item in store.outbox.due(clock.now, limit=2)] == keys[:2]
    assert [item.key for item in store.outbox.due(clock.now, limit=10)] == keys
    assert store.outbox.due(clock.now - timedelta(seconds=1), limit=10) == []


def test_a_failed_row_waits_for_its_retry_time(store: Store, clock: ManualClock) -> None:
    first, second = _queue(store, 2)
    item = store.outbox.due(clock.now, limit=1)[0]
    store.outbox.mark_failed(item.id, "server unavailable", clock.now + timedelta(minutes=1))
    assert [i.key for i in store.outbox.due(clock.advance(seconds=30), limit=10)] == [second]
    retried = store.outbox.due(clock.advance(seconds=30), limit=10)
    assert [(i.key, i.attempts) for i in retried] == [(first, 1), (second, 0)]
    assert store.outbox.counts() == {"pending": 2, "delivered": 0, "dead": 0}


def test_delivered_and_dead_rows_are_kept_but_never_due(store: Store, clock: ManualClock) -> None:
    _queue(store, 3)
    delivered, dead, pending = store.outbox.due(clock.now, limit=10)
    store.outbox.mark_delivered(delivered.id, {"read_id": delivered.key, "owes": False})
    store.outbox.mark_dead(dead.id, "422 idempotency_key_reused")
    assert [i.id for i in store.outbox.due(clock.advance(days=1), limit=10)] == [pending.id]
    assert store.outbox.counts() == {"pending": 1, "delivered": 1, "dead": 1}
    with store.engine.connect() as connection:
        row = connection.exec_driver_sql(
            "SELECT last_error, dead_at FROM outbox WHERE id = ?", (dead.id,)
        ).one()
    assert row[0] == "422 idempotency_key_reused"
    assert row[1] is not None


def test_settling_an_unknown_row_is_an_error(store: Store, clock: ManualClock) -> None:
    with pytest.raises(UnknownOutboxItemError):
        store.outbox.mark_delivered(12345, {})
    with pytest.raises(UnknownOutboxItemError):
        store.outbox.mark_failed(12345, "x", clock.now)
