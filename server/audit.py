"""The supervisors' audit log: one appended row per action, never updated or deleted.

Triggers created by migration 0003 refuse UPDATE and DELETE on ``audit_log`` in the
database itself, so no code path (and no route) can rewrite history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, get_args

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from server.db import utcnow
from server.models import AuditEntry, Supervisor
from server.schemas import AuditAction

ACTIONS: tuple[str, ...] = get_args(AuditAction)


def record(
    session: Session,
    *,
    supervisor: Supervisor,
    action: str,
    plate: str | None = None,
    target: str | None = None,
    reason: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> AuditEntry:
    """Append one audit row (flushed, so its id is known); the caller commits."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    row = AuditEntry(
        at=now or utcnow(),
        supervisor_id=supervisor.id,
        supervisor=supervisor.username,
        action=action,
        plate=plate,
        target=target,
        reason=reason,
        before=before,
        after=after,
    )
    session.add(row)
    session.flush()
    return row


def _filtered(
    query: Select[Any], *, plate: str | None, action: str | None, since: datetime | None
) -> Select[Any]:
    if plate:
        query = query.where(AuditEntry.plate == plate)
    if action:
        query = query.where(AuditEntry.action == action)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    return query


def page(
    session: Session,
    *,
    plate: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[AuditEntry], int]:
    """Audit rows newest first with the total count of rows matching the filters."""
    total = session.scalar(
        _filtered(select(func.count(AuditEntry.id)), plate=plate, action=action, since=since)
    )
    rows = session.scalars(
        _filtered(select(AuditEntry), plate=plate, action=action, since=since)
        .order_by(AuditEntry.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows), int(total or 0)
