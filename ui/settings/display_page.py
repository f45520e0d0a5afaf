"""Settings page "Screen and sound": the booth's language and the alert sound."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QVBoxLayout, QWidget

from desktop.config import BoothConfig
from ui.settings.page import SettingsPage, heading, key_matches

#: Each language named in itself, so a supervisor finds their own in any language.
LANGUAGE_NAMES = {"en": "English", "zh_CN": "简体中文"}


class DisplayPage(SettingsPage):
    """Language (English / Simplified Chinese) and sound on or off."""

    def __init__(self, config: BoothConfig, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.language_combo = QComboBox(self)
        for code, name in LANGUAGE_NAMES.items():
            self.language_combo.addItem(name, code)
        self.language_combo.setCurrentIndex(list(LANGUAGE_NAMES).index(config.display.language))
        self.sound_box = QCheckBox(self.tr("Play the alert sound with each notice"), self)
        self.sound_box.setChecked(config.display.sound)

        form = QFormLayout()
        form.addRow(self.tr("Language"), self.language_combo)
        layout = QVBoxLayout(self)
        layout.addWidget(heading(self.tr("Screen and sound"), self))
        layout.addLayout(form)
        layout.addWidget(self.sound_box)
        layout.addStretch(1)

    def title(self) -> str:
        """The page's name."""
        return self.tr("Screen and sound")

    def contribute(self, values: dict[str, Any]) -> list[str]:
        """Write the language and sound setting into ``values``."""
        values["display"]["language"] = self.language_combo.currentData()
        values["display"]["sound"] = self.sound_box.isChecked()
        return []

    def focus_problem(self, key: str) -> bool:
        """Focus the language choice for ``display`` problems."""
        if key_matches(key, "display"):
            self.language_combo.setFocus()
            return True
        return False
