"""Take the README's screenshots of the demo booth, on a real (virtual) X screen.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshots.py

Runs the demo as ``main.py --demo`` does (reference server, generated lanes), then acts
as an attendant would with the keyboard, step by step, and grabs the whole screen at
each step into ``docs/screenshots/``. Each step waits for what the attendant would wait
for (a notice, a QR code, the server's answer), never for a fixed time.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QWidget

from desktop.config import DisplaySettings
from desktop.config_writer import save_config
from desktop.demo_assets import demo_config, demo_videos
from desktop.logs import log_to_rotating_file
from server.cli import ServerThread
from ui.app import BoothApp, BoothSession, create_application

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
Step = tuple[str, Callable[[], bool], Callable[[], None]]


def grab(name: str) -> None:
    """Save the whole virtual screen as it is now."""
    QApplication.processEvents()
    screen = QGuiApplication.primaryScreen()
    path = OUT / f"{name}.png"
    screen.grabWindow(0).save(str(path))
    print(f"saved {path}")


def key(widget: QWidget | None, code: Qt.Key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    assert widget is not None, "no widget to type into"
    widget.activateWindow()  # no window manager on Xvfb gives focus back by itself
    QTest.keyClick(widget, code, modifier)


def shortcut(window: QWidget, sequence: str) -> None:
    """Trigger the window's action for ``sequence`` (no window manager gives it focus)."""
    for action in window.findChildren(QAction):
        if action.shortcut().toString() == sequence:
            action.trigger()
            return
    raise AssertionError(f"no action for {sequence}")


def type_into(name: str, text: str) -> None:
    field = QApplication.activeModalWidget().findChild(QLineEdit, name)
    assert field is not None, f"no field {name}"
    field.setFocus()
    QTest.keyClicks(field, text)


def run_steps(app: QApplication, steps: Iterator[Step]) -> None:
    """Advance through ``steps`` as their conditions come true (polled on a timer)."""
    current: list[Step | None] = [next(steps, None)]
    timer = QTimer()

    def tick() -> None:
        step = current[0]
        if step is None:
            timer.stop()
            app.quit()
            return
        name, ready, act = step
        if ready():
            print(f"step: {name}")
            current[0] = next(steps, None)
            # Run the action after this tick returns: one that opens a modal dialog runs a
            # nested event loop, and Qt does not re-fire a timer whose slot is still running.
            QTimer.singleShot(0, act)

    timer.timeout.connect(tick)
    timer.start(200)
    QTimer.singleShot(240_000, lambda: (print("timed out", file=sys.stderr), app.exit(1)))
    app.exec()


def review_window() -> QWidget | None:
    """The supervisor's review window, when it is open."""
    return next(
        (
            w
            for w in QApplication.topLevelWidgets()
            if type(w).__name__ == "ReviewWindow" and w.isVisible()
        ),
        None,
    )


def supervisor_steps(session: BoothSession) -> list[Step]:
    """Sync the dispute and its evidence, log a supervisor in (F10), shoot the review
    window with B0LT123's evidence and its audit log, and close it."""

    def log_in() -> None:
        type_into("supervisorUsername", "super")
        type_into("supervisorPassword", "demo-supervisor")
        QApplication.activeModalWidget().submit()

    def flags_listed() -> bool:
        review = review_window()
        return review is not None and not review.loading and "B0LT123" in review.shown_plates()

    def place_review() -> None:
        review = review_window()
        review.move(0, 0)
        review.resize(1600, 1000)
        review.select_plate("B0LT123")

    def evidence_shown() -> bool:
        pane = review_window().evidence_pane
        return not pane.loading and bool(pane.shown_images())

    def is_modal(name: str) -> Callable[[], bool]:
        return lambda: type(QApplication.activeModalWidget()).__name__ == name

    return [
        ("sync", lambda: QApplication.activeModalWidget() is None, session.booth.sync_now),
        ("F10", lambda: True, lambda: shortcut(session.window, "F10")),
        ("login", is_modal("SupervisorLoginDialog"), log_in),
        ("flags", flags_listed, place_review),
        ("evidence", evidence_shown, lambda: grab("supervisor-review")),
        ("audit", lambda: True, lambda: review_window().show_audit_of_selected()),
        ("audit shot", lambda: review_window().audit.loaded_once, lambda: grab("supervisor-audit")),
        ("close review", lambda: True, lambda: review_window().close()),
    ]


