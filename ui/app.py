"""The booth application: Qt set-up, one running session per configuration, crash safety.

A :class:`BoothSession` is everything that runs for one configuration (booth core,
cameras and recognition, the bridge, the main window and its dialogs). Saving new
settings stops the session and starts a new one on the new configuration; the local
database and the outbox carry over, so nothing is lost in the switch.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThreadPool
from PySide6.QtGui import QCloseEvent, QFontDatabase, QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop.booth import BoothService
from desktop.config import BoothConfig
from desktop.lanes import LanePipeline
from desktop.resources import resource_path
from desktop.supervisor_client import SupervisorClient
from desktop.supervisor_client import client_from_config as supervisor_client_from_config
from desktop.supervisor_models import SupervisorLogin
from desktop.supervisor_pin import verify_pin
from desktop.supervisor_session import SupervisorSessionCache
from ui.background import run_in_background
from ui.bridge import BoothBridge
from ui.crash import CrashReporter
from ui.gc_guard import GuiThreadGarbageCollector
from ui.i18n import add_cjk_font, install_translator
from ui.main_window import MainWindow
from ui.manual_entry import ManualEntryDialog
from ui.notice_presenter import NoticePresenter
from ui.pin_dialog import ask_supervisor_pin
from ui.settings import SettingsDialog
from ui.shift_report import ShiftReportDialog
from ui.sound import AlertSound
from ui.supervisor.login_dialog import SupervisorLoginDialog
from ui.supervisor.review_window import ReviewWindow

log = logging.getLogger(__name__)

APP_NAME = "Recoup"
WINDOW_SIZE = (1440, 900)
SHUTDOWN_WAIT_MS = 15_000
BASE_POINT_SIZE = 14  # large type: read at arm's length in a booth


def create_application(argv: list[str]) -> QApplication:
    """The QApplication with the booth's name, icon, fonts and style sheet."""
    app = QApplication.instance() or QApplication(argv)
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setWindowIcon(QIcon(str(resource_path("icons", "recoup.svg"))))
    for font in ("DejaVuSans-Bold.ttf", "DejaVuSansCondensed-Bold.ttf"):
        QFontDatabase.addApplicationFont(str(resource_path("fonts", font)))
    font = app.font()
    font.setPointSize(BASE_POINT_SIZE)
    app.setFont(font)
    # Chinese plates (and the settings' province list) show Chinese characters whatever
    # the screen's language: a PC without a CJK font would show boxes.
    add_cjk_font(app)
    style = resource_path("style.qss")
    if style.is_file():
        app.setStyleSheet(style.read_text(encoding="utf-8"))
    return app


def show_startup_problem(message: str) -> None:
    """A blocking message box for a booth that cannot start (no console to read)."""
    app = create_application(sys.argv[:1])
    box = QMessageBox(QMessageBox.Icon.Critical, APP_NAME, message)
    box.setObjectName("startupProblem")
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.exec()
    app.processEvents()


