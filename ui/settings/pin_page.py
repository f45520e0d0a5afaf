"""Settings page "Supervisor PIN": set a new PIN (typed twice, stored only as a hash)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRegularExpression
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import QFormLayout, QLineEdit, QVBoxLayout, QWidget

from desktop.config import BoothConfig
from ui.settings.page import SettingsPage, heading, key_matches, note

PIN_KEY = "supervisor.pin"


class PinPage(SettingsPage):
    """A new supervisor PIN, typed twice; left empty, the current PIN stays."""

    def __init__(self, config: BoothConfig, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.new_pin = self._pin_field()
        self.repeat_pin = self._pin_field()
        form = QFormLayout()
        form.addRow(self.tr("New PIN"), self.new_pin)
        form.addRow(self.tr("New PIN again"), self.repeat_pin)

        layout = QVBoxLayout(self)
        layout.addWidget(heading(self.tr("Supervisor PIN"), self))
        if config.supervisor.pin_hash:
            status = note(self.tr("A PIN is set. Leave both fields empty to keep it."), self)
        else:
            status = note(
                self.tr("No PIN is set: anyone can open the settings. Set one now."),
                self,
                "warning",
            )
        layout.addWidget(status)
        layout.addLayout(form)
        layout.addWidget(note(self.tr("4 to 12 digits. Only a hash of the PIN is stored."), self))
        layout.addStretch(1)

    def _pin_field(self) -> QLineEdit:
        field = QLineEdit(self)
        field.setEchoMode(QLineEdit.EchoMode.Password)
        field.setMaxLength(12)
        field.setValidator(QRegularExpressionValidator(QRegularExpression(r"^[0-9]{0,12}$"), field))
        return field

    def title(self) -> str:
        """The page's name."""
        return self.tr("Supervisor PIN")

    def contribute(self, values: dict[str, Any]) -> list[str]:
        """Hash a new PIN into ``values``; report PINs that differ or are too short."""
        from desktop.supervisor_pin import hash_pin, is_valid_pin

        pin, again = self.new_pin.text(), self.repeat_pin.text()
        if not pin and not again:
            return []
        if pin != again:
            return [PIN_KEY + ": " + self.tr("the two PINs are not the same")]
        if not is_valid_pin(pin):
            return [PIN_KEY + ": " + self.tr("a PIN is 4 to 12 digits")]
        values["supervisor"]["pin_hash"] = hash_pin(pin)
        return []

    def focus_problem(self, key: str) -> bool:
        """Focus the first PIN field for PIN problems."""
        if key_matches(key, "supervisor"):
            self.new_pin.setFocus()
            self.new_pin.selectAll()
            return True
        return False
