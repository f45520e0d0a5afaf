"""Supervisor login: online with username and password, offline with the cached PIN.

The password is checked by the server (in the background). When the server cannot be
reached, the dialog says so and, for a supervisor who logged in online at this booth
within ``offline_hours``, offers the PIN instead (checked against the cached hash by
:class:`desktop.supervisor_session.SupervisorSessionCache`). Offline, a supervisor has no
server token, so :attr:`client` stays None and only :attr:`offline_supervisor` is set.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QRegularExpression, Qt, QTimer, Signal
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.client import ServerRejected, ServerUnavailable
from desktop.supervisor_client import LoginRateLimited, SupervisorClient
from desktop.supervisor_models import SupervisorLogin
from desktop.supervisor_session import (
    OfflineLoginRefused,
    OfflineSupervisor,
    SupervisorSessionCache,
)
from ui.background import run_in_background
from ui.roles import set_role

log = logging.getLogger(__name__)


class SupervisorLoginDialog(QDialog):
    """Asks a supervisor to log in; accepted with :attr:`client` or :attr:`offline_supervisor`."""

    logged_in = Signal(object)  # SupervisorLogin (online) or OfflineSupervisor

    def __init__(
        self,
        client_factory: Callable[[], SupervisorClient],
        session_cache: SupervisorSessionCache,
        parent: QWidget | None = None,
        *,
        offline_hours: float = 12,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Supervisor login"))
        self.setModal(True)
        self._client_factory = client_factory
        self._cache = session_cache
        self._offline_hours = offline_hours
        self._busy = False
        self.client: SupervisorClient | None = None
        self.login: SupervisorLogin | None = None
        self.offline_supervisor: OfflineSupervisor | None = None
        self._build()
        self.login_button.clicked.connect(self.submit)
        # Queued: the field is disabled while checking, which must not happen inside its
        # own key event.
        queued = Qt.ConnectionType.QueuedConnection
        self.password_field.returnPressed.connect(self.submit, queued)
        self.offline_button.clicked.connect(self.submit_offline)
        self.pin_field.returnPressed.connect(self.submit_offline, queued)
        self.cancel_button.clicked.connect(self.reject)
        self.rejected.connect(self._close_unused_client)

    def _build(self) -> None:
        self.username_field = QLineEdit(self)
        self.username_field.setObjectName("supervisorUsername")
        self.username_field.setMaxLength(64)
        self.password_field = QLineEdit(self)
        self.password_field.setObjectName("supervisorPassword")
        self.password_field.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_field.setMaxLength(256)
        self.login_button = QPushButton(self.tr("Log in"), self)
        self.cancel_button = QPushButton(self.tr("Cancel"), self)
        self.message = QLabel(self)
        self.message.setObjectName("supervisorLoginMessage")
        self.message.setWordWrap(True)

        self.offline_box = QWidget(self)
        self.pin_field = QLineEdit(self.offline_box)
        self.pin_field.setObjectName("supervisorOfflinePin")
        self.pin_field.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin_field.setMaxLength(12)
        self.pin_field.setValidator(
            QRegularExpressionValidator(QRegularExpression(r"^[0-9]{0,12}$"), self.pin_field)
        )
        self.pin_field.setPlaceholderText(self.tr("supervisor PIN"))
        self.offline_button = QPushButton(self.tr("Log in offline with PIN"), self.offline_box)
        # Return is handled by each field (password: online, PIN: offline), not by a
        # default button that would click the wrong action.
        for button in (self.login_button, self.cancel_button, self.offline_button):
            button.setAutoDefault(False)
        offline_layout = QHBoxLayout(self.offline_box)
        offline_layout.setContentsMargins(0, 0, 0, 0)
        offline_layout.addWidget(self.pin_field)
        offline_layout.addWidget(self.offline_button)
        self.offline_box.setVisible(False)

        form = QFormLayout()
        form.addRow(self.tr("Username"), self.username_field)
        form.addRow(self.tr("Password"), self.password_field)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.login_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.offline_box)
        layout.addLayout(buttons)

    @property
    def busy(self) -> bool:
        """True while a login is being checked."""
        return self._busy

    # ----------------------------------------------------------------- online

    def submit(self) -> None:
        """Check username and password with the server (in the background)."""
        if self._busy:
            return
        username = self.username_field.text().strip()
        password = self.password_field.text()
        if not username or not password:
            self._say(self.tr("Type your username and password."), "warning")
            return
        if self.client is None:
            try:
                self.client = self._client_factory()
            except (ValueError, OSError) as exc:
                log.warning("cannot create the supervisor client: %s", exc)
                self._say(self.tr("The server address in the settings is not usable."), "danger")
                return
        client, cache = self.client, self._cache

        def work() -> SupervisorLogin:
            answer = client.login(username, password)
            cache.remember(answer.username, answer.offline_pin_hash)
            return answer

        self._set_busy(True)
        self._say(self.tr("Checking with the server..."), "muted")
        run_in_background(work, self._online_ok, self._online_failed, owner=self)

    def _online_ok(self, answer: SupervisorLogin) -> None:
        self._set_busy(False)
        self.login = answer
        self.password_field.clear()
        self.logged_in.emit(answer)
        QTimer.singleShot(0, self.accept)  # after the background relay has been released

    def _online_failed(self, error: Exception) -> None:
        self._set_busy(False)
        self.password_field.clear()
        if isinstance(error, LoginRateLimited):
            self._say(self._rate_limited_text(error.retry_after_s), "danger")
            self.offline_box.setVisible(False)
        elif isinstance(error, ServerRejected):
            self._say(error.message, "danger")
            self.password_field.setFocus()
        elif isinstance(error, ServerUnavailable):
            self._offer_offline()
        else:
            log.error("supervisor login failed", exc_info=error)
            self._say(self.tr("The login failed unexpectedly; see the log."), "danger")

    def _rate_limited_text(self, retry_after_s: int | None) -> str:
        # The server counts failures per (username, address) and per address: this booth
        # (as the server sees it) is refused for now, other addresses are not.
        if retry_after_s is None:
            return self.tr(
                "Too many failed logins from this booth. Wait a few minutes, then try again."
            )
        minutes = max(1, -(-retry_after_s // 60))  # rounded up
        return self.tr(
            "Too many failed logins from this booth. Try again in {minutes} min."
        ).format(minutes=minutes)

    def _offer_offline(self) -> None:
        username = self.username_field.text().strip().lower()
        if username in self._cache.cached_usernames():
            self._say(
                self.tr(
                    "The server cannot be reached. You can log in offline with your PIN "
                    "(valid up to {hours} hours after your last online login)."
                ).format(hours=f"{self._offline_hours:g}"),
                "warning",
            )
            self.offline_box.setVisible(True)
            self.pin_field.setFocus()
        else:
            self.offline_box.setVisible(False)
            self._say(
                self.tr(
                    "The server cannot be reached, and this supervisor has not logged in "
                    "online at this booth, so there is no offline login. Try again later."
                ),
                "danger",
            )

    # ----------------------------------------------------------------- offline

    def submit_offline(self) -> None:
        """Check the PIN against the cached hash (in the background)."""
        if self._busy:
            return
        username = self.username_field.text().strip()
        pin = self.pin_field.text()
        if not username or not pin:
            self._say(self.tr("Type your username and PIN."), "warning")
            return
        cache, hours = self._cache, self._offline_hours
        self._set_busy(True)
        self._say(self.tr("Checking the PIN..."), "muted")
        run_in_background(
            lambda: cache.offline_login(username, pin, hours),
            self._offline_ok,
            self._offline_failed,
            owner=self,
        )

    def _offline_ok(self, who: OfflineSupervisor) -> None:
        self._set_busy(False)
        self.pin_field.clear()
        self.offline_supervisor = who
        self.logged_in.emit(who)
        QTimer.singleShot(0, self.accept)  # after the background relay has been released

    def _offline_failed(self, error: Exception) -> None:
        self._set_busy(False)
        self.pin_field.clear()
        if not isinstance(error, OfflineLoginRefused):
            log.error("offline supervisor login failed", exc_info=error)
            self._say(self.tr("The PIN could not be checked; see the log."), "danger")
        elif error.reason == "expired":
            self._say(
                self.tr(
                    "Your last online login is older than {hours} hours; "
                    "an offline login is no longer allowed."
                ).format(hours=f"{self._offline_hours:g}"),
                "danger",
            )
        elif error.reason == "wrong_pin":
            self._say(self.tr("Wrong PIN; try again."), "danger")
        else:
            self._say(self.tr("This supervisor has no offline login at this booth."), "danger")

    # ----------------------------------------------------------------- helpers

    def _close_unused_client(self) -> None:
        """Cancelled without an online login: the client made for it is not needed."""
        if self.client is not None and not self.client.logged_in and not self._busy:
            self.client.close()
            self.client = None

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        for widget in (
            self.username_field,
            self.password_field,
            self.login_button,
            self.pin_field,
            self.offline_button,
        ):
            widget.setEnabled(not busy)

    def _say(self, text: str, role: str) -> None:
        self.message.setText(text)
        set_role(self.message, role)
