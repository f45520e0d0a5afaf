"""Evidence images (JPEG snapshots and plate crops): checks, storage on disk, retention.

Files live in ``evidence_dir`` as ``<evidence_id>-<sha256 prefix>.jpg``; the database
row is the index. Expired evidence (older than ``evidence_retention_days``) is deleted,
rows first (committed), then files, so a crash leaves at most an orphan file, never a
row pointing at nothing.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import tempfile
import uuid
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import platformdirs
from fastapi import status
from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.booths import BoothIdentity
from server.config import ServerSettings
from server.db import utcnow
from server.models import Evidence
from server.schemas import EvidenceOut
from server.settlement import api_error

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3

JPEG_TYPE = "image/jpeg"
#: Largest image accepted, by the pixels its header claims (a 1280 px snapshot is ~1 MP).
MAX_PIXELS = 25_000_000


def evidence_root(settings: ServerSettings) -> Path:
    """Where evidence files go: the setting, else next to the SQLite file, else user data."""
    if settings.evidence_dir is not None:
        return settings.evidence_dir
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(url.database or "").resolve().parent / "evidence"
    return Path(platformdirs.user_data_dir("recoup-server", appauthor=False)) / "evidence"


def check_jpeg(data: bytes, content_type: str | None) -> None:
    """415 ``not_jpeg`` unless the body is declared and decodes as a JPEG image; 422
    ``image_too_large`` when its header claims more than ``MAX_PIXELS`` (a few hundred
    bytes can claim 65500 x 65500: the header is checked before anything is decoded)."""
    declared = (content_type or "").split(";")[0].strip().lower()
    if declared != JPEG_TYPE:
        raise api_error(
            "not_jpeg",
            f"evidence must be sent as Content-Type: {JPEG_TYPE}",
            http_status=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                kind = image.format
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise Image.DecompressionBombError(f"{width} x {height} pixels")
                image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise api_error(
            "image_too_large",
            f"the image claims too many pixels ({exc}); at most {MAX_PIXELS}",
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise api_error(
            "not_jpeg",
            "the body is not a readable JPEG image",
            http_status=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
        ) from exc
    if kind != "JPEG":
        raise api_error(
            "not_jpeg",
            f"the body is a {kind} image, not a JPEG",
            http_status=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
        )


def evidence_out(row: Evidence) -> EvidenceOut:
    """The API shape of an evidence row."""
    return EvidenceOut(
        evidence_id=row.evidence_id,
        kind=row.kind,  # type: ignore[arg-type]
        plate=row.plate,
        read_id=row.read_id,
        notice_id=row.notice_id,
        booth_id=row.booth_id,
        content_type=row.content_type,
        size_bytes=row.size_bytes,
        sha256=row.sha256,
        received_at=row.received_at,
    )


def sha256_hex(data: bytes) -> str:
    """The SHA-256 hex digest of ``data``."""
    return hashlib.sha256(data).hexdigest()


def fingerprint(
    *, kind: str, plate: str, read_id: uuid.UUID | None, notice_id: uuid.UUID | None, sha256: str
) -> dict[str, Any]:
    """What must match for an upload to count as a replay of a stored one."""
    return {
        "kind": kind,
        "plate": plate,
        "read_id": None if read_id is None else str(read_id),
        "notice_id": None if notice_id is None else str(notice_id),
        "sha256": sha256,
    }


def find_evidence(session: Session, evidence_id: uuid.UUID) -> Evidence | None:
    """The evidence row with ``evidence_id``, or None."""
    return session.scalar(select(Evidence).where(Evidence.evidence_id == evidence_id))


def write_file(root: Path, evidence_id: uuid.UUID, data: bytes, digest: str) -> str:
    """Write ``data`` atomically under ``root``; returns the file name."""
    root.mkdir(parents=True, exist_ok=True)
    name = f"{evidence_id}-{digest[:16]}.jpg"
    handle, temp = tempfile.mkstemp(dir=root, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        Path(temp).replace(root / name)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return name


@dataclass(frozen=True)
class Upload:
    """An uploaded image, checked and written to disk, not yet recorded."""

    evidence_id: uuid.UUID
    kind: str
    plate: str
    read_id: uuid.UUID | None
    notice_id: uuid.UUID | None
    size_bytes: int
    sha256: str
    filename: str = ""

    def fingerprint(self) -> dict[str, Any]:
        """What must match for an upload to count as a replay of a stored one."""
        return fingerprint(
            kind=self.kind,
            plate=self.plate,
            read_id=self.read_id,
            notice_id=self.notice_id,
            sha256=self.sha256,
        )


def stored_fingerprint(row: Evidence) -> dict[str, Any]:
    """The fingerprint of a stored evidence row."""
    return fingerprint(
        kind=row.kind,
        plate=row.plate,
        read_id=row.read_id,
        notice_id=row.notice_id,
        sha256=row.sha256,
    )


def replay_of(session: Session, upload: Upload, booth: BoothIdentity) -> Evidence | None:
    """The stored row ``upload`` replays, or None when it is new; 422
    ``idempotency_key_reused`` when the id was used for other evidence or by another booth."""
    row = find_evidence(session, upload.evidence_id)
    if row is None:
        return None
    if row.booth_id != booth.id or stored_fingerprint(row) != upload.fingerprint():
        raise api_error(
            "idempotency_key_reused",
            "this evidence_id was already used for different evidence",
        )
    return row


def record(session: Session, *, root: Path, upload: Upload, booth: BoothIdentity) -> Recorded:
    """Add the row of an upload whose file is written (committed). A concurrent upload
    of the same id wins the race: its row is answered, and this file removed if it is
    not the one that row names."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        row = replay_of(session, upload, booth)
        if row is not None:
            if row.filename != upload.filename:
                (root / upload.filename).unlink(missing_ok=True)
            return Recorded(200, evidence_out(row))
        row = Evidence(
            evidence_id=upload.evidence_id,
            booth_id=booth.id,
            plate=upload.plate,
            read_id=upload.read_id,
            notice_id=upload.notice_id,
            kind=upload.kind,
            content_type=JPEG_TYPE,
            size_bytes=upload.size_bytes,
            sha256=upload.sha256,
            filename=upload.filename,
        )
        session.add(row)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            logger.info("evidence upload conflict on attempt %d; retrying", attempt)
            if attempt == MAX_ATTEMPTS:
                raise
            continue
        logger.info(
            "evidence %s (%s, %d bytes) from %s",
            upload.evidence_id,
            upload.kind,
            upload.size_bytes,
            booth.id,
        )
        return Recorded(201, evidence_out(row))
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Recorded:
    """The HTTP status (201 stored, 200 replay) and the stored evidence."""

    http_status: int
    evidence: EvidenceOut


def file_path(root: Path, row: Evidence) -> Path:
    """Where the bytes of ``row`` are stored."""
    return root / row.filename


def purge_expired(
    session: Session, *, root: Path, retention_days: int, now: datetime | None = None
) -> int:
    """Delete evidence received more than ``retention_days`` before ``now``: rows, then files.

    Commits. Returns the number of evidence items deleted.
    """
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    rows = list(session.scalars(select(Evidence).where(Evidence.received_at < cutoff)))
    if not rows:
        session.rollback()
        return 0
    names = [row.filename for row in rows]
    for row in rows:
        session.delete(row)
    session.commit()
    for name in names:
        try:
            (root / name).unlink(missing_ok=True)
        except OSError as exc:
            logger.warning("could not delete expired evidence file %s: %s", name, exc)
    logger.info("purged %d evidence item(s) older than %d days", len(rows), retention_days)
    return len(rows)
