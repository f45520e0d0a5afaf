"""Several threads sharing one store: the sync worker, recognition and the GUI bridge."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

from desktop.store import Store
from tests.desktop.store.conftest import T0, remove, upsert

ROUNDS = 60


def _run_together(*workers: Callable[[], None]) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(len(workers))

    def guarded(work: Callable[[], None]) -> None:
        try:
            start.wait()
            work()
        except BaseException as error:  # reported to the test below
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(work,)) for work in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive()
    return errors


def test_writers_and_readers_on_several_threads_never_see_a_locked_database(
    store: Store,
) -> None:
    def sync_worker() -> None:
        for round_ in range(ROUNDS):
            seq = 2 * round_ + 1
            store.blacklist.apply_changes(
                [upsert(seq, f"ABC{round_:03d}"), remove(seq + 1, f"ABC{round_ - 1:03d}")],
                cursor=seq + 1,
            )
            for item in store.outbox.due(T0, limit=5):
                store.outbox.mark_delivered(item.id, {"ok": True})

    def recognition_worker() -> None:
        for round_ in range(ROUNDS):
            read_id = uuid.uuid4()
            store.record_read(
                read_id=read_id,
                lane="Exit 1",
                plate=f"ABC{round_:03d}",
                confidence=0.9,
                source="camera",
                seen_at=T0,
            )
            store.queue_read_report({"read_id": read_id, "plate": f"ABC{round_:03d}"})
            store.blacklist.lookup(f"A8C{round_:03d}")

    def gui_bridge() -> None:
        for _ in range(ROUNDS):
            store.blacklist.cursor()
            store.outbox.counts()
            store.blacklist.lookup("ABC00")

    assert _run_together(sync_worker, recognition_worker, gui_bridge) == []
    assert store.blacklist.cursor() == 2 * ROUNDS
    assert store.blacklist.count() == 1
    counts = store.outbox.counts()
    assert counts["pending"] + counts["delivered"] == ROUNDS
