"""The app collects garbage on the GUI thread only."""

from __future__ import annotations

import gc
import threading
import weakref

from ui.gc_guard import GuiThreadGarbageCollector


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_garbage_made_in_a_worker_is_collected_on_the_gui_thread(qtbot):
    gc.enable()  # as in the app, where Python's collector starts enabled
    collector = GuiThreadGarbageCollector(interval_ms=10)
    try:
        assert not gc.isenabled()
        witnesses: list[weakref.ref] = []

        def make_garbage() -> None:
            for _ in range(gc.get_threshold()[0] * 3):
                witnesses.append(weakref.ref(Node()))

        worker = threading.Thread(target=make_garbage)
        worker.start()
        worker.join()
        assert any(ref() is not None for ref in witnesses)  # the worker collected nothing
        qtbot.waitUntil(lambda: all(ref() is None for ref in witnesses), timeout=5_000)
    finally:
        collector.stop()
    assert gc.isenabled()
    gc.disable()  # back to what the ui tests' fixture expects
