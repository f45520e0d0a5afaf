"""Frames and capture statistics handed from a lane's capture thread to its consumers."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import numpy as np


@dataclass(frozen=True, eq=False)
class Frame:
    """One captured image.

    ``image`` is BGR ``uint8`` and read-only, because the same frame may be shared by the
    recognition worker and the display; copy it before drawing on it.
    ``frame_no`` counts up from 1 for the life of a :class:`LaneCapture` (across file loops
    and reconnects); ``captured_at`` is monotonic seconds, ``captured_at_utc`` wall-clock.
    """

    image: np.ndarray
    frame_no: int
    captured_at: float
    captured_at_utc: datetime


class CaptureState(StrEnum):
    """What the attendant should be told about a lane's camera."""

    CONNECTING = "connecting"
    LIVE = "live"
    NO_SIGNAL = "no_signal"
    STOPPED = "stopped"


@dataclass(frozen=True)
class CaptureStats:
    """A snapshot of one lane's capture health.

    ``dropped`` counts frames overwritten before anyone took them; ``reconnects`` counts
    re-open attempts after a failure or a stall (looping a video file is not one);
    ``last_error`` is the most recent problem (credentials masked), kept after recovery
    for diagnostics.
    """

    lane: str
    source: str
    state: CaptureState
    fps: float
    frames: int
    dropped: int
    reconnects: int
    last_frame_age_s: float | None
    last_error: str | None


class FpsMeter:
    """Frames per second over a sliding time window."""

    def __init__(self, window_s: float = 2.0, max_samples: int = 2048) -> None:
        self.window_s = window_s
        self._stamps: deque[float] = deque(maxlen=max_samples)

    def add(self, stamp: float) -> None:
        """Record a frame captured at monotonic time ``stamp``."""
        self._stamps.append(stamp)

    def rate(self, now: float) -> float:
        """Frames per second among the frames of the last ``window_s`` seconds."""
        while self._stamps and self._stamps[0] < now - self.window_s:
            self._stamps.popleft()
        if len(self._stamps) < 2:
            return 0.0
        span = self._stamps[-1] - self._stamps[0]
        return (len(self._stamps) - 1) / span if span > 0 else 0.0
