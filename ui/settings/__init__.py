"""The booth's settings dialog, opened after the supervisor PIN."""

from ui.settings.dialog import SettingsDialog

__all__ = ["SettingsDialog"]
