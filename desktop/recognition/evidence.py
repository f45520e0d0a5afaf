"""Evidence images of a read: the plate crop and a snapshot of the lane, as JPEG files.

They go with the read into the store (paths), to the notice the attendant sees, and
later to the server with the outcome. Snapshots are scaled down: a booth keeps many.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np

log = logging.getLogger(__name__)

SNAPSHOT_MAX_WIDTH = 1280
JPEG_QUALITY = 85


class EvidenceWriter:
    """Writes a read's crop and snapshot under ``folder/YYYY-MM-DD/``."""

    def __init__(self, folder: Path, *, snapshot_max_width: int = SNAPSHOT_MAX_WIDTH) -> None:
        self.folder = Path(folder)
        self.snapshot_max_width = snapshot_max_width

    def save(
        self,
        read_id: uuid.UUID,
        seen_at: datetime,
        *,
        crop: np.ndarray | None,
        snapshot: np.ndarray | None,
    ) -> tuple[Path | None, Path | None]:
        """Write what is given; returns (crop path, snapshot path), None for what was not
        written. A full disk loses the pictures, never the read: failures are logged."""
        day = self.folder / seen_at.strftime("%Y-%m-%d")
        crop_path = self._write(day / f"{read_id}-plate.jpg", crop)
        if snapshot is not None and snapshot.shape[1] > self.snapshot_max_width:
            scale = self.snapshot_max_width / snapshot.shape[1]
            snapshot = cv2.resize(snapshot, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        snapshot_path = self._write(day / f"{read_id}-lane.jpg", snapshot)
        return crop_path, snapshot_path

    def _write(self, path: Path, image: np.ndarray | None) -> Path | None:
        if image is None or image.size == 0:
            return None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
            if not ok:
                raise OSError("JPEG encoding failed")
            path.write_bytes(data.tobytes())
        except OSError as error:
            log.warning("could not save evidence %s: %s", path.name, error)
            return None
        return path
