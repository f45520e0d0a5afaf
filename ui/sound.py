"""The notice chime: played once per notice, never blocking the screen.

Qt's multimedia module is not part of the slim Qt install the booth ships, so the
chime is played by the operating system: ``winsound`` on Windows (the booth PCs),
a command-line player on Linux or macOS, and the system beep when there is none.
"""

from __future__ import annotations

import logging
import shutil
import sys
from pathlib import Path

from PySide6.QtCore import QProcess
from PySide6.QtWidgets import QApplication

from desktop.resources import resource_path

log = logging.getLogger(__name__)

ALERT_SOUND = resource_path("sounds", "alert.wav")
PLAYERS = (("paplay", ()), ("aplay", ("-q",)), ("afplay", ()))


class AlertSound:
    """Plays ``path`` asynchronously; ``enabled=False`` keeps the booth silent."""

    def __init__(self, path: Path = ALERT_SOUND, *, enabled: bool = True) -> None:
        self.path = path
        self.enabled = enabled
        self.played = 0

    def play(self) -> None:
        """Start the chime and return at once."""
        if not self.enabled:
            return
        self.played += 1
        if not self.path.is_file():
            log.warning("alert sound %s is missing; using the system beep", self.path)
            QApplication.beep()
            return
        if sys.platform == "win32":
            import winsound

            winsound.PlaySound(str(self.path), winsound.SND_FILENAME | winsound.SND_ASYNC)
            return
        for command, options in PLAYERS:
            program = shutil.which(command)
            if program and QProcess.startDetached(program, [*options, str(self.path)])[0]:
                return
        QApplication.beep()
