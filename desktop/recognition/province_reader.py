"""A second recognizer for the first two characters of Chinese plates.

The default engine's PP-OCRv6 recognizer reads plate letters and digits well, but it
drops a plate's province character or reads it as another one (皖 as 新, 湘 as 浙)
more often than PP-OCRv4's Chinese recognizer, which in turn confuses Latin
look-alikes (M and 1, 6 and G). So the Chinese reading of a plate keeps PP-OCRv6's
characters after the head (province and city letter) and settles the head with both
recognizers' probabilities along the same line: the head whose whole plate reading the
two find likeliest together. On cn-easypr this read 120 photos of 128 instead of 115,
on cn-lprnet-crops 955 crops of 999 instead of 776, and changed no right read.
When the engine's best read of a photo is no plate at all, the reader's own reading of
the line may be one (see :mod:`.chinese`).

The PP-OCRv4 model ships in ``resources/models`` (see its README: Apache-2.0, from the
``rapidocr_onnxruntime`` wheel, whose own dependencies would pull the second OpenCV).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from desktop import plates
from desktop.resources import resource_path

from .constrained import decode_patterns
from .lines import LineReading
from .rapidocr_engine import default_threads, pp_ocr_recognizer, recognizer_probabilities

PROVINCE_MODEL = "ch_PP-OCRv4_rec_infer.onnx"
#: Characters of a Chinese plate that the two recognizers settle together: the province
#: and the city letter (cn-easypr 0074: 皖Q read as 新D).
HEAD = 2
#: What a reading without a province pays, in log-probability, against one with a
#: province: as much as any fallback format pays against a specific one
#: (``FALLBACK_LOG_ODDS``). On rendered plates with the province painted over, the
#: reading without it still wins (tests/desktop/recognition/test_province_reader.py).
NO_PROVINCE_LOG_ODDS = 3.2


class ProvinceReader:
    """PP-OCRv4's Chinese text recognizer, giving character probabilities along a line.

    Loaded once per instance from ``model`` (default: the copy in
    ``resources/models``); thread-safe.
    """

    def __init__(self, model: Path | None = None, *, threads: int | None = None) -> None:
        self.model = Path(model) if model is not None else resource_path("models", PROVINCE_MODEL)
        self._rec = pp_ocr_recognizer(self.model, threads or default_threads())
        self._lock = threading.Lock()

    def line_probabilities(
        self, image_bgr: np.ndarray, quad: Sequence[Sequence[float]]
    ) -> LineReading:
        """Steps x alphabet probabilities along the line at ``quad``, and the alphabet."""
        with self._lock:
            return recognizer_probabilities(self._rec, image_bgr, quad)


@functools.cache
def shared_province_reader() -> ProvinceReader:
    """One :class:`ProvinceReader` per process, loaded at the first call."""
    return ProvinceReader()


def likeliest_head(readings: Sequence[LineReading], text: str) -> str | None:
    """The Chinese plate that ``readings`` (several recognizers' probabilities along the
    line read as ``text``, a Chinese plate read with or without its province) find
    likeliest together, among those that keep ``text``'s characters after the head;
    None when ``text`` itself is likeliest or no Chinese format takes its rest.

    Candidates are ``text`` and each recognizer's likeliest head before ``text``'s rest
    (one decoding per recognizer, whichever Chinese format the head makes it)."""
    has_province = text[:1] in plates.CN_PROVINCES
    rest = text[HEAD:] if has_province else text[HEAD - 1 :]
    fitting = formats_ending_in(rest)
    if not fitting:
        return None
    pattern = [*head_slots(fitting), *(frozenset({char}) for char in rest)]
    proposals = {text} | readings_under(
        readings, pattern, lambda read: any(fmt.fits(read) for fmt in fitting)
    )
    if proposals == {text}:
        return None  # no recognizer reads another head there
    candidates = sorted(proposals)
    scored = zip(joint_log_probs(readings, candidates), candidates, strict=True)
    best_log_prob, best = max(scored)
    return None if best == text or best_log_prob == -np.inf else best


def readings_under(
    readings: Sequence[LineReading],
    pattern: Sequence[frozenset[str]],
    keep: Callable[[str], bool],
) -> set[str]:
    """Each recognizer's likeliest reading of its line under the slot ``pattern``, where
    ``keep`` takes it."""
    return {
        reading.text
        for probs, alphabet in readings
        for reading in decode_patterns(probs, alphabet, [pattern])
        if reading is not None and keep(reading.text)
    }


def formats_ending_in(rest: str) -> list[plates.PlateFormat]:
    """The specific Chinese formats of plates whose characters after the head are ``rest``."""
    return [
        fmt
        for fmt in plates.profile("cn").formats
        if not fmt.fallback
        and fmt.length == HEAD + len(rest)
        and fmt.fits(fmt.example[:HEAD] + rest)
    ]


def head_slots(formats: Sequence[plates.PlateFormat]) -> list[frozenset[str]]:
    """The characters each head slot (province, city letter) may hold in any of ``formats``."""
    return [frozenset().union(*(fmt.allowed[slot] for fmt in formats)) for slot in range(HEAD)]


def joint_log_probs(readings: Sequence[LineReading], texts: Sequence[str]) -> list[float]:
    """For each of ``texts``, the log-probability of reading exactly it (best path)
    summed over ``readings``, a reading without a province paying
    :data:`NO_PROVINCE_LOG_ODDS`; minus infinity when a recognizer cannot spell it."""
    exact = [[frozenset({char}) for char in text] for text in texts]
    totals = [0.0 if text[:1] in plates.CN_PROVINCES else -NO_PROVINCE_LOG_ODDS for text in texts]
    for probs, alphabet in readings:
        for i, reading in enumerate(decode_patterns(probs, alphabet, exact)):
            totals[i] += -np.inf if reading is None else reading.log_prob
    return totals
