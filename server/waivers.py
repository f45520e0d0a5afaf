"""Waiver requests from booths: create (idempotent by ``request_id``), find, list, cancel;
and the check that a waived outcome names a supervisor who approved it."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import HTTPException, status
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server import audit
from server.accounts import normalize_username
from server.booths import BoothIdentity
from server.db import utcnow
from server.models import Supervisor, WaiverRequest
from server.schemas import OutcomeIn, WaiverRequestIn, WaiverRequestOut
from server.settlement import api_error, lock_sessions

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3


def waiver_out(row: WaiverRequest) -> WaiverRequestOut:
    """The API shape of a waiver request."""
    return WaiverRequestOut(
        request_id=row.request_id,
        status=row.status,  # type: ignore[arg-type]
        plate=row.plate,
        session_ids=list(row.session_ids),
        notice_id=row.notice_id,
        reason=row.reason,
        lane=row.lane,
        attendant=row.attendant,
        booth_id=row.booth_id,
        created_at=row.created_at,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
        decision_reason=row.decision_reason,
        waived_session_ids=list(row.waived_session_ids or []),
    )


def waiver_json(row: WaiverRequest) -> dict[str, Any]:
    """The API shape of a waiver request as plain JSON data (for audit snapshots)."""
    return waiver_out(row).model_dump(mode="json")


def find_request(
    session: Session, request_id: uuid.UUID, *, lock: bool = False
) -> WaiverRequest | None:
    """The waiver request ``request_id`` (locked until the transaction ends when ``lock``)."""
    query = select(WaiverRequest).where(WaiverRequest.request_id == request_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.scalar(query)


def unknown_request(request_id: uuid.UUID) -> HTTPException:
    """404 ``unknown_waiver_request``."""
    return api_error(
        "unknown_waiver_request",
        f"no waiver request {request_id}",
        http_status=status.HTTP_404_NOT_FOUND,
    )


def existing_or_none(
    session: Session, *, body: WaiverRequestIn, booth: BoothIdentity, request_json: dict[str, Any]
) -> WaiverRequest | None:
    """The stored request for a replay; 422 ``idempotency_key_reused`` if its body differs
    or it is another booth's (whose request this booth must not see)."""
    row = find_request(session, body.request_id)
    if row is not None and (row.booth_id != booth.id or row.request != request_json):
        raise api_error(
            "idempotency_key_reused",
            "this request_id was already used for a different waiver request",
        )
    return row


def submit_request(
    session: Session, *, body: WaiverRequestIn, booth: BoothIdentity
) -> WaiverRequest:
    """The request ``body`` asks for, created and committed once (idempotent by
    ``request_id``); a replay returns it as it now stands."""
    request_json = body.model_dump(mode="json")
    for attempt in range(1, MAX_ATTEMPTS + 1):
        row = existing_or_none(session, body=body, booth=booth, request_json=request_json)
        if row is not None:
            return row
        row = create_request(session, body=body, booth=booth, request_json=request_json)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            logger.info("waiver request conflict on attempt %d; retrying", attempt)
            if attempt == MAX_ATTEMPTS:
                raise
            continue
        logger.info("waiver request %s from %s for %s", body.request_id, booth.id, body.plate)
        return row
    raise AssertionError("unreachable")


def create_request(
    session: Session, *, body: WaiverRequestIn, booth: BoothIdentity, request_json: dict[str, Any]
) -> WaiverRequest:
    """A new pending request; 422 ``unknown_sessions`` for sessions not of this plate."""
    lock_sessions(session, plate=body.plate, session_ids=body.session_ids)
    row = WaiverRequest(
        request_id=body.request_id,
        booth_id=booth.id,
        notice_id=body.notice_id,
        plate=body.plate,
        session_ids=list(body.session_ids),
        reason=body.reason,
        lane=body.lane,
        attendant=body.attendant,
        request=request_json,
        status="pending",
        waived_session_ids=[],
    )
    session.add(row)
    return row


def page(
    session: Session,
    *,
    state: str | None,
    plate: str | None,
    limit: int,
    offset: int,
) -> tuple[list[WaiverRequest], int]:
    """Waiver requests oldest first (the queue order) and their total count."""
    query = select(WaiverRequest)
    count = select(func.count(WaiverRequest.id))
    if state:
        query = query.where(WaiverRequest.status == state)
        count = count.where(WaiverRequest.status == state)
    if plate:
        query = query.where(WaiverRequest.plate == plate)
        count = count.where(WaiverRequest.plate == plate)
    rows = session.scalars(query.order_by(WaiverRequest.id).limit(limit).offset(offset))
    return list(rows), int(session.scalar(count) or 0)


def cancel_request(
    session: Session, *, request_id: uuid.UUID, booth: BoothIdentity, reason: str
) -> WaiverRequest:
    """Withdraw a pending request of ``booth`` (audited); a decided one is left as it is.

    404 ``unknown_waiver_request`` for a request of another booth. Cancelling twice, or
    after a supervisor decided, changes nothing: the answer says where the request
    stands, so the booth knows whether an approval came first. The caller commits.
    """
    row = find_request(session, request_id, lock=True)
    if row is None or row.booth_id != booth.id:
        raise unknown_request(request_id)
    if row.status != "pending":
        return row
    before = waiver_json(row)
    row.status = "cancelled"
    row.decided_at = utcnow()
    row.decision_reason = reason
    audit.record(
        session,
        supervisor=None,
        booth_id=booth.id,
        action="cancel_waiver",
        plate=row.plate,
        target=str(row.request_id),
        reason=reason,
        before={"request": before},
        after={"request": waiver_json(row)},
        now=row.decided_at,
    )
    return row


def approving_supervisor(
    session: Session, *, body: OutcomeIn, booth: BoothIdentity
) -> Supervisor | None:
    """Check who approved a ``waived`` outcome; 422 when no supervisor did.

    With ``waiver_request_id`` the request must be this booth's, for this plate, and
    approved by ``approved_by`` (that decision is already audited: returns None).
    Without it a supervisor approved at the booth with the offline PIN: ``approved_by``
    must be an active supervisor, who is returned so the approval can be audited.
    """
    approved_by = normalize_username(body.approved_by or "")
    if body.waiver_request_id is not None:
        row = find_request(session, body.waiver_request_id)
        if (
            row is None
            or row.booth_id != booth.id
            or row.plate != body.plate
            or row.status != "approved"
            or normalize_username(row.decided_by or "") != approved_by
        ):
            raise api_error(
                "waiver_not_approved",
                f"waiver request {body.waiver_request_id} was not approved by {body.approved_by}",
            )
        return None
    supervisor = session.scalar(select(Supervisor).where(Supervisor.username == approved_by))
    if supervisor is None or not supervisor.active:
        raise api_error(
            "unknown_supervisor",
            f"{body.approved_by!r} is not an active supervisor; a waiver needs one",
        )
    return supervisor
