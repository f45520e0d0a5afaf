"""The fonts the project ships in ``resources/fonts/``, found in the source tree or when frozen."""

from __future__ import annotations

import logging
import sys
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

log = logging.getLogger(__name__)

#: Bold Latin font for plate letters and digits.
LATIN_BOLD = "DejaVuSans-Bold.ttf"
#: Narrow bold Latin font for long plates.
LATIN_CONDENSED_BOLD = "DejaVuSansCondensed-Bold.ttf"
#: CJK font covering the Chinese province abbreviations.
CJK = "DroidSansFallbackFull.ttf"

_FONTS_DIR = Path("resources") / "fonts"


def resources_root() -> Path:
    """The folder holding ``resources/``: ``sys._MEIPASS`` when frozen, else the repository."""
    if getattr(sys, "frozen", False) and hasattr(sys, "_MEIPASS"):
        return Path(sys._MEIPASS)
    return Path(__file__).resolve().parents[2]


def font_path(name: str) -> Path:
    """The path of ``resources/fonts/<name>``; raises FileNotFoundError naming it when missing."""
    path = resources_root() / _FONTS_DIR / name
    if not path.is_file():
        raise FileNotFoundError(f"font {name!r} not found at {path}")
    return path


@lru_cache(maxsize=64)
def load_font(name: str, size: int) -> ImageFont.FreeTypeFont:
    """The shipped font ``name`` at ``size`` pixels (cached)."""
    path = font_path(name)
    log.debug("loading font %s at %d px", path, size)
    return ImageFont.truetype(str(path), size)
