"""Evidence images for the booth tests: real JPEG files of a lane snapshot and a plate crop."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from desktop.domain import PlateRead
from tests.conftest import LANE


def write_jpeg(path: Path, width: int, height: int, text: str) -> Path:
    """A real JPEG of ``width`` x ``height`` with some structure (not a flat colour)."""
    image = np.full((height, width, 3), 90, np.uint8)
    cv2.rectangle(
        image, (width // 8, height // 4), (width * 7 // 8, height * 3 // 4), (230,) * 3, -1
    )
    cv2.putText(
        image,
        text,
        (width // 6, height * 2 // 3),
        cv2.FONT_HERSHEY_SIMPLEX,
        height / 120,
        (0, 0, 0),
        2,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), image)
    return path


def read_with_evidence(
    folder: Path, plate: str, *, snapshot: tuple[int, int] = (1920, 1080), crop=(240, 60)
) -> PlateRead:
    """A camera read of ``plate`` whose snapshot and crop files exist, as the lanes write them."""
    return PlateRead(
        plate=plate,
        lane=LANE,
        source="camera",
        confidence=0.93,
        snapshot_path=write_jpeg(folder / f"{plate}-lane.jpg", *snapshot, text=plate),
        crop_path=write_jpeg(folder / f"{plate}-plate.jpg", *crop, text=plate),
    )


def decoded_size(data: bytes) -> tuple[int, int]:
    """(width, height) of JPEG bytes, decoded by OpenCV."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, "not a decodable image"
    return image.shape[1], image.shape[0]
