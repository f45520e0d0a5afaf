"""Settings page "Server": the operator server's URL, this booth's id and token, a test."""

from __future__ import annotations

import os
from functools import partial
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.client import ServerRejected, ServerUnavailable
from desktop.config import TOKEN_ENV_VAR, BoothConfig
from desktop.domain import Ping
from ui.background import run_in_background
from ui.format import format_local_time
from ui.roles import set_role
from ui.settings.connection import ping_server
from ui.settings.page import SettingsPage, heading, key_matches, note


class ServerPage(SettingsPage):
    """Server URL, booth id and token (masked; empty keeps the current one), and a test."""

    def __init__(self, config: BoothConfig, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._config = config
        self._current_token = (
            config.booth.token.get_secret_value() if config.booth.token is not None else ""
        )

        self.url_field = QLineEdit(config.server.url, self)
        self.url_field.setPlaceholderText("https://parking.example.com")
        self.booth_id_field = QLineEdit(config.booth.id, self)
        self.token_field = QLineEdit(self)
        self.token_field.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_field.setPlaceholderText(
            self.tr("unchanged") if self._current_token else self.tr("not set")
        )
        self.show_token = QCheckBox(self.tr("Show"), self)
        self.show_token.toggled.connect(self._show_token)
        self.test_button = QPushButton(self.tr("Test connection"), self)
        self.test_button.clicked.connect(self.test_connection)
        self.result_label = QLabel(self)
        self.result_label.setWordWrap(True)

        token_row = QHBoxLayout()
        token_row.addWidget(self.token_field, 1)
        token_row.addWidget(self.show_token)
        form = QFormLayout()
        form.addRow(self.tr("Server address"), self.url_field)
        form.addRow(self.tr("Booth ID"), self.booth_id_field)
        form.addRow(self.tr("Booth token"), token_row)

        layout = QVBoxLayout(self)
        layout.addWidget(heading(self.tr("Server"), self))
        layout.addWidget(
            note(self.tr("The operator server that keeps parking history and the blacklist."), self)
        )
        layout.addLayout(form)
        if self._current_token:
            token_note = self.tr("A token is set. Leave the field empty to keep it.")
        else:
            token_note = self.tr("No token is set yet: enter the token issued for this booth.")
        layout.addWidget(note(token_note, self))
        if os.environ.get(TOKEN_ENV_VAR, "").strip():
            layout.addWidget(
                note(
                    self.tr(
                        "The environment variable {name} sets the token; it wins over a "
                        "token entered here."
                    ).format(name=TOKEN_ENV_VAR),
                    self,
                    "warning",
                )
            )
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addStretch(1)
        layout.addLayout(test_row)
        layout.addWidget(self.result_label)
        layout.addStretch(1)

    def title(self) -> str:
        """The page's name."""
        return self.tr("Server")

    def new_token(self) -> str | None:
        """The token typed in the field, or None when it was left empty (keep the current)."""
        return self.token_field.text().strip() or None

    def contribute(self, values: dict[str, Any]) -> list[str]:
        """Write the URL, booth id and a newly typed token into ``values``."""
        values["server"]["url"] = self.url_field.text().strip()
        values["booth"]["id"] = self.booth_id_field.text().strip()
        token = self.new_token()
        if token is None:
            return []
        if any(char.isspace() or not char.isprintable() for char in token):
            return ["booth.token: " + self.tr("the token must not contain spaces")]
        values["booth"]["token"] = token
        return []

    def focus_problem(self, key: str) -> bool:
        """Focus the URL, booth id or token field named by ``key``."""
        for prefix, field in (
            ("server", self.url_field),
            ("booth.id", self.booth_id_field),
            ("booth.token", self.token_field),
        ):
            if key_matches(key, prefix):
                field.setFocus()
                field.selectAll()
                return True
        return False

    # ----------------------------------------------------------------- connection test

    def test_connection(self) -> None:
        """Ping the server with the values on the page, in the background."""
        token = self.new_token() or self._current_token
        url = self.url_field.text().strip()
        if not url:
            self._show_result(self.tr("Enter the server address first."), "danger")
            return
        if not token:
            self._show_result(self.tr("Enter the booth token first."), "danger")
            return
        self.test_button.setEnabled(False)
        self._show_result(self.tr("Connecting..."), "muted")
        booth_id = self.booth_id_field.text().strip()
        run_in_background(
            partial(ping_server, url, token, booth_id, self._config.server),
            partial(self._connected, booth_id),
            partial(self._failed, token),
            owner=self,
        )

    def _connected(self, booth_id: str, ping: Ping) -> None:
        self.test_button.setEnabled(True)
        text = self.tr("Connected, server time {time}.").format(
            time=format_local_time(ping.server_time, with_date=True)
        )
        if booth_id and ping.booth_id != booth_id:
            text += " " + self.tr(
                "But the server knows this token as booth {server_id}, not {booth_id}."
            ).format(server_id=ping.booth_id, booth_id=booth_id)
            self._show_result(text, "warning")
            return
        self._show_result(text, "ok")

    def _failed(self, token: str, exc: Exception) -> None:
        self.test_button.setEnabled(True)
        detail = str(exc).replace(token, "***") if token else str(exc)
        if isinstance(exc, ServerUnavailable):
            text = self.tr("Cannot connect to the server: {detail}").format(detail=detail)
        elif isinstance(exc, ServerRejected) and exc.bad_token:
            text = self.tr("The server refused the booth token. Check the token and booth ID.")
        elif isinstance(exc, ServerRejected):
            text = self.tr("The server refused the request: {detail}").format(detail=detail)
        elif isinstance(exc, ValueError):
            text = self.tr("Cannot test: {detail}").format(detail=detail)
        else:
            text = self.tr("The server's answer was not understood: {detail}").format(detail=detail)
        self._show_result(text, "danger")

    def _show_result(self, text: str, role: str) -> None:
        self.result_label.setText(text)
        set_role(self.result_label, role)

    def _show_token(self, shown: bool) -> None:
        mode = QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password
        self.token_field.setEchoMode(mode)
