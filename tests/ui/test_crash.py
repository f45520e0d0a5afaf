"""Uncaught errors show a dialog naming the log file instead of vanishing."""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

import pytest

from desktop.logs import log_to_rotating_file
from ui.crash import CrashReporter


@pytest.fixture
def reporter(qtbot, tmp_path: Path):
    log_file = tmp_path / "logs" / "recoup.log"
    crashes = CrashReporter(log_file)
    crashes.install()
    yield crashes
    crashes.uninstall()
    if crashes.dialog is not None:
        crashes.dialog.close()


def test_an_error_on_the_gui_thread_shows_the_log_path(reporter: CrashReporter, qtbot):
    try:
        raise RuntimeError("lane grid lost its layout")
    except RuntimeError:
        sys.excepthook(*sys.exc_info())
    qtbot.waitUntil(lambda: reporter.dialog is not None and reporter.dialog.isVisible())
    details = reporter.dialog.informativeText()
    assert "lane grid lost its layout" in details
    assert str(reporter.log_file) in details


def test_an_error_in_a_worker_thread_reaches_the_dialog(reporter: CrashReporter, qtbot):
    def broken() -> None:
        raise ValueError("decoder exploded")

    worker = threading.Thread(target=broken)
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: reporter.dialog is not None and reporter.dialog.isVisible())
    assert "decoder exploded" in reporter.dialog.informativeText()


def test_a_second_error_updates_the_open_dialog_instead_of_stacking(reporter, qtbot):
    for message in ("first failure", "second failure"):
        try:
            raise RuntimeError(message)
        except RuntimeError:
            sys.excepthook(*sys.exc_info())

    def updated() -> bool:
        return reporter.dialog is not None and "second failure" in reporter.dialog.informativeText()

    qtbot.waitUntil(updated)
    assert reporter.count == 2


def test_the_log_file_rotates_instead_of_growing_without_end(tmp_path: Path):
    root = logging.getLogger()
    before = list(root.handlers)
    path = log_to_rotating_file(tmp_path)
    handler = next(h for h in root.handlers if h not in before)
    try:
        handler.maxBytes = 2_000
        line = "x" * 200
        for _ in range(60):
            logging.getLogger("recoup.test").warning(line)
    finally:
        root.removeHandler(handler)
        handler.close()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files[0] == path.name
    assert "recoup.log.1" in files
    assert all(p.stat().st_size <= 2_400 for p in tmp_path.iterdir())
