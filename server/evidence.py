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
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import platformdirs
from fastapi import status
from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from server.config import ServerSettings
from server.db import utcnow
from server.models import Booth, Evidence
from server.schemas import EvidenceOut
from server.settlement import api_error

logger = logging.getLogger(__name__)

JPEG_TYPE = "image/jpeg"


def evidence_root(settings: ServerSettings) -> Path:
    """Where evidence files go: the setting, else next to the SQLite file, else user data."""
    if settings.evidence_dir is not None:
        return settings.evidence_dir
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(url.database or "").resolve().parent / "evidence"
    return Path(platformdirs.user_data_dir("recoup-server", appauthor=False)) / "evidence"


def check_jpeg(data: bytes, content_type: str | None) -> None:
    """415 ``not_jpeg`` unless the body is declared and decodes as a JPEG image."""
    declared = (content_type or "").split(";")[0].strip().lower()
    if declared != JPEG_TYPE:
        raise api_error(
            "not_jpeg",
            f"evidence must be sent as Content-Type: {JPEG_TYPE}",
            http_status=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
        )
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format
            image.verify()
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


def store(
    session: Session,
    *,
    root: Path,
    booth: Booth,
    evidence_id: uuid.UUID,
    kind: str,
    plate: str,
    read_id: uuid.UUID | None,
    notice_id: uuid.UUID | None,
    data: bytes,
) -> Evidence:
    """Write the file and add its row (the caller commits)."""
    digest = sha256_hex(data)
    row = Evidence(
        evidence_id=evidence_id,
        booth_id=booth.id,
        plate=plate,
        read_id=read_id,
        notice_id=notice_id,
        kind=kind,
        content_type=JPEG_TYPE,
        size_bytes=len(data),
        sha256=digest,
        filename=write_file(root, evidence_id, data, digest),
    )
    session.add(row)
    return row


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
