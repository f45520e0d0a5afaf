"""Evidence images of a read: the plate crop and a snapshot of the lane, as JPEG files.

They go with the read into the store (paths), to the notice the attendant sees, and
later to the server with the outcome. Snapshots are scaled down: a booth keeps many.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np

log = logging.getLogger(__name__)

SNAPSHOT_MAX_WIDTH = 1280
JPEG_QUALITY = 85
_DAY_FORMAT = "%Y-%m-%d"


class EvidenceWriter:
    """Writes a read's crop and snapshot under ``folder/YYYY-MM-DD/``, keeping the
    folders of the last ``keep_days`` days (today included): a busy lane writes a few
    hundred MB a day. An outcome's pictures are copied for the server when it is
    recorded, so they do not depend on these."""

    def __init__(
        self,
        folder: Path,
        *,
        keep_days: int,
        snapshot_max_width: int = SNAPSHOT_MAX_WIDTH,
    ) -> None:
        if keep_days < 1:
            raise ValueError(f"keep_days must be at least 1, got {keep_days}")
        self.folder = Path(folder)
        self.keep_days = keep_days
        self.snapshot_max_width = snapshot_max_width

    def prune(self, today: date) -> int:
        """Delete the day folders older than the last ``keep_days`` days; returns how many.
        Other files and folders are left alone; failures are logged."""
        oldest_kept = today - timedelta(days=self.keep_days - 1)
        removed = 0
        try:
            folders = [p for p in self.folder.iterdir() if p.is_dir()]
        except OSError:
            return 0  # no pictures yet
        for folder in folders:
            try:
                day = datetime.strptime(folder.name, _DAY_FORMAT).date()
            except ValueError:
                continue
            if day >= oldest_kept:
                continue
            try:
                shutil.rmtree(folder)
                removed += 1
            except OSError as error:
                log.warning("could not delete old evidence %s: %s", folder.name, error)
        if removed:
            log.info("deleted %d day(s) of evidence older than %s", removed, oldest_kept)
        return removed

    def save(
        self,
        read_id: uuid.UUID,
        seen_at: datetime,
        *,
        crop: np.ndarray | None,
        snapshot: np.ndarray | None,
    ) -> tuple[Path | None, Path | None]:
        """Write what is given; returns (crop path, snapshot path), None for what was not
        written. A full disk loses the pictures, never the read: failures are logged.
        The first write of a day deletes the days no longer kept."""
        day = self.folder / seen_at.strftime(_DAY_FORMAT)
        if not day.is_dir():
            self.prune(seen_at.date())
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
