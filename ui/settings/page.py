"""What every page of the settings dialog offers, and shared layout helpers."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLabel, QWidget

from ui.roles import scaled_font, set_role


class SettingsPage(QWidget):
    """One page of the settings dialog: edits part of the configuration's values.

    ``values`` is the configuration as a plain dict (``BoothConfig.model_dump()``); a page
    writes what it edits into it and returns problems it found itself, each as
    ``"dotted.key: reason"``. The dialog validates the whole result afterwards.
    """

    def title(self) -> str:
        """The page's name in the dialog's page list."""
        raise NotImplementedError

    def contribute(self, values: dict[str, Any]) -> list[str]:
        """Write this page's settings into ``values``; return problems found on the way."""
        raise NotImplementedError

    def focus_problem(self, key: str) -> bool:
        """Move the keyboard focus to the field behind ``key``; False if not on this page."""
        return False


def heading(text: str, parent: QWidget) -> QLabel:
    """A page's large heading."""
    label = QLabel(text, parent)
    font = scaled_font(label, 1.3, bold=True)
    # A widget style sheet, so the heading stays larger under the app's style sheet too.
    label.setStyleSheet(f"font-size: {max(font.pointSizeF(), 18):.0f}pt; font-weight: bold;")
    return label


def note(text: str, parent: QWidget, role: str = "muted") -> QLabel:
    """A wrapped explanatory line under a field."""
    label = QLabel(text, parent)
    label.setWordWrap(True)
    set_role(label, role)
    return label


def key_matches(key: str, prefix: str) -> bool:
    """True when the problem ``key`` is ``prefix`` or lies under it."""
    return key == prefix or key.startswith(prefix + ".")
