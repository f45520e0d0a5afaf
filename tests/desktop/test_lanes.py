"""The lane pipeline: a real video file through capture, OCR and consensus to one read."""

from __future__ import annotations

import queue
from pathlib import Path

from desktop.config import BoothConfig
from desktop.lanes import LanePipeline
from desktop.recognition.consensus import VehicleRead
from desktop.synthetic.video import PlateSpec, make_lane_video


def first_vehicle(tmp_path: Path, plate: str | PlateSpec, plates: dict[str, str]) -> VehicleRead:
    """The first vehicle read of a booth with one lane filming a generated video of
    ``plate``, with ``plates`` settings."""
    video = make_lane_video(
        tmp_path / "lane.avi", [plate], fps=10, size=(640, 360), seconds_per_vehicle=6, rng=3
    )
    config = BoothConfig(
        lanes=[{"name": "Exit 1", "camera": str(video.path)}],
        plates=plates,
        data_dir=tmp_path / "booth",
    )
    reads: queue.Queue[VehicleRead] = queue.Queue()
    pipeline = LanePipeline(config, reads.put)
    pipeline.start_cameras()
    try:
        pipeline.start_recognition()
        return reads.get(timeout=90)
    finally:
        pipeline.stop()


def test_a_vehicle_in_a_lane_video_becomes_one_read_with_evidence(tmp_path: Path):
    vehicle = first_vehicle(tmp_path, "ABC123", {"region": "us"})

    assert vehicle.read.plate == "ABC123"
    assert vehicle.read.lane == "Exit 1"
    assert vehicle.read.source == "camera"
    assert vehicle.read.crop_path is not None and vehicle.read.crop_path.is_file()
    assert vehicle.read.snapshot_path is not None and vehicle.read.snapshot_path.is_file()
    assert vehicle.read.crop_path.is_relative_to(tmp_path / "booth" / "evidence")


def test_a_chinese_booth_gives_its_local_province_to_a_plate_without_one(tmp_path: Path):
    # The plate's province character is missing (dirt, a cover): the booth's own is used.
    plates = {"region": "cn", "local_province": "粤"}

    vehicle = first_vehicle(tmp_path, PlateSpec("A019N2", "cn"), plates)

    assert vehicle.read.plate == "粤A019N2"


def test_a_booth_without_lanes_starts_no_recognition(tmp_path: Path):
    pipeline = LanePipeline(BoothConfig(data_dir=tmp_path), lambda _read: None)
    pipeline.start_cameras()
    pipeline.start_recognition()
    assert not pipeline.recognizing
    assert len(pipeline.cameras) == 0
    pipeline.stop()
