"""The recognition worker on generated lane videos, with the real RapidOCR recognizer.

Camera -> motion gate -> recognizer -> consensus: each vehicle that stops at the
barrier gives exactly one read of its plate, with its evidence pictures on disk.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import cv2
import pytest

from desktop.capture import LaneCapture
from desktop.capture.frame import Frame
from desktop.recognition.consensus import VehicleRead
from desktop.recognition.engine import load_engine
from desktop.recognition.evidence import EvidenceWriter
from desktop.recognition.recognizer import PlateRecognizer
from desktop.recognition.worker import LaneFeed, RecognitionWorker, roi_pixels
from desktop.synthetic import LaneVideo, Phase, make_lane_video, make_queue_video

PLATES = ["ABC1234", "7XYZ042", "RON464"]
# US registries take O and 0 for one symbol: reads write 0, from the recognizer to the
# read the booth looks up.
READ_AS = ["ABC1234", "7XYZ042", "R0N464"]
FPS = 5.0


class NoFrames:
    """A lane whose frames the test hands to ``process`` itself."""

    def latest(self, after_frame_no: int | None = None) -> Frame | None:
        return None

    def wait_for_frame(self, after_frame_no: int | None, timeout: float) -> Frame | None:
        return None


@pytest.fixture(scope="module")
def recognizer() -> PlateRecognizer:
    return PlateRecognizer(load_engine("rapidocr"), "us")


@pytest.fixture(scope="module")
def lane_video(tmp_path_factory: pytest.TempPathFactory) -> LaneVideo:
    folder = tmp_path_factory.mktemp("lane")
    return make_lane_video(
        folder / "exit1.avi", PLATES, fps=FPS, size=(640, 360), seconds_per_vehicle=5, rng=3
    )


def decoded_frames(video: LaneVideo) -> Iterator[Frame]:
    capture = cv2.VideoCapture(str(video.path))
    try:
        number = 0
        while True:
            ok, image = capture.read()
            if not ok:
                return
            number += 1
            yield Frame(image, number, number / FPS, datetime.now(UTC))
    finally:
        capture.release()


def test_each_vehicle_gives_one_read_and_an_empty_lane_costs_no_ocr(
    recognizer: PlateRecognizer, lane_video: LaneVideo
) -> None:
    lane = LaneFeed("Exit 1", NoFrames())
    worker = RecognitionWorker([lane], recognizer, lambda read: None)

    reads: list[VehicleRead] = []
    frames = 0
    for frame in decoded_frames(lane_video):
        frames += 1
        reads.extend(worker.process(lane, frame))
    assert lane.consensus is not None
    reads.extend(lane.consensus.lane_empty(frames / FPS + 60))

    assert [read.read.plate for read in reads] == READ_AS
    assert all(read.read.lane == "Exit 1" and read.read.confidence > 0.5 for read in reads)
    empty_frames = sum(truth.plate is None for truth in lane_video.frames)
    assert lane.ocr_frames <= frames - empty_frames


def test_a_vehicle_waiting_at_the_barrier_is_read_once_then_about_once_a_read_interval(
    recognizer: PlateRecognizer, tmp_path: Path
) -> None:
    # 30 s per vehicle: it waits at the barrier for about 13 s.
    video = make_lane_video(
        tmp_path / "wait.avi", ["7XYZ042"], fps=FPS, size=(640, 360), seconds_per_vehicle=30, rng=5
    )
    lane = LaneFeed("Exit 1", NoFrames())
    worker = RecognitionWorker([lane], recognizer, lambda read: None)

    reads: list[VehicleRead] = []
    ocr_while_waiting_with_a_read = 0
    for frame, truth in zip(decoded_frames(video), video.frames, strict=True):
        ocr_before, had_read = lane.ocr_frames, bool(reads)
        reads.extend(worker.process(lane, frame))
        if had_read and truth.phase is Phase.STOPPED:
            ocr_while_waiting_with_a_read += lane.ocr_frames - ocr_before
    assert lane.consensus is not None
    reads.extend(lane.consensus.lane_empty(video.frame_count / FPS + 60))

    assert [read.read.plate for read in reads] == ["7XYZ042"]
    waiting_s = sum(truth.phase is Phase.STOPPED for truth in video.frames) / FPS
    interval = lane.consensus.config.settled_read_interval_s
    # Still watched (so a dealer frame or a misreading is never a second vehicle), at a
    # fraction of the camera's frames.
    assert waiting_s / interval / 2 <= ocr_while_waiting_with_a_read <= waiting_s / interval + 1


def test_a_car_queuing_behind_the_one_at_the_barrier_gets_its_own_read(
    recognizer: PlateRecognizer, tmp_path: Path
) -> None:
    video = make_queue_video(tmp_path / "queue.avi", "ABC1234", "7XYZ042", fps=FPS, rng=3)
    first, _ = video.visits
    lane = LaneFeed("Exit 1", NoFrames())
    worker = RecognitionWorker([lane], recognizer, lambda read: None)

    reads: list[VehicleRead] = []
    queued_plate_read = False
    for frame in decoded_frames(video):
        reads.extend(worker.process(lane, frame))
        if first.stop_frame + FPS <= frame.frame_no - 1 < first.leave_frame:
            found = [p.text for p in recognizer.recognize(frame.image)]
            queued_plate_read |= "7XYZ042" in found
    assert lane.consensus is not None
    reads.extend(lane.consensus.lane_empty(video.frame_count / FPS + 60))

    assert queued_plate_read  # both plates are read while the first car waits
    assert [read.read.plate for read in reads] == ["ABC1234", "7XYZ042"]
    assert reads[1].decided_at >= first.leave_frame / FPS  # once the first car has gone


def test_a_region_of_interest_outside_the_plate_reads_nothing(
    recognizer: PlateRecognizer, lane_video: LaneVideo
) -> None:
    # The plates pass through the lower middle of the picture; a strip along the top
    # edge sees no plate at all.
    lane = LaneFeed("Exit 1", NoFrames(), roi=(0.0, 0.0, 1.0, 0.12))
    worker = RecognitionWorker([lane], recognizer, lambda read: None)

    reads = [read for frame in decoded_frames(lane_video) for read in worker.process(lane, frame)]

    assert reads == []


def test_roi_fractions_become_pixels_inside_the_frame() -> None:
    assert roi_pixels(None, (360, 640, 3)) is None
    assert roi_pixels((0.25, 0.5, 0.5, 0.5), (360, 640, 3)) == (160, 180, 320, 180)
    assert roi_pixels((0.9, 0.9, 0.5, 0.5), (100, 100, 3)) == (90, 90, 10, 10)


def test_live_lane_reports_reads_with_evidence_pictures(
    recognizer: PlateRecognizer, lane_video: LaneVideo, tmp_path: Path
) -> None:
    reads: list[VehicleRead] = []
    arrived = threading.Condition()

    def on_read(read: VehicleRead) -> None:
        with arrived:
            reads.append(read)
            arrived.notify_all()

    capture = LaneCapture("Exit 1", str(lane_video.path))
    worker = RecognitionWorker(
        [LaneFeed("Exit 1", capture)],
        recognizer,
        on_read,
        evidence=EvidenceWriter(tmp_path / "evidence", keep_days=30),
    )
    capture.start()
    worker.start()
    try:
        with arrived:
            assert arrived.wait_for(lambda: len(reads) >= 2, timeout=90)
    finally:
        worker.stop()
        capture.stop()

    assert [read.read.plate for read in reads[:2]] == READ_AS[:2]
    for vehicle in reads[:2]:
        crop = cv2.imread(str(vehicle.read.crop_path))
        lane = cv2.imread(str(vehicle.read.snapshot_path))
        assert crop is not None and lane is not None
        assert crop.shape[1] > crop.shape[0]  # a plate is wider than tall
        assert lane.shape[:2] == (360, 640)