def main() -> int:
    if not os.environ.get("DISPLAY"):
        print("Run under Xvfb: see this script's docstring.", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="recoup-shots-") as folder:
        data = Path(folder)
        log_file = log_to_rotating_file(Path(os.environ.get("RECOUP_SHOTS_LOGS", data / "logs")))
        videos = demo_videos()
        server = ServerThread(database_url=f"sqlite:///{data / 'server.sqlite3'}", seed_demo=True)
        server.start()
        config = demo_config(server.url, data / "booth", videos)
        save_config(config, data / "booth.toml")
        app = create_application(sys.argv[:1])
        booth_app = BoothApp(
            app,
            config,
            config_path=data / "booth.toml",
            log_file=log_file,
            title="Recoup - demo booth (supervisor PIN 1234)",
            confirm_close=False,
        )
        booth_app.sound.enabled = False
        session = booth_app.start()
        session.window.move(0, 0)
        session.window.resize(1600, 1000)

        handled: set[object] = set()

        def next_notice() -> bool:
            """A notice not handled yet is on screen (lanes raise them in any order)."""
            current = session.presenter.current
            if current is None or not current.isVisible():
                return False
            if current.notice.notice_id in handled:
                return False
            handled.add(current.notice.notice_id)
            return True

        def modal(name: str) -> Callable[[], bool]:
            return lambda: (
                (w := QApplication.activeModalWidget()) is not None
                and (w.objectName() == name or type(w).__name__ == name)
            )

        def dialog() -> QWidget:
            return session.presenter.current

        def label_shows(name: str) -> Callable[[], bool]:
            def ready() -> bool:
                current = session.presenter.current
                label = current.findChild(QLabel, name) if current else None
                return (
                    label is not None and label.isVisible() and bool(label.text() or label.pixmap())
                )

            return ready

        def pay_by_phone() -> None:
            url = session.presenter.current.findChild(QLabel, "qrUrl").text().strip()
            requests.post(url, timeout=10).raise_for_status()

        def in_chinese() -> None:
            chinese = config.model_copy(update={"display": DisplaySettings(language="zh_CN")})
            booth_app.apply(chinese)
            booth_app.session.window.move(0, 0)
            booth_app.session.window.resize(1600, 1000)

        def chinese_reads_shown() -> bool:
            current = booth_app.session
            return current is not session and current.window.reads_list.model.rowCount() >= 2

        always = lambda: True  # noqa: E731
        steps: list[Step] = [
            ("next notice (ABC123 or another)", next_notice, lambda: grab("notice")),
            ("cash", always, lambda: key(dialog(), Qt.Key.Key_F5)),
            ("tender 20", always, lambda: type_into("cashTendered", "20")),
            ("cash shot", always, lambda: grab("notice-cash")),
            (
                "confirm cash",
                always,
                lambda: key(dialog(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier),
            ),
            ("recorded", label_shows("noticeConfirmation"), lambda: grab("notice-cash-recorded")),
            ("close", always, lambda: key(dialog(), Qt.Key.Key_Return)),
            ("next notice (7XYZ042 or another)", next_notice, lambda: key(dialog(), Qt.Key.Key_F6)),
            ("card ref", always, lambda: type_into("cardReference", "TRM-00417")),
            ("card shot", always, lambda: grab("notice-card")),
            (
                "confirm card",
                always,
                lambda: key(dialog(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier),
            ),
            (
                "card recorded",
                label_shows("noticeConfirmation"),
                lambda: key(dialog(), Qt.Key.Key_Return),
            ),
            ("next notice (PQR789 or another)", next_notice, lambda: key(dialog(), Qt.Key.Key_F7)),
            ("qr shown", label_shows("qrCode"), lambda: grab("notice-qr")),
            ("pay by phone", always, pay_by_phone),
            ("qr paid", label_shows("noticeConfirmation"), lambda: grab("notice-qr-paid")),
            ("close qr", always, lambda: key(dialog(), Qt.Key.Key_Return)),
            ("next notice (B0LT123 or another)", next_notice, lambda: key(dialog(), Qt.Key.Key_F9)),
            ("let through", always, lambda: grab("notice-let-through")),
            ("dispute", always, lambda: key(dialog(), Qt.Key.Key_F8)),
            ("reason", always, lambda: type_into("disputeReason", "Says the car was sold in May")),
            ("dispute shot", always, lambda: grab("notice-dispute")),
            (
                "confirm dispute",
                always,
                lambda: key(dialog(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier),
            ),
            (
                "dispute recorded",
                label_shows("noticeConfirmation"),
                lambda: key(dialog(), Qt.Key.Key_Return),
            ),
            ("main window", lambda: session.presenter.current is None, lambda: grab("main-window")),
            ("F2", always, lambda: shortcut(session.window, "F2")),
            ("manual", modal("manualEntryDialog"), lambda: type_into("manualPlate", "7xyz 042")),
            ("manual shot", always, lambda: grab("manual-entry")),
            (
                "manual cancel",
                always,
                lambda: key(QApplication.activeModalWidget(), Qt.Key.Key_Escape),
            ),
            *supervisor_steps(session),
            (
                "F9",
                lambda: QApplication.activeModalWidget() is None and review_window() is None,
                lambda: shortcut(session.window, "F9"),
            ),
            ("pin", modal("supervisorPinDialog"), lambda: type_into("pinField", "1234")),
            ("pin shot", always, lambda: grab("supervisor-pin")),
            (
                "unlock",
                always,
                lambda: key(
                    QApplication.activeModalWidget().findChild(QLineEdit, "pinField"),
                    Qt.Key.Key_Return,
                ),
            ),
            ("settings", modal("SettingsDialog"), lambda: grab("settings")),
            (
                "lanes page",
                always,
                lambda: QApplication.activeModalWidget().page_list.setCurrentRow(1),
            ),
            ("lanes shot", always, lambda: grab("settings-lanes")),
            (
                "settings close",
                always,
                lambda: key(QApplication.activeModalWidget(), Qt.Key.Key_Escape),
            ),
            ("chinese", lambda: QApplication.activeModalWidget() is None, in_chinese),
            ("chinese lanes live", chinese_reads_shown, lambda: grab("main-window-zh")),
        ]
        try:
            run_steps(app, iter(steps))
        finally:
            booth_app.shutdown()
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
