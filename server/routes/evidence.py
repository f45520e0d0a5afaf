"""Evidence images: booths upload JPEGs (``POST /evidence``), supervisors view them."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from server import audit, evidence
from server.booths import BoothIdentity
from server.deps import BoothCaller, SettingsDep, SupervisorCaller
from server.models import SupervisorToken
from server.plates import normalize_plate
from server.routes.common import BOOTH_ONLY, SUPERVISOR_RESPONSES, api_router
from server.schemas import ErrorOut, EvidenceKind, EvidenceOut
from server.settlement import api_error

logger = logging.getLogger(__name__)

booth_router = api_router(tags=["evidence"], responses=BOOTH_ONLY)
supervisor_router = api_router("/supervisor", tags=["supervisor"], responses=SUPERVISOR_RESPONSES)

EVIDENCE_PATH = "/evidence"
PLATE_MAX = 32
_JPEG_BODY = {
    "requestBody": {
        "required": True,
        "content": {evidence.JPEG_TYPE: {"schema": {"type": "string", "format": "binary"}}},
    }
}


async def raw_body(request: Request) -> bytes:
    """The request body as bytes (already size-checked by the middleware)."""
    return await request.body()


def _prepare(
    data: bytes, content_type: str | None, root: Path, upload: evidence.Upload
) -> evidence.Upload:
    """Check the image and write its file (on a worker thread, no connection held)."""
    evidence.check_jpeg(data, content_type)
    filename = evidence.write_file(root, upload.evidence_id, data, upload.sha256)
    return dataclasses.replace(upload, filename=filename)


@booth_router.post(
    EVIDENCE_PATH,
    status_code=status.HTTP_201_CREATED,
    response_model=EvidenceOut,
    openapi_extra=_JPEG_BODY,
    responses={
        200: {"model": EvidenceOut, "description": "replay: this evidence is already stored"},
        413: {"model": ErrorOut, "description": "payload_too_large (evidence_max_bytes)"},
        415: {"model": ErrorOut, "description": "not_jpeg"},
        422: {
            "model": ErrorOut,
            "description": "missing_subject, invalid_plate, image_too_large, "
            "idempotency_key_reused (or a validation error)",
        },
    },
)
async def upload_evidence(
    *,
    request: Request,
    data: Annotated[bytes, Depends(raw_body)],
    caller: BoothCaller,
    settings: SettingsDep,
    evidence_id: Annotated[uuid.UUID, Query(description="client-generated; idempotency key")],
    kind: Annotated[EvidenceKind, Query()],
    plate: Annotated[str, Query(min_length=1, max_length=32, description="the plate it is about")],
    read_id: Annotated[uuid.UUID | None, Query(description="the read it shows")] = None,
    notice_id: Annotated[uuid.UUID | None, Query(description="the notice it shows")] = None,
) -> JSONResponse:
    """Store a JPEG snapshot or plate crop sent as the raw body (``Content-Type: image/jpeg``).

    201 stored; 200 a replay (same id, same fields and bytes, same booth); 422
    ``idempotency_key_reused`` for the same id with anything different.
    """
    if read_id is None and notice_id is None:
        raise api_error("missing_subject", "give read_id or notice_id (or both)")
    normalized = normalize_plate(plate)
    if not normalized or len(normalized) > PLATE_MAX:
        raise api_error("invalid_plate", "a plate has 1 to 32 letters or digits")
    upload = evidence.Upload(
        evidence_id=evidence_id,
        kind=kind,
        plate=normalized,
        read_id=read_id,
        notice_id=notice_id,
        size_bytes=len(data),
        sha256=evidence.sha256_hex(data),
    )
    root = evidence.evidence_root(settings)

    def replayed(session: Session, booth: BoothIdentity) -> EvidenceOut | None:
        row = evidence.replay_of(session, upload, booth)
        return None if row is None else evidence.evidence_out(row)

    # Authenticate (and answer a replay) before anything is written to disk.
    stored = await caller.read(replayed)
    if stored is not None:
        return JSONResponse(status_code=status.HTTP_200_OK, content=stored.model_dump(mode="json"))
    written = await run_in_threadpool(
        _prepare, data, request.headers.get("content-type"), root, upload
    )

    def work(session: Session, booth: BoothIdentity) -> evidence.Recorded:
        return evidence.record(session, root=root, upload=written, booth=booth)

    recorded = await caller.write(work)
    return JSONResponse(
        status_code=recorded.http_status, content=recorded.evidence.model_dump(mode="json")
    )


@supervisor_router.get(
    "/evidence/{evidence_id}",
    response_class=Response,
    responses={
        200: {"content": {evidence.JPEG_TYPE: {}}, "description": "the JPEG image"},
        404: {"model": ErrorOut, "description": "unknown_evidence (or expired and purged)"},
    },
)
async def view_evidence(
    evidence_id: uuid.UUID, caller: SupervisorCaller, settings: SettingsDep
) -> Response:
    """The image itself; every view is written to the audit log."""
    root = evidence.evidence_root(settings)

    def work(session: Session, login: SupervisorToken) -> Path:
        row = evidence.find_evidence(session, evidence_id)
        path = None if row is None else evidence.file_path(root, row)
        if row is None or path is None or not path.is_file():
            raise api_error(
                "unknown_evidence",
                f"no evidence {evidence_id}",
                http_status=status.HTTP_404_NOT_FOUND,
            )
        audit.record(
            session,
            supervisor=login.supervisor,
            action="view_evidence",
            plate=row.plate,
            target=str(evidence_id),
            after={"evidence_id": str(evidence_id), "kind": row.kind, "sha256": row.sha256},
        )
        session.commit()
        return path

    path = await caller.write(work)
    try:
        data = await run_in_threadpool(path.read_bytes)
    except OSError as exc:  # purged between the check and the read
        raise api_error(
            "unknown_evidence", f"no evidence {evidence_id}", http_status=status.HTTP_404_NOT_FOUND
        ) from exc
    return Response(
        content=data,
        media_type=evidence.JPEG_TYPE,
        headers={"Cache-Control": "private, no-store"},
    )
