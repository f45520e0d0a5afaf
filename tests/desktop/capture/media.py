"""Small real video files whose frames say which frame they are."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

WIDTH, HEIGHT = 160, 120
# Each frame is filled with index * STEP; MJPEG keeps a flat grey level nearly exact.
STEP = 8


def frame_image(index: int) -> np.ndarray:
    """The BGR image of frame ``index`` (a flat grey that encodes the index)."""
    return np.full((HEIGHT, WIDTH, 3), (index * STEP) % 256, np.uint8)


def frame_index(image: np.ndarray) -> int:
    """Which frame ``image`` is, read back from its grey level."""
    return round(float(image.mean()) / STEP)


def make_video(path: Path, *, frames: int = 30, fps: float = 30.0) -> Path:
    """Write an MJPG ``.avi`` of ``frames`` numbered frames at ``fps`` and return its path."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (WIDTH, HEIGHT))
    assert writer.isOpened(), f"cannot write {path}"
    try:
        for index in range(frames):
            writer.write(frame_image(index))
    finally:
        writer.release()
    return path
