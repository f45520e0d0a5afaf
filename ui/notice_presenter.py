"""Shows recovery notices one at a time, in the order they arrive.

Two lanes can raise notices within a second of each other; the attendant deals with
them one by one, each modal dialog on top. A notice raised by a camera plays the
chime once; re-opening one from the reads list does not.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QWidget

from desktop.domain import RecoveryNotice
from ui.bridge import BoothBridge
from ui.notice import NoticeDialog
from ui.sound import AlertSound

log = logging.getLogger(__name__)


class NoticePresenter(QObject):
    """Queues notices and opens a :class:`NoticeDialog` for each, one at a time."""

    shown = Signal(object)  # the NoticeDialog just opened

    def __init__(
        self,
        parent_window: QWidget,
        bridge: BoothBridge,
        *,
        exit_policy: str,
        verify_pin: Callable[[str], bool],
        sound: AlertSound,
    ) -> None:
        super().__init__(parent_window)
        self._window = parent_window
        self._bridge = bridge
        self._exit_policy = exit_policy
        self._verify_pin = verify_pin
        self._sound = sound
        self._queue: deque[tuple[RecoveryNotice, bool]] = deque()
        self._seen: set[object] = set()
        self.current: NoticeDialog | None = None

    def present(self, notice: RecoveryNotice) -> None:
        """Show ``notice`` (after those already waiting); chime the first time it is shown."""
        chime = notice.notice_id not in self._seen
        self._seen.add(notice.notice_id)
        self._enqueue(notice, chime=chime)

    @property
    def waiting(self) -> int:
        """Notices queued behind the one on screen."""
        return len(self._queue)

    def _enqueue(self, notice: RecoveryNotice, *, chime: bool) -> None:
        showing = self.current.notice.notice_id if self.current is not None else None
        queued = {item.notice_id for item, _ in self._queue}
        if notice.notice_id == showing or notice.notice_id in queued:
            return
        self._queue.append((notice, chime))
        self._show_next()
        if self.current is not None:
            self.current.set_waiting(len(self._queue))

    def _show_next(self) -> None:
        if self.current is not None or not self._queue:
            return
        notice, chime = self._queue.popleft()
        dialog = NoticeDialog(
            notice,
            self._bridge,
            exit_policy=self._exit_policy,
            verify_pin=self._verify_pin,
            parent=self._window,
        )
        dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
        dialog.recheck_requested.connect(self._recheck)
        dialog.finished.connect(self._closed)
        self.current = dialog
        dialog.open()
        dialog.raise_()
        dialog.activateWindow()
        dialog.set_waiting(len(self._queue))
        if chime:
            self._sound.play()
        log.info("notice for %s on %s shown", notice.listed_plate, notice.read.lane)
        self.shown.emit(dialog)

    def _recheck(self, plate: str, lane: str) -> None:
        try:
            self._bridge.check_manual(plate, lane)
        except ValueError:
            log.warning("corrected plate %r has no characters; not checked", plate)

    def _closed(self, _result: int) -> None:
        dialog, self.current = self.current, None
        if dialog is not None:
            dialog.deleteLater()
        self._show_next()
