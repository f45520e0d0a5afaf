"""Rendered licence plates per region profile, and random valid plate texts.

The plates are "realistic-ish": the colours, bands and proportions of real plates with
the text sized to fill the plate, drawn with the fonts the project ships (see
``resources/fonts/README.md``). They feed the recognition tests, the benchmarks' synthetic
sets and the demo lane videos.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw

from desktop.plates import CN_PROVINCES, PlateFormat, normalize, profile, validate

from .fonts import CJK, LATIN_BOLD, LATIN_CONDENSED_BOLD, load_font

log = logging.getLogger(__name__)

#: Plate styles :func:`render_plate` knows. ``cn-*`` are the Chinese blue (ordinary),
#: green gradient (new energy, 8 characters) and yellow (large vehicles) plates.
PLATE_STYLES: tuple[str, ...] = (
    "us",
    "eu",
    "br",
    "cn-blue",
    "cn-green",
    "cn-yellow",
    "cn-two-row",
    "generic",
)

DEFAULT_HEIGHT = 110
_GLYPH_SIZE = 96  # font size the glyphs are drawn at before scaling to the plate
_GLYPH_HEIGHT = 100  # common height every glyph is scaled to in the text strip

BGR = tuple[int, int, int]


@dataclass(frozen=True)
class _Layout:
    """Proportions and colours of one plate style (fractions of the plate size)."""

    aspect: float  # width / height
    background: BGR
    ink: BGR
    text_box: tuple[float, float, float, float]  # x0, y0, x1, y1 as fractions
    latin_font: str
    border: BGR | None = None
    gap: float = 0.14  # space between glyphs, in glyph heights
    # Two-row plates: the box of the upper row, which holds the first two characters.
    upper_box: tuple[float, float, float, float] | None = None


_LAYOUTS: dict[str, _Layout] = {
    "us": _Layout(
        2.0,
        (245, 243, 240),
        (110, 40, 15),
        (0.05, 0.27, 0.95, 0.80),
        LATIN_BOLD,
        border=(110, 40, 15),
        gap=0.10,
    ),
    "eu": _Layout(
        4.7,
        (250, 250, 250),
        (20, 20, 20),
        (0.115, 0.13, 0.975, 0.87),
        LATIN_CONDENSED_BOLD,
        border=(20, 20, 20),
        gap=0.12,
    ),
    "br": _Layout(
        3.08,
        (248, 248, 248),
        (25, 25, 25),
        (0.05, 0.33, 0.95, 0.92),
        LATIN_CONDENSED_BOLD,
        border=(25, 25, 25),
        gap=0.10,
    ),
    "cn-blue": _Layout(
        3.14,
        (170, 65, 5),
        (255, 255, 255),
        (0.05, 0.13, 0.95, 0.87),
        LATIN_CONDENSED_BOLD,
        border=(255, 255, 255),
    ),
    "cn-green": _Layout(
        3.43,
        (120, 215, 120),
        (15, 15, 15),
        (0.05, 0.13, 0.95, 0.87),
        LATIN_CONDENSED_BOLD,
        border=(40, 40, 40),
    ),
    "cn-yellow": _Layout(
        3.14,
        (10, 190, 250),
        (15, 15, 15),
        (0.05, 0.13, 0.95, 0.87),
        LATIN_CONDENSED_BOLD,
        border=(15, 15, 15),
    ),
    # Lorries, buses and trailers (GA 36): 440 x 220 mm, province and city letter above.
    "cn-two-row": _Layout(
        2.0,
        (10, 190, 250),
        (15, 15, 15),
        (0.06, 0.40, 0.94, 0.90),
        LATIN_CONDENSED_BOLD,
        border=(15, 15, 15),
        gap=0.25,
        upper_box=(0.22, 0.08, 0.78, 0.33),
    ),
    "generic": _Layout(
        4.0,
        (245, 245, 245),
        (20, 20, 20),
        (0.06, 0.14, 0.94, 0.86),
        LATIN_BOLD,
        border=(20, 20, 20),
    ),
}


def default_style(text: str, region: str) -> str:
    """The style a plate of ``region`` usually has: Chinese 8-character plates are green."""
    name = profile(region).name
    if name == "cn":
        return "cn-green" if len(normalize(text)) == 8 else "cn-blue"
    return name


@lru_cache(maxsize=512)
def _glyph(char: str, font_name: str) -> np.ndarray:
    """The ink of one character, cropped to its bounding box and scaled to a common height."""
    if char.isspace():
        blank = np.zeros((_GLYPH_HEIGHT, _GLYPH_HEIGHT * 2 // 5), np.uint8)
        blank.setflags(write=False)
        return blank
    font = load_font(font_name, _GLYPH_SIZE)
    canvas = Image.new("L", (_GLYPH_SIZE * 2, _GLYPH_SIZE * 2), 0)
    ImageDraw.Draw(canvas).text((_GLYPH_SIZE // 2, _GLYPH_SIZE // 4), char, font=font, fill=255)
    ink = np.asarray(canvas)
    rows, cols = np.nonzero(ink > 0)
    if rows.size == 0:
        raise ValueError(f"font {font_name} has no glyph for {char!r}")
    crop = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    width = max(1, round(crop.shape[1] * _GLYPH_HEIGHT / crop.shape[0]))
    scaled = cv2.resize(crop, (width, _GLYPH_HEIGHT), interpolation=cv2.INTER_AREA)
    scaled.setflags(write=False)
    return scaled


def _font_for(char: str, latin_font: str) -> str:
    return CJK if char in CN_PROVINCES or ord(char) > 0x2E80 else latin_font


def _text_strip(
    text: str, latin_font: str, gap: float, dot_after: int | None, *, monospace: bool = True
) -> np.ndarray:
    """A one-line ink mask of ``text``: glyphs of equal height, in fixed-width cells on plates."""
    glyphs = [_glyph(ch, _font_for(ch, latin_font)) for ch in text]
    latin_widths = [g.shape[1] for ch, g in zip(text, glyphs, strict=True) if ch.isascii()]
    cell = max(latin_widths, default=_GLYPH_HEIGHT // 2) if monospace else 0
    gap_px = round(gap * _GLYPH_HEIGHT)
    dot_px = round(0.45 * _GLYPH_HEIGHT) if dot_after is not None else 0
    widths = [max(cell, g.shape[1]) for g in glyphs]
    total = sum(widths) + gap_px * (len(glyphs) - 1) + dot_px
    strip = np.zeros((_GLYPH_HEIGHT, max(total, 1)), np.uint8)
    x = 0
    for index, (glyph, width) in enumerate(zip(glyphs, widths, strict=True)):
        left = x + (width - glyph.shape[1]) // 2
        strip[:, left : left + glyph.shape[1]] = np.maximum(
            strip[:, left : left + glyph.shape[1]], glyph
        )
        x += width
        if dot_after is not None and index + 1 == dot_after:
            centre = (x + (gap_px + dot_px) // 2, _GLYPH_HEIGHT // 2)
            cv2.circle(strip, centre, max(2, _GLYPH_HEIGHT // 14), 255, -1, cv2.LINE_AA)
            x += dot_px
        x += gap_px
    return strip


def _fit_text(strip: np.ndarray, box_w: int, box_h: int) -> np.ndarray:
    """Scale the text strip to fill a ``box_w`` x ``box_h`` box (condensed or widened a little)."""
    natural = strip.shape[1] * box_h / strip.shape[0]
    if natural > box_w:
        width = box_w
    elif natural < 0.8 * box_w:
        width = min(box_w, round(natural * 1.25))
    else:
        width = round(natural)
    fitted = cv2.resize(strip, (max(1, width), box_h), interpolation=cv2.INTER_AREA)
    mask = np.zeros((box_h, box_w), np.uint8)
    left = (box_w - fitted.shape[1]) // 2
    mask[:, left : left + fitted.shape[1]] = fitted
    return mask


def _apply_ink(plate: np.ndarray, mask: np.ndarray, origin: tuple[int, int], ink: BGR) -> None:
    x, y = origin
    region = plate[y : y + mask.shape[0], x : x + mask.shape[1]].astype(np.float32)
    alpha = (mask.astype(np.float32) / 255.0)[..., None]
    colour = np.array(ink, np.float32)
    plate[y : y + mask.shape[0], x : x + mask.shape[1]] = (
        region * (1 - alpha) + colour * alpha
    ).astype(np.uint8)


def _small_text(plate: np.ndarray, text: str, box: tuple[int, int, int, int], ink: BGR) -> None:
    """Draw a small caption (state name, country) centred in ``box`` (x, y, w, h)."""
    x, y, w, h = box
    if w < 4 or h < 4 or not text:
        return
    mask = _fit_text(_text_strip(text, LATIN_BOLD, 0.08, None, monospace=False), w, h)
    _apply_ink(plate, mask, (x, y), ink)


def _draw_eu_band(plate: np.ndarray, country: str) -> None:
    height, width = plate.shape[:2]
    band_w = round(width * 0.085)
    plate[:, :band_w] = (150, 50, 0)
    centre = (band_w // 2, round(height * 0.32))
    radius = band_w * 0.3
    for k in range(12):
        angle = 2 * np.pi * k / 12
        star = (
            round(centre[0] + radius * np.cos(angle)),
            round(centre[1] + radius * np.sin(angle)),
        )
        cv2.circle(plate, star, max(1, band_w // 22), (0, 205, 255), -1, cv2.LINE_AA)
    _small_text(
        plate,
        country,
        (round(band_w * 0.2), round(height * 0.62), round(band_w * 0.6), round(height * 0.24)),
        (255, 255, 255),
    )


def _draw_br_band(plate: np.ndarray) -> None:
    height, width = plate.shape[:2]
    band_h = round(height * 0.22)
    plate[:band_h] = (150, 60, 10)
    _small_text(
        plate,
        "BRASIL",
        (round(width * 0.35), round(band_h * 0.2), round(width * 0.3), round(band_h * 0.6)),
        (255, 255, 255),
    )
    flag = (round(width * 0.86), round(band_h * 0.18), round(width * 0.08), round(band_h * 0.64))
    fx, fy, fw, fh = flag
    plate[fy : fy + fh, fx : fx + fw] = (60, 150, 0)
    diamond = np.array(
        [
            (fx + fw // 2, fy + 1),
            (fx + fw - 2, fy + fh // 2),
            (fx + fw // 2, fy + fh - 2),
            (fx + 1, fy + fh // 2),
        ],
        np.int32,
    )
    cv2.fillConvexPoly(plate, diamond, (0, 210, 250))
    cv2.circle(plate, (fx + fw // 2, fy + fh // 2), max(1, fh // 4), (120, 40, 0), -1)


def _green_gradient(plate: np.ndarray) -> None:
    height = plate.shape[0]
    top = np.array((235, 250, 235), np.float32)
    bottom = np.array((90, 200, 60), np.float32)
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    plate[:] = (top * (1 - t) + bottom * t).astype(np.uint8)


def render_plate(
    text: str,
    region: str = "generic",
    style: str | None = None,
    *,
    height: int = DEFAULT_HEIGHT,
    top_line: str | None = None,
    country: str = "D",
) -> np.ndarray:
    """A BGR image of a plate showing ``text`` (normalized first), in the style of ``region``.

    ``style`` is one of :data:`PLATE_STYLES` (default: :func:`default_style`). ``top_line``
    adds a state-like caption on ``us`` plates; ``country`` is the code in the EU band.
    Chinese plates get the separator dot after the second character.
    """
    plate_text = normalize(text)
    if not plate_text:
        raise ValueError(f"plate text {text!r} has no letters or digits")
    style = style or default_style(plate_text, region)
    try:
        layout = _LAYOUTS[style]
    except KeyError:
        raise ValueError(f"unknown plate style {style!r}; use one of {PLATE_STYLES}") from None
    if validate(plate_text, region) is None:
        log.debug("rendering %s, which fits no %s format", plate_text, region)
    width = round(height * layout.aspect)
    plate = np.empty((height, width, 3), np.uint8)
    plate[:] = layout.background
    if style == "cn-green":
        _green_gradient(plate)
    elif style == "eu":
        _draw_eu_band(plate, country)
    elif style == "br":
        _draw_br_band(plate)
    elif style == "us" and top_line:
        _small_text(
            plate,
            top_line,
            (round(width * 0.2), round(height * 0.06), round(width * 0.6), round(height * 0.15)),
            (40, 40, 170),
        )
    if layout.border is not None:
        inset = max(1, height // 30) if style.startswith("cn") else 0
        thickness = max(1, height // 40)
        cv2.rectangle(
            plate,
            (inset, inset),
            (width - 1 - inset, height - 1 - inset),
            layout.border,
            thickness,
            cv2.LINE_AA,
        )
    if layout.upper_box is not None:
        _draw_text(plate, plate_text[:2], layout.upper_box, layout, dot_after=1)
        _draw_text(plate, plate_text[2:], layout.text_box, layout, dot_after=None)
    else:
        dot_after = 2 if style.startswith("cn") else None
        _draw_text(plate, plate_text, layout.text_box, layout, dot_after=dot_after)
    return plate


def _draw_text(
    plate: np.ndarray,
    text: str,
    box_fractions: tuple[float, float, float, float],
    layout: _Layout,
    *,
    dot_after: int | None,
) -> None:
    """Ink ``text`` into the box given as fractions of the plate, filling it."""
    height, width = plate.shape[:2]
    x0, y0, x1, y1 = box_fractions
    box = (round(x0 * width), round(y0 * height), round(x1 * width), round(y1 * height))
    strip = _text_strip(text, layout.latin_font, layout.gap, dot_after)
    mask = _fit_text(strip, box[2] - box[0], box[3] - box[1])
    _apply_ink(plate, mask, (box[0], box[1]), layout.ink)


def _random_from(fmt: PlateFormat, rng: np.random.Generator) -> str:
    return "".join((sorted(chars))[int(rng.integers(len(chars)))] for chars in fmt.allowed)


def random_plate_text(region: str, rng: np.random.Generator) -> str:
    """A random plate text that fits one of ``region``'s formats (specific layouts preferred).

    Regions with specific layouts never get fallback-only texts; ``generic`` plates are 5 to
    8 characters. Deterministic for a given ``rng`` state.
    """
    prof = profile(region)
    formats = [fmt for fmt in prof.formats if not fmt.fallback]
    if not formats:
        formats = [fmt for fmt in prof.formats if 5 <= fmt.length <= 8] or list(prof.formats)
    fmt = formats[int(rng.integers(len(formats)))]
    text = _random_from(fmt, rng)
    if validate(text, prof) is None:  # pragma: no cover - formats always accept their own slots
        raise AssertionError(f"generated {text!r} does not fit {fmt.name}")
    return text
