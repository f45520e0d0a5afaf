"""Where the app's data files live, in the source tree and in the frozen (PyInstaller) app."""

from __future__ import annotations

import sys
from pathlib import Path


def app_root() -> Path:
    """The folder holding ``resources/``: the repository, or the frozen bundle's folder."""
    bundle = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and bundle:
        return Path(bundle)
    return Path(__file__).resolve().parents[1]


def resource_path(*parts: str) -> Path:
    """A file under ``resources/``, e.g. ``resource_path("sounds", "alert.wav")``."""
    return app_root().joinpath("resources", *parts)
