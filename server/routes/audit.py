"""``GET /supervisor/audit``: the append-only log of supervisor actions."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from sqlalchemy.orm import Session

from server import audit
from server.deps import SupervisorCaller
from server.models import SupervisorToken
from server.plates import normalize_plate
from server.routes.common import SUPERVISOR_RESPONSES, Limit, Offset, api_router
from server.schemas import AuditAction, AuditOut, AuditPage, IsoDateTime

router = api_router("/supervisor", tags=["supervisor"], responses=SUPERVISOR_RESPONSES)


@router.get("/audit", response_model=AuditPage)
async def audit_log(
    *,
    caller: SupervisorCaller,
    plate: Annotated[str | None, Query(max_length=32)] = None,
    action: AuditAction | None = None,
    since: Annotated[IsoDateTime | None, Query(description="at or after")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> AuditPage:
    """Audit rows newest first; there is no route that changes or deletes one."""

    def work(session: Session, _login: SupervisorToken) -> AuditPage:
        rows, total = audit.page(
            session,
            plate=normalize_plate(plate or "") or None,
            action=action,
            since=since,
            limit=limit,
            offset=offset,
        )
        return AuditPage(
            items=[AuditOut.model_validate(row, from_attributes=True) for row in rows],
            total=total,
            limit=limit,
            offset=offset,
        )

    return await caller.read(work)
