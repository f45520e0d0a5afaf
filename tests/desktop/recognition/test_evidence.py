"""The pictures of plate reads: written as real JPEG files per day, and only the last
``keep_days`` days kept so a booth's disk does not fill up."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from pathlib import Path

import cv2
import numpy as np
import pytest

from desktop.config import BoothConfig
from desktop.recognition.evidence import EvidenceWriter

CROP = np.full((40, 120, 3), 200, np.uint8)
SNAPSHOT = np.full((720, 1920, 3), 90, np.uint8)


def save_on(writer: EvidenceWriter, day: date) -> tuple[Path | None, Path | None]:
    seen_at = datetime(day.year, day.month, day.day, 18, 30)
    return writer.save(uuid.uuid4(), seen_at, crop=CROP, snapshot=SNAPSHOT)


def test_pictures_are_written_per_day_and_the_snapshot_scaled_down(tmp_path: Path) -> None:
    writer = EvidenceWriter(tmp_path, keep_days=30)

    crop_path, snapshot_path = save_on(writer, date(2026, 11, 24))

    assert crop_path is not None and snapshot_path is not None
    assert crop_path.parent == tmp_path / "2026-11-24"
    assert cv2.imread(str(crop_path)).shape == CROP.shape
    assert cv2.imread(str(snapshot_path)).shape == (480, 1280, 3)


def test_the_first_picture_of_a_day_deletes_the_days_no_longer_kept(tmp_path: Path) -> None:
    writer = EvidenceWriter(tmp_path, keep_days=3)
    kept_early = save_on(writer, date(2026, 11, 20))
    save_on(writer, date(2026, 11, 21))
    save_on(writer, date(2026, 11, 22))
    (tmp_path / "notes").mkdir()  # not a day folder: never touched
    (tmp_path / "readme.txt").write_text("operator's file")

    assert {p.name for p in tmp_path.iterdir()} >= {"2026-11-20", "2026-11-21", "2026-11-22"}
    assert all(path is not None and path.is_file() for path in kept_early)

    today = save_on(writer, date(2026, 11, 23))

    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "2026-11-21",
        "2026-11-22",
        "2026-11-23",
        "notes",
        "readme.txt",
    ]
    assert all(path is not None and path.is_file() for path in today)
    # Later reads the same day delete nothing more.
    save_on(writer, date(2026, 11, 23))
    assert len(list((tmp_path / "2026-11-23").iterdir())) == 4


def test_pruning_a_folder_that_does_not_exist_yet_is_harmless(tmp_path: Path) -> None:
    assert EvidenceWriter(tmp_path / "new", keep_days=1).prune(date(2026, 11, 24)) == 0


def test_the_booth_keeps_thirty_days_unless_configured_and_refuses_zero() -> None:
    assert BoothConfig().evidence_days == 30
    assert BoothConfig(evidence_days=7).evidence_days == 7
    with pytest.raises(ValueError, match="evidence_days"):
        BoothConfig(evidence_days=0)
