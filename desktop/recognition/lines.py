"""Character probabilities along the text lines of one image, each line recognized once.

A CTC recognizer gives, for a line of text, a steps x alphabet matrix of character
probabilities; the recognition steps decode a line under plate formats from it (see
:mod:`.constrained`), often several times, and with more than one recognizer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from .engine import TextBox

#: A recognizer's probabilities along one line (steps x alphabet, rows sum to 1) and
#: its alphabet (index 0: the CTC blank).
LineReading = tuple[np.ndarray, Sequence[str]]


class LineReader(Protocol):
    """A recognizer giving character probabilities along a line of an image."""

    def line_probabilities(
        self, image_bgr: np.ndarray, quad: Sequence[Sequence[float]]
    ) -> LineReading: ...


class LineProbabilities:
    """A recognizer's character probabilities along the text lines of one image, each
    line computed once: several second looks may ask for the same line.

    ``kept`` takes the probabilities a box kept from being read (the engine's own); off
    for another recognizer, such as the province reader."""

    def __init__(self, reader: LineReader, image: np.ndarray, *, kept: bool = True) -> None:
        self._reader = reader
        self._image = image
        self._use_kept = kept
        self._known: dict[tuple[tuple[float, float], ...], LineReading] = {}

    def of(self, box: TextBox) -> LineReading:
        """Steps x alphabet probabilities of the line ``box`` (read in this image), and
        the alphabet."""
        if self._use_kept and box.probabilities is not None:
            return box.probabilities
        key = tuple((float(x), float(y)) for x, y in box.quad)
        if key not in self._known:
            self._known[key] = self._reader.line_probabilities(self._image, box.quad)
        return self._known[key]
