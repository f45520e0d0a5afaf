"""The recognition worker: every lane's latest frame in, one plate read per vehicle out.

One thread serves all lanes in turn (the booth PC has two cores; OCR is the costly step
and runs one frame at a time). Per lane it keeps a motion gate, so an empty lane costs
almost nothing, and a consensus, so the attendant sees one read per vehicle. It only
ever looks at a lane's newest frame: when OCR is slower than the camera, frames are
skipped, never queued.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from desktop.capture.frame import Frame
from desktop.recognition.consensus import (
    ConsensusConfig,
    FrameCandidate,
    PlateConsensus,
    VehicleRead,
)
from desktop.recognition.engine import Box
from desktop.recognition.evidence import EvidenceWriter
from desktop.recognition.motion import MotionGate
from desktop.recognition.recognizer import PlateRecognizer

log = logging.getLogger(__name__)

Fractions = tuple[float, float, float, float]
ReadListener = Callable[[VehicleRead], None]

IDLE_WAIT_S = 0.2


class FrameSource(Protocol):
    """What the worker needs of a lane's capture (a :class:`LaneCapture`)."""

    def latest(self, after_frame_no: int | None = None) -> Frame | None: ...

    def wait_for_frame(self, after_frame_no: int | None, timeout: float) -> Frame | None: ...


def roi_pixels(roi: Fractions | None, shape: tuple[int, ...]) -> Box | None:
    """A region of interest given as fractions of the frame, in pixels of ``shape``."""
    if roi is None:
        return None
    height, width = shape[:2]
    fx, fy, fw, fh = roi
    x, y = round(fx * width), round(fy * height)
    return (
        x,
        y,
        max(1, min(width - x, round(fw * width))),
        max(1, min(height - y, round(fh * height))),
    )


@dataclass
class LaneFeed:
    """One lane as the worker sees it: its name, frames and region of interest."""

    name: str
    frames: FrameSource
    roi: Fractions | None = None
    gate: MotionGate | None = None
    consensus: PlateConsensus | None = None
    last_frame_no: int | None = field(default=None, init=False)
    ocr_frames: int = field(default=0, init=False)


class RecognitionWorker:
    """Runs plate recognition over the lanes' frames and reports one read per vehicle.

    ``on_read`` is called from the worker thread with each :class:`VehicleRead` whose
    evidence (crop, snapshot) has been written by ``evidence`` when one is given.
    """

    def __init__(
        self,
        lanes: Sequence[LaneFeed],
        recognizer: PlateRecognizer,
        on_read: ReadListener,
        *,
        evidence: EvidenceWriter | None = None,
        consensus_config: ConsensusConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if len({lane.name for lane in lanes}) != len(lanes):
            raise ValueError("lane names must be unique")
        self.lanes = list(lanes)
        for lane in self.lanes:
            lane.consensus = lane.consensus or PlateConsensus(
                lane.name,
                region=recognizer.region,
                config=consensus_config,
            )
        self._recognizer = recognizer
        self._on_read = on_read
        self._evidence = evidence
        self._clock = clock
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker thread."""
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="recognition", daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Finish the frame in hand and stop."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def _run(self) -> None:
        while not self._stopping.is_set():
            worked = False
            for lane in self.lanes:
                frame = lane.frames.latest(after_frame_no=lane.last_frame_no)
                if frame is None:
                    continue
                worked = True
                try:
                    self._report(self.process(lane, frame))
                except Exception:
                    log.exception("recognition failed on lane %s", lane.name)
            if not worked:
                self._idle()

    def _idle(self) -> None:
        """No lane has a new frame (cameras down or slow): let time pass for the consensus."""
        now = self._clock()
        for lane in self.lanes:
            assert lane.consensus is not None
            self._report(lane.consensus.tick(now))
        first = self.lanes[0] if self.lanes else None
        if first is None:
            self._stopping.wait(IDLE_WAIT_S)
        else:
            first.frames.wait_for_frame(first.last_frame_no, IDLE_WAIT_S)

    # -- one frame ------------------------------------------------------------------

    def process(self, lane: LaneFeed, frame: Frame) -> list[VehicleRead]:
        """Run one frame of ``lane`` through gate, recognizer and consensus.

        Returns the reads this frame completed (without writing evidence; the thread's
        loop does that before reporting them).
        """
        consensus = lane.consensus
        assert consensus is not None
        lane.last_frame_no = frame.frame_no
        roi = roi_pixels(lane.roi, frame.image.shape)
        if lane.gate is None:
            lane.gate = MotionGate(roi=roi)
        if not lane.gate.update(frame.image):
            return consensus.empty_frame(frame.captured_at)
        if not consensus.wants_frame(frame.captured_at):
            # This vehicle has its read and was read just now.
            return consensus.tick(frame.captured_at)
        lane.ocr_frames += 1
        candidates = [
            FrameCandidate(
                text=plate.text,
                confidence=plate.confidence,
                crop=plate.crop,
                snapshot=frame.image,
                box=plate.box,
            )
            for plate in self._recognizer.recognize(frame.image, roi=roi)
        ]
        return consensus.feed(frame.captured_at, candidates, seen_at=frame.captured_at_utc)

    def _report(self, reads: list[VehicleRead]) -> None:
        for vehicle in reads:
            self._on_read(self._with_evidence(vehicle))

    def _with_evidence(self, vehicle: VehicleRead) -> VehicleRead:
        if self._evidence is None:
            return vehicle
        read = vehicle.read
        crop_path, snapshot_path = self._evidence.save(
            read.read_id,
            read.seen_at,
            crop=_image_or_none(vehicle.crop),
            snapshot=_image_or_none(vehicle.snapshot),
        )
        read = dataclasses.replace(read, crop_path=crop_path, snapshot_path=snapshot_path)
        return dataclasses.replace(vehicle, read=read)


def _image_or_none(value: object) -> np.ndarray | None:
    return value if isinstance(value, np.ndarray) else None
