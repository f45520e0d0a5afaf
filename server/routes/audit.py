"""``GET /supervisor/audit``: the append-only log of supervisor actions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from server import audit
from server.deps import SessionDep, SupervisorDep
from server.plates import normalize_plate
from server.routes.common import SUPERVISOR_RESPONSES, Limit, Offset
from server.schemas import AuditAction, AuditOut, AuditPage

router = APIRouter(prefix="/supervisor", tags=["supervisor"], responses=SUPERVISOR_RESPONSES)


@router.get("/audit", response_model=AuditPage)
def audit_log(
    *,
    _supervisor: SupervisorDep,
    session: SessionDep,
    plate: Annotated[str | None, Query(max_length=32)] = None,
    action: AuditAction | None = None,
    since: Annotated[AwareDatetime | None, Query(description="at or after")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> AuditPage:
    """Audit rows newest first; there is no route that changes or deletes one."""
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
