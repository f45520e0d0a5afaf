"""Settings page "Recognition": the plate format region (with a Chinese booth's local
province) and the local OCR engine."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFormLayout,
    QLabel,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from desktop.config import BoothConfig
from desktop.plates import CN_PROVINCES
from desktop.recognition.engine import ENGINE_NAMES
from ui.settings.page import SettingsPage, heading, key_matches, note

EngineCheck = Callable[[str], bool]

#: The Python package each engine needs (checked without importing it).
ENGINE_PACKAGES = {"rapidocr": "rapidocr", "easyocr": "easyocr"}
REGIONS = ("cn", "us", "eu", "br", "generic")


def engine_installed(name: str) -> bool:
    """True when the package behind OCR engine ``name`` is installed (nothing is loaded)."""
    return importlib.util.find_spec(ENGINE_PACKAGES.get(name, name)) is not None


class RecognitionPage(SettingsPage):
    """Plate region and OCR engine; engines that are not installed are shown disabled."""

    def __init__(
        self,
        config: BoothConfig,
        parent: QWidget | None = None,
        *,
        engine_available: EngineCheck = engine_installed,
    ) -> None:
        super().__init__(parent)
        region_names = {
            "cn": self.tr("China"),
            "us": self.tr("United States"),
            "eu": self.tr("Europe"),
            "br": self.tr("Brazil"),
            "generic": self.tr("Other (any format)"),
        }
        self.region_combo = QComboBox(self)
        for code in REGIONS:
            self.region_combo.addItem(region_names[code], code)
        self.region_combo.setCurrentIndex(REGIONS.index(config.plates.region))
        self.province_combo = QComboBox(self)
        self.province_combo.addItem(self.tr("None"), None)
        for province in CN_PROVINCES:
            self.province_combo.addItem(province, province)
        self.province_combo.setCurrentIndex(
            max(0, self.province_combo.findData(config.plates.local_province))
        )
        self.province_combo.setToolTip(
            self.tr(
                "Chinese plates only: given to a plate whose own province character "
                "cannot be read (dirt, a cover)."
            )
        )
        self.region_combo.currentIndexChanged.connect(self._enable_province)
        self._enable_province()

        engine_titles = {
            "rapidocr": self.tr("RapidOCR (fast, built in)"),
            "easyocr": self.tr("EasyOCR (optional, slower)"),
        }
        install_hints = {
            "rapidocr": self.tr("RapidOCR is not installed: reinstall Recoup to restore it."),
            "easyocr": self.tr(
                "EasyOCR is not installed: run scripts/install-easyocr.sh on this PC, "
                "then restart Recoup."
            ),
        }
        self.engine_group = QButtonGroup(self)
        self.engine_buttons: dict[str, QRadioButton] = {}
        engines = QVBoxLayout()
        for name in ENGINE_NAMES:
            button = QRadioButton(engine_titles.get(name, name), self)
            button.setChecked(name == config.ocr.engine)
            self.engine_group.addButton(button)
            self.engine_buttons[name] = button
            engines.addWidget(button)
            if not engine_available(name):
                button.setEnabled(False)
                hint = install_hints.get(name, self.tr("This engine is not installed."))
                button.setToolTip(hint)
                engines.addWidget(note(hint, self, "warning"))

        form = QFormLayout()
        form.addRow(self.tr("Plate format"), self.region_combo)
        form.addRow(self.tr("Local province"), self.province_combo)
        engines_label = QLabel(self.tr("OCR engine"), self)
        form.addRow(engines_label, engines)

        layout = QVBoxLayout(self)
        layout.addWidget(heading(self.tr("Recognition"), self))
        layout.addWidget(
            note(
                self.tr(
                    "The plate format checks and corrects what the camera reads. "
                    "The OCR engine reads the plates on this PC."
                ),
                self,
            )
        )
        layout.addLayout(form)
        layout.addStretch(1)

    def title(self) -> str:
        """The page's name."""
        return self.tr("Recognition")

    def _enable_province(self) -> None:
        self.province_combo.setEnabled(self.region_combo.currentData() == "cn")

    def contribute(self, values: dict[str, Any]) -> list[str]:
        """Write the region, the local province and the engine into ``values``."""
        values["plates"]["region"] = self.region_combo.currentData()
        values["plates"]["local_province"] = self.province_combo.currentData()
        for name, button in self.engine_buttons.items():
            if button.isChecked():
                values["ocr"]["engine"] = name
        return []

    def focus_problem(self, key: str) -> bool:
        """Focus the region or engine named by ``key``."""
        if key_matches(key, "plates.local_province"):
            self.province_combo.setFocus()
            return True
        if key_matches(key, "plates"):
            self.region_combo.setFocus()
            return True
        if key_matches(key, "ocr"):
            next(iter(self.engine_buttons.values())).setFocus()
            return True
        return False
