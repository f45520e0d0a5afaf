"""The audit log: one appended row per supervisor (or booth) action, never changed.

Triggers created by migration 0003 refuse UPDATE and DELETE on ``audit_log`` in the
database itself, so no code path (and no route) can rewrite history.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, get_args

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from server.db import utcnow
from server.models import AuditEntry, BlacklistEntry, ParkingSession, Supervisor
from server.schemas import AuditAction

ACTIONS: tuple[str, ...] = get_args(AuditAction)


def record(
    session: Session,
    *,
    supervisor: Supervisor | None,
    action: str,
    booth_id: str | None = None,
    plate: str | None = None,
    target: str | None = None,
    reason: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> AuditEntry:
    """Append one audit row (flushed, so its id is known); the caller commits.

    A booth's own action has no ``supervisor``, only its ``booth_id``.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if supervisor is None and booth_id is None:
        raise ValueError("an audit row names a supervisor, a booth or both")
    row = AuditEntry(
        at=now or utcnow(),
        supervisor_id=None if supervisor is None else supervisor.id,
        supervisor=None if supervisor is None else supervisor.username,
        booth_id=booth_id,
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


def entry_snapshot(session: Session, plate: str) -> dict[str, Any] | None:
    """The plate's blacklist entry as published now (None: not listed), for before/after."""
    entry = session.get(BlacklistEntry, plate, populate_existing=True)
    return None if entry is None else entry.entry


def sessions_snapshot(rows: Sequence[ParkingSession]) -> list[dict[str, Any]]:
    """Id, status and what is still owed of each session, for before/after."""
    return [{"id": row.id, "status": row.status, "unpaid_cents": row.unpaid_cents} for row in rows]


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
