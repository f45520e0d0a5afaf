"""Evidence uploads: the JPEGs of a notice, prepared for the server and kept until sent.

When an outcome is recorded, the read's snapshot and plate crop (written at read time by
:class:`desktop.recognition.evidence.EvidenceWriter`) are re-encoded for upload (longest
side at most :data:`SNAPSHOT_MAX_SIDE` / :data:`CROP_MAX_SIDE` pixels, JPEG quality
:data:`UPLOAD_JPEG_QUALITY`) into ``<data folder>/evidence-outbox/``, and one outbox row
of kind :data:`OUTBOX_EVIDENCE` per image commits with the outcome. The row's payload
holds the file's name, size and SHA-256, never the bytes: images are 50-400 KB each,
``Outbox.due`` loads up to 50 payloads at a time, and delivered rows are kept as
history, so bytes in the SQLite file would bloat it for good. The file is deleted once
the server has it (or has refused it for good); the small row stays.

Each prepared file has a unique name, so preparing again (a double click racing the
first outcome) can never overwrite or delete a file that another row still points to.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import tempfile
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

log = logging.getLogger(__name__)

OUTBOX_EVIDENCE = "evidence"
FOLDER_NAME = "evidence-outbox"
SNAPSHOT_MAX_SIDE = 1280
CROP_MAX_SIDE = 640
UPLOAD_JPEG_QUALITY = 80
SWEEP_MIN_AGE_S = 600.0
# Evidence ids are derived from the notice, so the same image of the same notice always
# has the same idempotency key.
_NAMESPACE = uuid.UUID("6f1c2a4e-93b5-4d0e-8a57-2f9c1e4b7d30")

EvidenceKind = Literal["snapshot", "crop"]
MAX_SIDE: dict[str, int] = {"snapshot": SNAPSHOT_MAX_SIDE, "crop": CROP_MAX_SIDE}


def evidence_id_for(notice_id: uuid.UUID, kind: str) -> uuid.UUID:
    """The idempotency key of one image of one notice (stable across retries)."""
    return uuid.uuid5(_NAMESPACE, f"{notice_id}/{kind}")


@dataclass(frozen=True)
class PreparedEvidence:
    """One JPEG written for upload, not yet (or no longer) in the outbox."""

    evidence_id: uuid.UUID
    kind: EvidenceKind
    path: Path
    size_bytes: int
    sha256: str
    width: int
    height: int

    def payload(
        self, *, plate: str, read_id: uuid.UUID | None, notice_id: uuid.UUID
    ) -> dict[str, Any]:
        """The outbox payload: the upload's query parameters and the file to send."""
        return {
            "evidence_id": str(self.evidence_id),
            "kind": self.kind,
            "plate": plate,
            "read_id": None if read_id is None else str(read_id),
            "notice_id": str(notice_id),
            "file": self.path.name,
            "size_bytes": self.size_bytes,
            "sha256": self.sha256,
        }


class EvidenceFileError(LookupError):
    """The file of an evidence outbox row is missing or not what was queued."""


def encode_for_upload(image: np.ndarray, max_side: int) -> bytes:
    """``image`` scaled down to ``max_side`` (longest side) as a JPEG of upload quality."""
    height, width = image.shape[:2]
    longest = max(height, width)
    if longest > max_side:
        scale = max_side / longest
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, UPLOAD_JPEG_QUALITY])
    if not ok:
        raise OSError("JPEG encoding failed")
    return data.tobytes()


class EvidenceUploads:
    """The folder of evidence files waiting for the sync worker."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def prepare(
        self, notice_id: uuid.UUID, sources: Mapping[EvidenceKind, Path | str | None]
    ) -> list[PreparedEvidence]:
        """Re-encode each existing source image for upload; missing or unreadable ones are
        skipped with a warning (a lost picture never blocks an outcome)."""
        prepared: list[PreparedEvidence] = []
        for kind, source in sources.items():
            if source is None:
                continue
            try:
                prepared.append(self._prepare_one(notice_id, kind, Path(source)))
            except OSError as exc:
                log.warning("evidence %s of notice %s not prepared: %s", kind, notice_id, exc)
        return prepared

    def _prepare_one(
        self, notice_id: uuid.UUID, kind: EvidenceKind, source: Path
    ) -> PreparedEvidence:
        image = cv2.imread(str(source), cv2.IMREAD_COLOR)
        if image is None or image.size == 0:
            raise OSError(f"cannot read {source.name}")
        data = encode_for_upload(image, MAX_SIDE[kind])
        evidence_id = evidence_id_for(notice_id, kind)
        target = self.folder / f"{evidence_id}-{secrets.token_hex(4)}.jpg"
        _write_atomically(target, data)
        height, width = image.shape[:2]
        scale = min(1.0, MAX_SIDE[kind] / max(height, width))
        return PreparedEvidence(
            evidence_id=evidence_id,
            kind=kind,
            path=target,
            size_bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            width=max(1, round(width * scale)),
            height=max(1, round(height * scale)),
        )

    def discard(self, prepared: Iterable[PreparedEvidence]) -> None:
        """Delete prepared files that did not make it into the outbox."""
        for item in prepared:
            self.remove(item.path.name)

    def read(self, payload: Mapping[str, Any]) -> bytes:
        """The bytes of an outbox row's file, checked against its size and SHA-256."""
        path = self._path(payload)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise EvidenceFileError(f"evidence file {path.name} unreadable: {exc}") from exc
        if len(data) != payload.get("size_bytes") or (
            hashlib.sha256(data).hexdigest() != payload.get("sha256")
        ):
            raise EvidenceFileError(f"evidence file {path.name} changed since it was queued")
        return data

    def remove(self, name: str) -> None:
        """Delete one file of the folder (sent, refused or never queued)."""
        path = self.folder / Path(name).name
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("could not delete evidence file %s: %s", path.name, exc)

    def remove_for(self, payload: Mapping[str, Any]) -> None:
        """Delete the file of an outbox row's payload."""
        self.remove(str(payload.get("file", "")))

    def files(self) -> list[Path]:
        """The evidence files waiting in the folder, by name."""
        if not self.folder.is_dir():
            return []
        return sorted(self.folder.glob("*.jpg"))

    def sweep(self, keep: Iterable[str], *, min_age_s: float = SWEEP_MIN_AGE_S) -> int:
        """Delete files no pending row names (left by a crash before the commit or after
        the delivery), once older than ``min_age_s`` (an outcome being recorded right now
        has written its files but not yet committed their rows)."""
        wanted = set(keep)
        cutoff = time.time() - min_age_s
        removed = 0
        for path in self.files():
            if path.name not in wanted and _modified_before(path, cutoff):
                self.remove(path.name)
                removed += 1
        if removed:
            log.info("removed %d evidence file(s) no outbox row needs", removed)
        return removed

    def _path(self, payload: Mapping[str, Any]) -> Path:
        name = str(payload.get("file") or "")
        if not name or Path(name).name != name:
            raise EvidenceFileError(f"evidence payload names no file: {name!r}")
        return self.folder / name


def _modified_before(path: Path, cutoff: float) -> bool:
    try:
        return path.stat().st_mtime < cutoff
    except OSError:
        return False


def _write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=target.parent, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        Path(temp).replace(target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


__all__ = [
    "OUTBOX_EVIDENCE",
    "EvidenceFileError",
    "EvidenceUploads",
    "PreparedEvidence",
    "encode_for_upload",
    "evidence_id_for",
]
