"""Waiver requests: booths ask (``/waiver-requests``), supervisors decide."""

from __future__ import annotations

import logging
import uuid
from typing import Annotated

from fastapi import Query
from sqlalchemy.orm import Session

from server import waivers
from server.booths import BoothIdentity
from server.decisions import decide_waiver
from server.deps import BoothCaller, SettingsDep, SupervisorCaller
from server.models import SupervisorToken
from server.plates import normalize_plate
from server.routes.common import BOOTH_ONLY, SUPERVISOR_RESPONSES, Limit, Offset, api_router
from server.schemas import (
    ErrorOut,
    WaiverCancelIn,
    WaiverDecisionIn,
    WaiverRequestIn,
    WaiverRequestOut,
    WaiverRequestsPage,
    WaiverStatus,
)

logger = logging.getLogger(__name__)

booth_router = api_router(tags=["waivers"], responses=BOOTH_ONLY)
supervisor_router = api_router("/supervisor", tags=["supervisor"], responses=SUPERVISOR_RESPONSES)

UNKNOWN = {404: {"model": ErrorOut, "description": "unknown_waiver_request"}}


@booth_router.post(
    "/waiver-requests",
    response_model=WaiverRequestOut,
    responses={
        422: {
            "model": ErrorOut,
            "description": "unknown_sessions, idempotency_key_reused (or a validation error)",
        }
    },
)
async def post_waiver_request(body: WaiverRequestIn, caller: BoothCaller) -> WaiverRequestOut:
    """Ask a supervisor to waive sessions; answers ``pending``.

    Idempotent by ``request_id``: a replay answers 200 with the request's current state;
    the same id with a different body, or another booth's id, is 422
    ``idempotency_key_reused``.
    """

    def work(session: Session, booth: BoothIdentity) -> WaiverRequestOut:
        return waivers.waiver_out(waivers.submit_request(session, body=body, booth=booth))

    return await caller.write(work)


@booth_router.get(
    "/waiver-requests/{request_id}", response_model=WaiverRequestOut, responses=UNKNOWN
)
async def get_waiver_request(request_id: uuid.UUID, caller: BoothCaller) -> WaiverRequestOut:
    """The request's status and the supervisor's decision; only the booth that asked sees it."""

    def work(session: Session, booth: BoothIdentity) -> WaiverRequestOut:
        row = waivers.find_request(session, request_id)
        if row is None or row.booth_id != booth.id:
            raise waivers.unknown_request(request_id)
        return waivers.waiver_out(row)

    return await caller.read(work)


@booth_router.post(
    "/waiver-requests/{request_id}/cancel", response_model=WaiverRequestOut, responses=UNKNOWN
)
async def cancel_waiver_request(
    request_id: uuid.UUID, body: WaiverCancelIn, caller: BoothCaller
) -> WaiverRequestOut:
    """Withdraw this booth's pending request (audited as ``cancel_waiver``).

    Answers the request as it now stands: ``cancelled``, or ``approved`` / ``refused``
    when a supervisor decided first (then nothing changes; the booth must honour it).
    Idempotent: cancelling again answers the same.
    """

    def work(session: Session, booth: BoothIdentity) -> WaiverRequestOut:
        row = waivers.cancel_request(
            session, request_id=request_id, booth=booth, reason=body.reason
        )
        session.commit()
        logger.info("waiver request %s cancel by %s: now %s", request_id, booth.id, row.status)
        return waivers.waiver_out(row)

    return await caller.write(work)


@supervisor_router.get("/waiver-requests", response_model=WaiverRequestsPage)
async def list_waiver_requests(
    *,
    caller: SupervisorCaller,
    status: Annotated[WaiverStatus | None, Query(description="default: all")] = None,
    plate: Annotated[str | None, Query(max_length=32)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> WaiverRequestsPage:
    """Waiver requests, oldest first (the queue order)."""

    def work(session: Session, _login: SupervisorToken) -> WaiverRequestsPage:
        rows, total = waivers.page(
            session,
            state=status,
            plate=normalize_plate(plate or "") or None,
            limit=limit,
            offset=offset,
        )
        return WaiverRequestsPage(
            items=[waivers.waiver_out(row) for row in rows],
            total=total,
            limit=limit,
            offset=offset,
        )

    return await caller.read(work)


@supervisor_router.post(
    "/waiver-requests/{request_id}/decide",
    response_model=WaiverRequestOut,
    responses={**UNKNOWN, 409: {"model": ErrorOut, "description": "already_decided"}},
)
async def decide(
    request_id: uuid.UUID, body: WaiverDecisionIn, caller: SupervisorCaller, settings: SettingsDep
) -> WaiverRequestOut:
    """Approve (waive the sessions still open, entry removed or upserted) or refuse."""

    def work(session: Session, login: SupervisorToken) -> WaiverRequestOut:
        supervisor = login.supervisor
        row = decide_waiver(
            session,
            request_id=request_id,
            approve=body.approve,
            reason=body.reason,
            supervisor=supervisor,
            settings=settings,
        )
        session.commit()
        logger.info("waiver request %s %s by %s", request_id, row.status, supervisor.username)
        return waivers.waiver_out(row)

    return await caller.write(work)
