"""The OCR engine interface the plate recognizer talks to, and the engine factory.

An engine finds lines of text in a BGR image and reads them; it knows nothing about
plates. Engines are heavy (model sessions), so they are loaded once and reused.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

log = logging.getLogger(__name__)

#: Engine names accepted by :func:`load_engine`; the first is the default.
ENGINE_NAMES: tuple[str, ...] = ("rapidocr", "easyocr")
DEFAULT_ENGINE = ENGINE_NAMES[0]

Point = tuple[float, float]
Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class TextBox:
    """One line of text an engine read: text, recognition score and where it sits.

    ``quad`` holds the four corners (top-left, top-right, bottom-right, bottom-left) in
    image pixels; ``x, y, w, h`` is the axis-aligned box around them. ``probabilities``
    is what a :class:`ProbabilityOcrEngine` read the line from (steps x alphabet, and
    the alphabet), when it kept them, so the line need not be recognized again.
    """

    text: str
    score: float
    quad: tuple[Point, Point, Point, Point]
    x: int
    y: int
    w: int
    h: int
    probabilities: tuple[np.ndarray, Sequence[str]] | None = field(
        default=None, compare=False, repr=False
    )

    @classmethod
    def from_quad(
        cls,
        text: str,
        score: float,
        quad: Sequence[Sequence[float]],
        probabilities: tuple[np.ndarray, Sequence[str]] | None = None,
    ) -> TextBox:
        """Build a box from four corner points, computing the axis-aligned box."""
        points = tuple((float(px), float(py)) for px, py in quad)
        if len(points) != 4:
            raise ValueError(f"a text box needs 4 corner points, got {len(points)}")
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        x, y = int(np.floor(min(xs))), int(np.floor(min(ys)))
        w = max(1, int(np.ceil(max(xs))) - x)
        h = max(1, int(np.ceil(max(ys))) - y)
        return cls(text, float(score), points, x, y, w, h, probabilities)  # type: ignore[arg-type]

    @property
    def line_height(self) -> float:
        """Height of the text line along its own slant (left and right edges averaged)."""
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = self.quad
        left = float(np.hypot(x3 - x0, y3 - y0))
        right = float(np.hypot(x2 - x1, y2 - y1))
        return max(1.0, (left + right) / 2)

    @property
    def line_width(self) -> float:
        """Length of the text line along its own slant (top and bottom edges averaged)."""
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = self.quad
        top = float(np.hypot(x1 - x0, y1 - y0))
        bottom = float(np.hypot(x2 - x3, y2 - y3))
        return max(1.0, (top + bottom) / 2)


@runtime_checkable
class OcrEngine(Protocol):
    """Finds and reads text lines in an image."""

    name: str

    def read(self, image_bgr: np.ndarray) -> list[TextBox]:
        """Every text line found in ``image_bgr`` (H x W x 3, uint8, BGR)."""
        ...


@runtime_checkable
class DetailedOcrEngine(OcrEngine, Protocol):
    """An engine that can also detect at a chosen scale and read a single line.

    The recognizer uses these for a second, finer pass when the first finds no plate,
    and to re-read a plate line whose first character the detector cut off.
    """

    #: Longer side, in pixels, the detector sees an image at in :meth:`read`.
    det_side: int

    def read_at(
        self,
        image_bgr: np.ndarray,
        det_side: int,
        *,
        near: Box | None = None,
        box_thresh: float = ...,
        skip: Sequence[Box] = (),
    ) -> list[TextBox]:
        """Like :meth:`read`, with the detector seeing ``det_side`` pixels on the long side;
        with ``near`` (x, y, w, h), only the lines found over that box are read;
        ``box_thresh`` is the mean text probability a detected region needs (lower finds
        fainter text, and more that is not text); lines found in the same place as a
        ``skip`` box (see :func:`same_place`) are not read again."""
        ...

    def read_line(self, image_bgr: np.ndarray) -> tuple[str, float]:
        """Read the whole image as one text line (no detection): text and score."""
        ...


@runtime_checkable
class ProbabilityOcrEngine(DetailedOcrEngine, Protocol):
    """An engine whose recognizer exposes its per-step character probabilities (CTC),
    so a line can be re-read under a plate format (see :mod:`.constrained`)."""

    def line_probabilities(
        self, image_bgr: np.ndarray, quad: Sequence[Sequence[float]]
    ) -> tuple[np.ndarray, Sequence[str]]:
        """Steps x alphabet probabilities of the line at ``quad``, and the alphabet
        (index 0 is the blank)."""
        ...

    def read_quad(self, image_bgr: np.ndarray, quad: Sequence[Sequence[float]]) -> TextBox | None:
        """Read the line at ``quad`` (four corners, as a detector gives them) as if the
        detector had found it there; None when it reads no text."""
        ...


def intersection(a: Sequence[float], b: Sequence[float]) -> float:
    """The area two x, y, w, h boxes share."""
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return ix * iy


def overlap(a: Sequence[float], b: Sequence[float]) -> float:
    """How much two x, y, w, h boxes overlap: their intersection over the smaller one's
    area (0 when either is empty)."""
    smaller = min(a[2] * a[3], b[2] * b[3])
    return intersection(a, b) / smaller if smaller else 0.0


def _bounds(quad: np.ndarray) -> tuple[float, float, float, float]:
    """The x, y, w, h box around four corner points."""
    points = np.asarray(quad, dtype=np.float32)
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    return float(x0), float(y0), float(x1 - x0), float(y1 - y0)


def is_over(quad: np.ndarray, box: Box) -> bool:
    """True when the line at ``quad`` (four corner points) and ``box`` (x, y, w, h)
    share more than half of the smaller one's axis-aligned area."""
    return overlap(_bounds(quad), box) > 0.5


def same_place(quad: np.ndarray, box: Box) -> bool:
    """True when the line at ``quad`` and ``box`` (x, y, w, h) cover much the same area:
    they share more than half of the larger one's axis-aligned area (a whole plate line
    is not the same place as a fragment of it)."""
    bounds = _bounds(quad)
    larger = max(bounds[2] * bounds[3], box[2] * box[3])
    return larger > 0 and intersection(bounds, box) > larger / 2


class EngineUnavailableError(RuntimeError):
    """The requested engine is not installed (an optional extra) or failed to load."""


_loaded: dict[str, OcrEngine] = {}
_loading = threading.Lock()


def load_engine(name: str = DEFAULT_ENGINE) -> OcrEngine:
    """The OCR engine called ``name`` ("rapidocr" or "easyocr"), models loaded.

    Each engine is loaded once per process and shared. Raises ValueError for an unknown
    name and EngineUnavailableError when the engine's packages are not installed.
    """
    key = name.strip().lower()
    with _loading:
        if key not in _loaded:
            _loaded[key] = _load(key, name)
        return _loaded[key]


def _load(key: str, name: str) -> OcrEngine:
    if key == "rapidocr":
        from .rapidocr_engine import RapidOcrEngine

        return RapidOcrEngine()
    if key == "easyocr":
        try:
            from .easyocr_engine import EasyOcrEngine  # type: ignore[import-not-found]
        except ImportError as exc:
            raise EngineUnavailableError(
                "EasyOCR is an optional extra: install the 'easyocr' extra (torch CPU, "
                "easyocr and its offline weights) to use --engine easyocr "
                f"({exc})"
            ) from exc
        return EasyOcrEngine()
    raise ValueError(f"unknown OCR engine {name!r}; valid engines: {', '.join(ENGINE_NAMES)}")