class BoothSession(QObject):
    """One configuration running: core, lanes, bridge, main window and notices."""

    def __init__(
        self,
        config: BoothConfig,
        *,
        sound: AlertSound,
        title: str = APP_NAME,
        confirm_close: bool = True,
    ) -> None:
        super().__init__()
        self.config = config
        self.booth = BoothService.from_config(config)
        self.bridge = BoothBridge(self.booth)
        self.lanes = LanePipeline(config, self.bridge.submit_vehicle)
        lane_names = [lane.name for lane in config.lanes]
        self.window = MainWindow(
            self.bridge,
            self.lanes.cameras if lane_names else None,
            attendant=config.booth.attendant,
            lanes=lane_names,
        )
        self.window.setWindowTitle(title)
        self.window.resize(*WINDOW_SIZE)
        self.presenter = NoticePresenter(
            self.window,
            self.bridge,
            exit_policy=config.recovery.exit_policy,
            verify_pin=self.verify_supervisor_pin,
            sound=sound,
        )
        self.window.notice_requested.connect(self.presenter.present)
        self.window.manual_entry_requested.connect(self.enter_plate)
        self.window.shift_report_requested.connect(self.open_shift_report)
        self.window.supervisor_requested.connect(self.open_supervisor)
        self._confirm_close = confirm_close
        self._stopped = False

    def verify_supervisor_pin(self, pin: str) -> bool:
        """True when ``pin`` is the supervisor PIN of this booth's configuration."""
        return verify_pin(pin, self.config.supervisor.pin_hash)

    def start(self) -> None:
        """Start sync and cameras at once, and recognition once its models are loaded."""
        self.booth.start()
        if self.config.lanes:
            self.lanes.start_cameras()
            self.bridge.watch_cameras(self.lanes.cameras)
            run_in_background(
                self.lanes.start_recognition,
                lambda _none: self._say(self.tr("Plate recognition is running.")),
                self._recognition_failed,
                owner=self,
            )

    def _recognition_failed(self, error: Exception) -> None:
        log.error("plate recognition could not start: %s", error)
        QMessageBox.warning(
            self.window,
            self.tr("Plate recognition unavailable"),
            self.tr(
                "Plates cannot be read from the cameras: {error}\n\n"
                "Type plates with F2 meanwhile, and ask IT to check the OCR engine setting."
            ).format(error=error),
        )

    def _say(self, message: str) -> None:
        self.window.statusBar().showMessage(message, 8000)

    def enter_plate(self) -> None:
        """F2: the attendant types a plate the camera missed."""
        lanes = [lane.name for lane in self.config.lanes] or [self.config.booth.id]
        dialog = ManualEntryDialog(lanes, parent=self.window)
        if dialog.exec():
            try:
                self.bridge.check_manual(dialog.plate, dialog.lane)
            except ValueError as error:
                QMessageBox.information(self.window, self.tr("Enter plate"), str(error))

    def open_shift_report(self) -> ShiftReportDialog:
        """F11: this attendant's shift report for today (figures from the booth's store)."""
        dialog = ShiftReportDialog(
            self.booth.store,
            self.config.booth.attendant,
            self.window,
            booth_id=self.booth.booth_id,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def open_supervisor(self) -> SupervisorLoginDialog:
        """F10: log a supervisor in; online, the review window opens."""
        dialog = SupervisorLoginDialog(
            lambda: supervisor_client_from_config(self.config.server),
            SupervisorSessionCache(self.config.data_dir),
            self.window,
            offline_hours=self.config.supervisor.offline_hours,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._supervisor_logged_in(dialog.client, dialog.login))
        dialog.open()
        return dialog

    def _supervisor_logged_in(
        self, client: SupervisorClient | None, login: SupervisorLogin | None = None
    ) -> ReviewWindow | None:
        if client is None or not client.logged_in:
            QMessageBox.information(
                self.window,
                self.tr("Supervisor"),
                self.tr("Logged in offline: the review needs the server; try again when online."),
            )
            return None
        review = ReviewWindow(client, self.window, login=login)
        review.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        review.closed.connect(
            lambda: run_in_background(
                client.logout, lambda _r: client.close(), lambda _e: client.close()
            )
        )
        review.show()
        return review

    def stop(self) -> None:
        """Stop recognition, cameras, sync and close the window (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        self.lanes.stop()
        self.bridge.close()
        self.booth.stop()
        self.window.close()


class BoothApp(QObject):
    """The running booth: applies settings by restarting its session."""

    def __init__(
        self,
        app: QApplication,
        config: BoothConfig,
        *,
        config_path: Path | None,
        log_file: Path,
        title: str = APP_NAME,
        confirm_close: bool = True,
        on_session: Callable[[BoothSession], None] | None = None,
    ) -> None:
        super().__init__()
        self.app = app
        self.config = config
        self.config_path = config_path
        self.title = title
        self.confirm_close = confirm_close
        self.crashes = CrashReporter(log_file, self)
        self.garbage = GuiThreadGarbageCollector(self)
        self.sound = AlertSound(enabled=config.display.sound)
        self.session: BoothSession | None = None
        self._translator = install_translator(app, config.display.language)
        self._on_session = on_session or (lambda _session: None)

    def start(self) -> BoothSession:
        """Install the crash hooks and show the main window."""
        self.crashes.install()
        return self._open_session()

    def _open_session(self) -> BoothSession:
        session = BoothSession(
            self.config, sound=self.sound, title=self.title, confirm_close=self.confirm_close
        )
        session.window.settings_requested.connect(self.open_settings)
        session.window.installEventFilter(self)
        self.session = session
        session.start()
        session.window.show()
        self._on_session(session)
        return session

    def open_settings(self) -> None:
        """F9: after the supervisor's PIN, edit and apply the configuration."""
        session = self.session
        if session is None:
            return
        if self.config_path is None:
            QMessageBox.information(
                session.window,
                self.tr("Settings"),
                self.tr("This booth runs without a configuration file; settings are read-only."),
            )
            return
        if not ask_supervisor_pin(
            session.window, session.verify_supervisor_pin, self.tr("open the settings")
        ):
            return
        dialog = SettingsDialog(self.config, self.config_path, parent=session.window)
        dialog.saved.connect(self.apply)
        dialog.exec()

    def apply(self, config: BoothConfig) -> None:
        """Restart the session on ``config`` (language and sound included)."""
        log.info("applying new settings")
        if config.display.language != self.config.display.language:
            if self._translator is not None:
                self.app.removeTranslator(self._translator)
            self._translator = install_translator(self.app, config.display.language)
        self.sound.enabled = config.display.sound
        self.config = config
        if self.session is not None:
            self.session.window.removeEventFilter(self)
            self.session.stop()
        self._open_session()

    def eventFilter(self, watched: QObject, event: object) -> bool:  # noqa: N802 - Qt API
        """Closing the main window ends the booth (after confirmation on a real booth)."""
        session = self.session
        if (
            session is not None
            and watched is session.window
            and isinstance(event, QCloseEvent)
            and not session._stopped
        ):
            if self.confirm_close and not self._confirm_quit(session):
                event.ignore()
                return True
            self.shutdown()
        return False

    def _confirm_quit(self, session: BoothSession) -> bool:
        answer = QMessageBox.question(
            session.window,
            self.tr("Quit Recoup"),
            self.tr("Stop reading plates at this booth and quit?"),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def shutdown(self) -> None:
        """Stop the session and the hooks."""
        if self.session is not None:
            session, self.session = self.session, None
            session.window.removeEventFilter(self)
            session.stop()
        self.crashes.uninstall()
        self.garbage.stop()


def run(app: QApplication, booth_app: BoothApp) -> int:
    """Show the booth and run Qt's event loop until the window closes."""
    booth_app.start()
    app.setQuitOnLastWindowClosed(True)
    app.aboutToQuit.connect(booth_app.shutdown)
    code = app.exec()
    # Let background calls (an OCR engine still loading, a server call) finish before
    # the interpreter exits under them.
    QThreadPool.globalInstance().waitForDone(SHUTDOWN_WAIT_MS)
    return int(code)


__all__ = ["BoothApp", "BoothSession", "create_application", "run"]
