"""Uncaught errors: logged with their traceback and shown to the attendant, never silent.

``sys.excepthook`` (the GUI thread, including exceptions raised in Qt slots) and
``threading.excepthook`` (worker threads) both log the error and ask the GUI thread, via a
queued signal, to show a dialog that names the log file. The app keeps running: a bug in
one screen must not take the booth down in the middle of a shift.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

log = logging.getLogger(__name__)


class CrashReporter(QObject):
    """Installs the exception hooks and shows one error dialog at a time."""

    crashed = Signal(str)

    def __init__(self, log_file: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.log_file = log_file
        self.dialog: QMessageBox | None = None
        self.count = 0
        self._previous = (sys.excepthook, threading.excepthook)
        self.crashed.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def install(self) -> None:
        """Route uncaught exceptions of every thread here."""
        sys.excepthook = self.handle
        threading.excepthook = self._handle_thread

    def uninstall(self) -> None:
        """Put back the hooks that were there before."""
        sys.excepthook, threading.excepthook = self._previous

    def handle(
        self,
        exc_type: type[BaseException],
        exc: BaseException,
        tb: TracebackType | None,
    ) -> None:
        """Log an uncaught exception and show the dialog (from any thread)."""
        if issubclass(exc_type, KeyboardInterrupt):
            self._previous[0](exc_type, exc, tb)
            return
        log.critical("uncaught error", exc_info=(exc_type, exc, tb))
        traceback.print_exception(exc_type, exc, tb, file=sys.stderr)  # for whoever watches
        self.count += 1
        summary = "".join(traceback.format_exception_only(exc_type, exc)).strip()
        with contextlib.suppress(RuntimeError):  # shutting down: the error is in the log
            self.crashed.emit(summary)

    def _handle_thread(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            self.handle(args.exc_type, args.exc_value, args.exc_traceback)

    def _show(self, summary: str) -> None:
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.setInformativeText(self._details(summary))
            return
        parent = _active_window()
        dialog = QMessageBox(parent)
        dialog.setObjectName("crashDialog")
        dialog.setIcon(QMessageBox.Icon.Critical)
        dialog.setWindowTitle(self.tr("Recoup: unexpected error"))
        dialog.setText(
            self.tr(
                "Something went wrong inside Recoup. The booth keeps running; "
                "please tell your supervisor or IT."
            )
        )
        dialog.setInformativeText(self._details(summary))
        dialog.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        dialog.setStandardButtons(QMessageBox.StandardButton.Ok)
        dialog.open()
        self.dialog = dialog

    def _details(self, summary: str) -> str:
        return self.tr("Error: {summary}\n\nThe details are in the log file:\n{path}").format(
            summary=summary, path=self.log_file
        )


def _active_window() -> QWidget | None:
    from PySide6.QtWidgets import QApplication

    return QApplication.activeWindow()
