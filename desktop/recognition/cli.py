"""``main.py recognize``: read plates from image and video files.

Images are read once; videos every ``frame_step``-th frame. Human-readable lines by
default, one JSON object per image (or video frame) with ``as_json``. A file that
cannot be decoded is reported on stderr and makes the exit status 1, while the other
files are still processed.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

import cv2
import numpy as np

from .engine import DEFAULT_ENGINE, load_engine
from .recognizer import PlateCandidate, PlateRecognizer

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mkv", ".mov", ".m4v", ".webm", ".mpg", ".mpeg"})
#: Videos are sampled every this many frames.
DEFAULT_FRAME_STEP = 10


def _frames(path: Path, step: int) -> Iterator[tuple[int, np.ndarray]]:
    """(frame number, frame) for every ``step``-th frame of a video file."""
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise OSError(f"cannot open video {path}")
        index = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            if index % step == 0:
                yield index, frame
            index += 1
        if index == 0:
            raise OSError(f"no frames could be decoded from {path}")
    finally:
        capture.release()


def _plates_json(found: Sequence[PlateCandidate]) -> list[dict[str, object]]:
    return [
        {"text": p.text, "confidence": p.confidence, "box": [int(v) for v in p.box]} for p in found
    ]


def _human(label: str, found: Sequence[PlateCandidate], ms: float) -> str:
    if not found:
        return f"{label}: no plate ({ms:.0f} ms)"
    best, *others = found
    line = f"{label}: {best.text} (confidence {best.confidence:.2f}, box {list(best.box)}"
    line += f", {ms:.0f} ms)"
    if others:
        line += "; also " + ", ".join(f"{p.text} ({p.confidence:.2f})" for p in others)
    return line


def _report(
    out: TextIO,
    as_json: bool,
    image: str,
    found: Sequence[PlateCandidate],
    ms: float,
    *,
    frame: int | None = None,
) -> None:
    if as_json:
        record: dict[str, object] = {"image": image}
        if frame is not None:
            record["frame"] = frame
        record["plates"] = _plates_json(found)
        record["ms"] = round(ms)
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    else:
        label = image if frame is None else f"{image} frame {frame}"
        out.write(_human(label, found, ms) + "\n")
    out.flush()


def _timed(recognizer: PlateRecognizer, image: np.ndarray) -> tuple[list[PlateCandidate], float]:
    start = time.perf_counter()
    found = recognizer.recognize(image)
    return found, (time.perf_counter() - start) * 1000


def recognize_paths(
    paths: Sequence[str | Path],
    region: str = "us",
    engine: str = DEFAULT_ENGINE,
    as_json: bool = False,
    *,
    frame_step: int = DEFAULT_FRAME_STEP,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Recognize plates in image and video files; returns the exit status (0 or 1).

    ``ms`` in the output is the recognition time of that image or frame alone (models
    loaded beforehand, decoding excluded).
    """
    out = out or sys.stdout
    err = err or sys.stderr
    recognizer = PlateRecognizer(load_engine(engine), region)
    status = 0
    for raw_path in paths:
        path = Path(raw_path)
        try:
            if path.suffix.lower() in VIDEO_SUFFIXES:
                for index, frame in _frames(path, frame_step):
                    found, ms = _timed(recognizer, frame)
                    _report(out, as_json, str(raw_path), found, ms, frame=index)
                continue
            image = cv2.imread(str(path), cv2.IMREAD_COLOR) if path.is_file() else None
            if image is None:
                raise OSError(
                    f"cannot read image {raw_path}: "
                    + ("not a decodable image" if path.is_file() else "no such file")
                )
        except OSError as exc:
            err.write(f"error: {exc}\n")
            status = 1
            continue
        found, ms = _timed(recognizer, image)
        _report(out, as_json, str(raw_path), found, ms)
    return status
