"""Evidence images: booths upload JPEGs (``POST /evidence``), supervisors view them."""

from __future__ import annotations

import logging
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from server import audit, evidence
from server.deps import BoothDep, SessionDep, SettingsDep, SupervisorDep
from server.plates import normalize_plate
from server.routes.common import BOOTH_ONLY, SUPERVISOR_RESPONSES
from server.schemas import ErrorOut, EvidenceKind, EvidenceOut
from server.settlement import api_error

logger = logging.getLogger(__name__)

booth_router = APIRouter(tags=["evidence"], responses=BOOTH_ONLY)
supervisor_router = APIRouter(
    prefix="/supervisor", tags=["supervisor"], responses=SUPERVISOR_RESPONSES
)

EVIDENCE_PATH = "/evidence"
MAX_ATTEMPTS = 3
_JPEG_BODY = {
    "requestBody": {
        "required": True,
        "content": {evidence.JPEG_TYPE: {"schema": {"type": "string", "format": "binary"}}},
    }
}


async def raw_body(request: Request) -> bytes:
    """The request body as bytes (already size-checked by the middleware)."""
    return await request.body()


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
            "description": "missing_subject, idempotency_key_reused (or a validation error)",
        },
    },
)
def upload_evidence(
    *,
    request: Request,
    data: Annotated[bytes, Depends(raw_body)],
    booth: BoothDep,
    session: SessionDep,
    settings: SettingsDep,
    evidence_id: Annotated[uuid.UUID, Query(description="client-generated; idempotency key")],
    kind: Annotated[EvidenceKind, Query()],
    plate: Annotated[str, Query(min_length=1, max_length=32, description="the plate it is about")],
    read_id: Annotated[uuid.UUID | None, Query(description="the read it shows")] = None,
    notice_id: Annotated[uuid.UUID | None, Query(description="the notice it shows")] = None,
) -> JSONResponse:
    """Store a JPEG snapshot or plate crop sent as the raw body (``Content-Type: image/jpeg``).

    201 stored; 200 a replay (same id, same fields and bytes); 422 ``idempotency_key_reused``
    for the same id with anything different.
    """
    if read_id is None and notice_id is None:
        raise api_error("missing_subject", "give read_id or notice_id (or both)")
    plate = normalize_plate(plate)
    if not plate:
        raise api_error("invalid_plate", "the plate has no letters or digits")
    evidence.check_jpeg(data, request.headers.get("content-type"))
    sent = evidence.fingerprint(
        kind=kind,
        plate=plate,
        read_id=read_id,
        notice_id=notice_id,
        sha256=evidence.sha256_hex(data),
    )
    root = evidence.evidence_root(settings)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        row = evidence.find_evidence(session, evidence_id)
        if row is not None:
            stored = evidence.fingerprint(
                kind=row.kind,
                plate=row.plate,
                read_id=row.read_id,
                notice_id=row.notice_id,
                sha256=row.sha256,
            )
            if stored != sent:
                raise api_error(
                    "idempotency_key_reused",
                    "this evidence_id was already used for different evidence",
                )
            out = evidence.evidence_out(row).model_dump(mode="json")
            return JSONResponse(status_code=status.HTTP_200_OK, content=out)
        row = evidence.store(
            session,
            root=root,
            booth=booth,
            evidence_id=evidence_id,
            kind=kind,
            plate=plate,
            read_id=read_id,
            notice_id=notice_id,
            data=data,
        )
        filename = row.filename
        try:
            session.commit()
        except IntegrityError:
            # The same evidence_id committed concurrently: look again (replay or reuse).
            session.rollback()
            winner = evidence.find_evidence(session, evidence_id)
            if winner is None or winner.filename != filename:
                (root / filename).unlink(missing_ok=True)
            logger.info("evidence upload conflict on attempt %d; retrying", attempt)
            if attempt == MAX_ATTEMPTS:
                raise
            continue
        logger.info("evidence %s (%s, %d bytes) from %s", evidence_id, kind, len(data), booth.id)
        out = evidence.evidence_out(row).model_dump(mode="json")
        return JSONResponse(status_code=status.HTTP_201_CREATED, content=out)
    raise AssertionError("unreachable")


@supervisor_router.get(
    "/evidence/{evidence_id}",
    response_class=Response,
    responses={
        200: {"content": {evidence.JPEG_TYPE: {}}, "description": "the JPEG image"},
        404: {"model": ErrorOut, "description": "unknown_evidence (or expired and purged)"},
    },
)
def view_evidence(
    evidence_id: uuid.UUID,
    supervisor: SupervisorDep,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """The image itself; every view is written to the audit log."""
    row = evidence.find_evidence(session, evidence_id)
    path = None if row is None else evidence.file_path(evidence.evidence_root(settings), row)
    if row is None or path is None or not path.is_file():
        raise api_error(
            "unknown_evidence",
            f"no evidence {evidence_id}",
            http_status=status.HTTP_404_NOT_FOUND,
        )
    data = path.read_bytes()
    audit.record(
        session,
        supervisor=supervisor,
        action="view_evidence",
        plate=row.plate,
        target=str(evidence_id),
        after={"evidence_id": str(evidence_id), "kind": row.kind, "sha256": row.sha256},
    )
    session.commit()
    return Response(
        content=data,
        media_type=evidence.JPEG_TYPE,
        headers={"Cache-Control": "private, no-store"},
    )
