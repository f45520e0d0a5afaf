"""A cheap motion/presence gate so an empty lane costs almost nothing to watch.

The recognition worker runs plate finding and OCR only on frames the gate lets through.
The gate compares a small grey copy of the lane's region of interest with two things:

* the previous frame, to notice movement (a vehicle driving in or out), and
* an *empty-lane background*, to notice presence: a car waiting at the barrier does
  not move, yet recognition must keep seeing it.

The background learns only from frames that look like the empty lane, so a stopped car
is not absorbed into it while it waits. A scene that stays changed but perfectly still
for a long time (a cone left in the lane, a lighting change) is absorbed slowly after
``absorb_after`` frames, and the worker may call :meth:`MotionGate.reset_background` when
it knows the lane is empty (e.g. no plate found for a while on a still scene).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

log = logging.getLogger(__name__)

Box = tuple[int, int, int, int]  # x, y, width, height in full-frame pixels


@dataclass(frozen=True)
class MotionConfig:
    """Tuning of :class:`MotionGate`; fractions are of the downscaled ROI's pixels."""

    width: int = 160
    """Width the ROI is scaled down to before comparing (height keeps the aspect)."""
    pixel_threshold: int = 22
    """Grey-level difference above which a pixel counts as changed."""
    on_fraction: float = 0.012
    """Share of changed pixels that opens the gate."""
    off_fraction: float = 0.005
    """Share below which an open gate may close (hysteresis)."""
    warmup_frames: int = 5
    """Frames averaged into the first background; the gate is open while warming up."""
    learn_rate: float = 0.05
    """How fast the background follows frames that look like the empty lane."""
    hold_frames: int = 3
    """Frames the gate stays open after the last change, so OCR sees a settling vehicle."""
    absorb_after: int = 450
    """Frames of a changed but perfectly still scene before the background absorbs it."""
    absorb_rate: float = 0.02
    """How fast such a long-still scene is absorbed."""


@dataclass(frozen=True)
class MotionState:
    """What the gate measured on the last frame."""

    active: bool
    changed_fraction: float
    moving_fraction: float
    warming_up: bool


class MotionGate:
    """Tell whether a lane's frame is worth recognising: something moves or a vehicle is there.

    ``roi`` is the lane's region of interest in full-frame pixels (the whole frame when
    None). Feed every frame (or every frame the worker looks at) to :meth:`update`.
    Not thread-safe: one gate per lane, used by that lane's recognition worker.
    """

    def __init__(self, roi: Box | None = None, config: MotionConfig | None = None) -> None:
        self.roi = roi
        self.config = config or MotionConfig()
        self._background: np.ndarray | None = None  # float32 grey
        self._previous: np.ndarray | None = None  # uint8 grey
        self._frames = 0
        self._still = 0
        self._hold = 0
        self._active = True
        self.state = MotionState(True, 0.0, 0.0, True)

    def _small_grey(self, frame_bgr: np.ndarray) -> np.ndarray:
        image = frame_bgr
        if self.roi is not None:
            x, y, w, h = self.roi
            image = frame_bgr[max(0, y) : y + h, max(0, x) : x + w]
            if image.size == 0:
                raise ValueError(f"region of interest {self.roi} lies outside the frame")
        height, width = image.shape[:2]
        target_w = min(self.config.width, width)
        target_h = max(1, round(height * target_w / width))
        # Nearest-neighbour sampling touches only the output pixels, so 1080p costs about
        # as much as a thumbnail; the blur afterwards removes most of the aliasing noise.
        small = cv2.resize(image, (target_w, target_h), interpolation=cv2.INTER_NEAREST)
        grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small
        return cv2.GaussianBlur(grey, (5, 5), 0)

    def _fraction(self, grey: np.ndarray, reference: np.ndarray) -> float:
        diff = cv2.absdiff(grey, reference)
        changed = cv2.countNonZero(
            cv2.threshold(diff, self.config.pixel_threshold, 255, cv2.THRESH_BINARY)[1]
        )
        return changed / grey.size

    def update(self, frame_bgr: np.ndarray) -> bool:
        """Measure ``frame_bgr`` (BGR or grey, any size); True when recognition should run.

        True while warming up, while something moves, while the ROI differs from the
        empty-lane background (a stopped vehicle), and for ``hold_frames`` after that.
        """
        cfg = self.config
        grey = self._small_grey(frame_bgr)
        if self._background is None or self._background.shape != grey.shape:
            self._background = grey.astype(np.float32)
            self._previous = grey
            self._frames = 1
            self._active = True
            self.state = MotionState(True, 0.0, 0.0, True)
            return True
        self._frames += 1
        if self._frames <= cfg.warmup_frames:
            cv2.accumulateWeighted(grey, self._background, 1.0 / self._frames)
            self._previous = grey
            self.state = MotionState(True, 0.0, 0.0, True)
            return True

        background = self._background.astype(np.uint8)
        changed = self._fraction(grey, background)
        assert self._previous is not None
        moving = self._fraction(grey, self._previous)
        self._previous = grey

        if changed < cfg.off_fraction:
            cv2.accumulateWeighted(grey, self._background, cfg.learn_rate)
            self._still = 0
        elif moving < cfg.off_fraction:
            self._still += 1
            if self._still > cfg.absorb_after:
                cv2.accumulateWeighted(grey, self._background, cfg.absorb_rate)
        else:
            self._still = 0

        threshold = cfg.off_fraction if self._active else cfg.on_fraction
        triggered = changed >= threshold or moving >= threshold
        if triggered:
            self._hold = cfg.hold_frames
        elif self._hold > 0:
            self._hold -= 1
        active = triggered or self._hold > 0
        if active != self._active:
            log.debug(
                "motion gate %s (changed %.3f, moving %.3f)",
                "open" if active else "closed",
                changed,
                moving,
            )
        self._active = active
        self.state = MotionState(active, changed, moving, False)
        return active

    def reset_background(self, frame_bgr: np.ndarray | None = None) -> None:
        """Declare the lane empty: take ``frame_bgr`` (or the last frame) as the background."""
        if frame_bgr is not None:
            grey = self._small_grey(frame_bgr)
        elif self._previous is not None:
            grey = self._previous
        else:
            return
        self._background = grey.astype(np.float32)
        self._previous = grey
        self._still = 0
        self._hold = 0
        self._frames = max(self._frames, self.config.warmup_frames + 1)
