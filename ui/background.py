"""Run a blocking call off the GUI thread and get its result back on the GUI thread."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)


class _Relay(QObject):
    """Lives in the GUI thread; its signals carry a result back there (queued)."""

    succeeded = Signal(object)
    failed = Signal(object)


class _Call(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self._fn = fn
        self._relay = relay

    def run(self) -> None:
        try:
            result = self._fn()
        except Exception as exc:  # handed to the caller, who decides what the user sees
            self._deliver(self._relay.failed, exc)
        else:
            self._deliver(self._relay.succeeded, result)

    def _deliver(self, signal: Signal, value: object) -> None:
        try:
            signal.emit(value)
        except RuntimeError:
            # The owner (and with it the relay) was destroyed while the call ran: the
            # dialog that asked has closed, so nobody is waiting for this answer.
            log.debug("background call finished after its owner was closed")


_relays: set[_Relay] = set()


def run_in_background(
    fn: Callable[[], Any],
    on_result: Callable[[Any], None],
    on_error: Callable[[Exception], None] | None = None,
    *,
    owner: QObject | None = None,
) -> None:
    """Call ``fn()`` on Qt's thread pool; ``on_result``/``on_error`` run on the GUI thread.

    Call this from the GUI thread. With ``owner``, nothing is delivered once the owner
    has been destroyed (a dialog closed while the call was in flight).
    """
    # The relay has no Qt parent: were it the owner's child, a result handler that closes
    # the owner would delete the relay in the middle of its own signal (a crash in Qt).
    relay = _Relay()
    _relays.add(relay)
    owner_gone = False

    def forget_owner() -> None:
        nonlocal owner_gone
        owner_gone = True

    def done() -> None:
        _relays.discard(relay)
        relay.deleteLater()

    def deliver(result: object) -> None:
        done()
        if not owner_gone:
            on_result(result)

    def fail(exc: object) -> None:
        done()
        if owner_gone:
            return
        if on_error is None:
            log.error("background call failed", exc_info=exc)  # type: ignore[arg-type]
        else:
            on_error(exc)  # type: ignore[arg-type]

    relay.succeeded.connect(deliver)
    relay.failed.connect(fail)
    if owner is not None:
        owner.destroyed.connect(forget_owner)
    QThreadPool.globalInstance().start(_Call(fn, relay))


class LatestCall:
    """Background calls of which only the latest counts.

    The answer (or error) of a call that a newer one overtook is dropped, so a list
    reloaded for a new filter never shows what an older, slower load returned.
    """

    def __init__(self, owner: QObject) -> None:
        self._owner = owner
        self._generation = 0

    def run(
        self,
        fn: Callable[[], Any],
        on_result: Callable[[Any], None],
        on_error: Callable[[Exception], None],
    ) -> None:
        """Like :func:`run_in_background`, for ``owner``, superseding any call in flight."""
        self._generation += 1
        generation = self._generation

        def result(value: object) -> None:
            if generation == self._generation:
                on_result(value)

        def error(exc: Exception) -> None:
            if generation == self._generation:
                on_error(exc)

        run_in_background(fn, result, error, owner=self._owner)
