"""The booth's settings dialog (opened after the supervisor PIN): edit, validate, save."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.config import ENV_PREFIX, TOKEN_ENV_VAR, BoothConfig, ConfigError, validate_config
from desktop.config_writer import save_config
from desktop.token_file import save_token
from ui.roles import scaled_font, set_role
from ui.settings.display_page import DisplayPage
from ui.settings.lanes_page import LanesPage
from ui.settings.page import SettingsPage, note
from ui.settings.pin_page import PinPage
from ui.settings.policy_page import ExitPolicyPage
from ui.settings.recognition_page import EngineCheck, RecognitionPage, engine_installed
from ui.settings.server_page import ServerPage

log = logging.getLogger(__name__)

MIN_POINT_SIZE = 14.0


class SettingsDialog(QDialog):
    """Edit the booth's configuration; Save validates, writes the file and emits ``saved``.

    Save builds the new configuration from every page and validates it like
    :func:`desktop.config.load_config`. A problem is shown naming its field
    (``lanes.0.roi: ...``) and the dialog stays open; otherwise the file is written with
    :func:`desktop.config_writer.save_config` (a new token goes to the token file) and
    ``saved(BoothConfig)`` is emitted for the app to apply. Cancel changes nothing.
    """

    saved = Signal(object)

    def __init__(
        self,
        config: BoothConfig,
        config_path: Path,
        parent: QWidget | None = None,
        *,
        engine_available: EngineCheck = engine_installed,
    ) -> None:
        super().__init__(parent)
        self._config = config
        self._config_path = Path(config_path)
        self.setWindowTitle(self.tr("Recoup settings"))
        font = self.font()
        if font.pointSizeF() > 0 and font.pointSizeF() < MIN_POINT_SIZE:
            font.setPointSizeF(MIN_POINT_SIZE)
            self.setFont(font)

        self.server_page = ServerPage(config, self)
        self.lanes_page = LanesPage(config, self)
        self.recognition_page = RecognitionPage(config, self, engine_available=engine_available)
        self.policy_page = ExitPolicyPage(config, self)
        self.display_page = DisplayPage(config, self)
        self.pin_page = PinPage(config, self)
        self.pages: list[SettingsPage] = [
            self.server_page,
            self.lanes_page,
            self.recognition_page,
            self.policy_page,
            self.display_page,
            self.pin_page,
        ]

        self.page_list = QListWidget(self)
        self.page_list.setFont(scaled_font(self.page_list, 1.1))
        self.stack = QStackedWidget(self)
        for page in self.pages:
            self.page_list.addItem(page.title())
            self.stack.addWidget(self._scrollable(page))
        self.page_list.setFixedWidth(max(self.page_list.sizeHintForColumn(0) + 40, 180))
        self.page_list.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.page_list.setCurrentRow(0)

        self.problems_label = QLabel(self)
        self.problems_label.setWordWrap(True)
        self.problems_label.setTextFormat(Qt.TextFormat.PlainText)
        set_role(self.problems_label, "danger")
        self.problems_label.hide()

        self.buttons = QDialogButtonBox(self)
        self.save_button = QPushButton(self.tr("Save"), self)
        self.save_button.setDefault(True)
        set_role(self.save_button, "ok")
        self.cancel_button = QPushButton(self.tr("Cancel"), self)
        self.buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)

        body = QHBoxLayout()
        body.addWidget(self.page_list)
        body.addWidget(self.stack, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        overridden = _environment_overrides()
        if overridden:
            layout.addWidget(
                note(
                    self.tr(
                        "Set by environment variables, which win over what is saved here: {names}"
                    ).format(names=", ".join(overridden)),
                    self,
                    "warning",
                )
            )
        layout.addWidget(self.problems_label)
        layout.addWidget(self.buttons)
        self.setTabOrder(self.page_list, self.stack)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        """Room for the widest page (a camera frame) beside the page list, within the screen."""
        widest = max(page.minimumSizeHint().width() for page in self.pages)
        width = max(1024, self.page_list.width() + widest + 80)
        screen = self.screen().availableGeometry() if self.screen() is not None else None
        if screen is not None:
            width = min(width, screen.width() - 40)
        return QSize(width, 720)

    @property
    def config_path(self) -> Path:
        """The file Save writes."""
        return self._config_path

    def problems(self) -> list[str]:
        """The problems shown after the last Save, one per line (empty when none)."""
        text = self.problems_label.text()
        return text.splitlines() if self.problems_label.isVisibleTo(self) and text else []

    def build_config(self) -> BoothConfig:
        """The configuration the pages describe; raises ConfigError naming each bad field."""
        values = self._config.model_dump()
        problems: list[str] = []
        for page in self.pages:
            problems.extend(page.contribute(values))
        if problems:
            raise ConfigError(problems)
        return validate_config(values)

    def save(self) -> None:
        """Validate, write the file (and a new token), emit ``saved`` and close."""
        try:
            config = self.build_config()
        except ConfigError as exc:
            self._show_problems(exc.problems)
            return
        try:
            token = self.server_page.new_token()
            if token is not None:
                save_token(config.data_dir, token)
            save_config(config, self._config_path)
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            log.error("settings not saved to %s: %s", self._config_path, reason)
            self._show_problems(
                [
                    self.tr("Could not save the settings to {path}: {reason}").format(
                        path=self._config_path, reason=reason
                    )
                ]
            )
            return
        log.info("settings saved to %s", self._config_path)
        self._config = config
        self.problems_label.hide()
        self.saved.emit(config)
        self.accept()

    def _show_problems(self, problems: list[str]) -> None:
        self.problems_label.setText("\n".join(problems))
        self.problems_label.show()
        key = problems[0].partition(": ")[0] if problems else ""
        for index, page in enumerate(self.pages):
            if page.focus_problem(key):
                self.page_list.setCurrentRow(index)
                page.focus_problem(key)  # again, now that the page is visible
                break

    def _scrollable(self, page: QWidget) -> QScrollArea:
        area = QScrollArea(self)
        area.setWidgetResizable(True)
        area.setFrameShape(QScrollArea.Shape.NoFrame)
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        area.setWidget(page)
        return area


def _environment_overrides() -> list[str]:
    """RECOUP_* variables (other than the token) that override the saved settings."""
    names = []
    for name in os.environ:
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper == TOKEN_ENV_VAR:
            continue
        field = upper.removeprefix(ENV_PREFIX).split("__", 1)[0].lower()
        if field in BoothConfig.model_fields:
            names.append(upper)
    return sorted(names)
