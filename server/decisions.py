"""What supervisors decide: dismiss a flag, resolve a dispute, decide a waiver request.

Each decision runs in the caller's transaction and locks in the order every other
writer uses (the sessions, then the feed counter inside ``refresh_entry``), changes
sessions, refreshes the blacklist entry (appending ``remove`` / ``upsert`` changes for
the booths' caches) and appends one audit row with snapshots before and after. The
caller commits.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import status
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import audit
from server.blacklist import refresh_entry
from server.config import ServerSettings
from server.db import utcnow
from server.flags import add_history, dismissed_session_ids
from server.models import (
    AuditEntry,
    BlacklistEntry,
    FlagHistory,
    Supervisor,
    WaiverRequest,
)
from server.settlement import api_error, lock_sessions
from server.vehicles import open_sessions, sessions_for_plate
from server.waivers import find_request, unknown_request, waiver_json

OPEN = ("unpaid", "disputed")


def _refresh(session: Session, plate: str, settings: ServerSettings) -> BlacklistEntry | None:
    session.flush()
    return refresh_entry(
        session, plate=plate, currency=settings.currency, keep=settings.change_log_keep
    )


def dismiss_flag(
    session: Session,
    *,
    plate: str,
    reason: str,
    supervisor: Supervisor,
    settings: ServerSettings,
    now: datetime | None = None,
) -> tuple[FlagHistory, AuditEntry]:
    """Clear ``plate``'s flag as a false positive; its sessions stay as they are.

    404 ``no_flag`` when the plate is not listed; 409 ``already_cleared`` when its last
    flag was already dismissed. The entry is removed (a ``remove`` change) and the
    dismissed sessions are never listed again; a new unpaid session flags it anew.
    """
    now = now or utcnow()
    dismissed = dismissed_session_ids(session, plate=plate)
    ids = [
        r.id
        for r in open_sessions(sessions_for_plate(session, plate=plate))
        if r.id not in dismissed
    ]
    rows = [r for r in lock_sessions(session, plate=plate, session_ids=ids) if r.status in OPEN]
    before_entry = audit.entry_snapshot(session, plate)
    if before_entry is None:
        last = session.scalar(
            select(FlagHistory)
            .where(FlagHistory.plate == plate)
            .order_by(FlagHistory.id.desc())
            .limit(1)
        )
        if last is not None and last.status == "cleared":
            raise api_error(
                "already_cleared",
                f"the flag of {plate} was already dismissed",
                http_status=status.HTTP_409_CONFLICT,
            )
        raise api_error("no_flag", f"{plate} is not flagged", http_status=status.HTTP_404_NOT_FOUND)
    history = add_history(
        session,
        plate=plate,
        status="cleared",
        rows=rows,
        currency=settings.currency,
        decided_by=supervisor.username,
        source="supervisor",
        reason=reason,
        now=now,
    )
    entry = _refresh(session, plate, settings)
    row = audit.record(
        session,
        supervisor=supervisor,
        action="dismiss_flag",
        plate=plate,
        target=plate,
        reason=reason,
        before={"flag": before_entry, "sessions": audit.sessions_snapshot(rows)},
        after={
            "flag": None if entry is None else entry.entry,
            "status": "cleared",
            "cleared_session_ids": history.session_ids,
            "sessions": audit.sessions_snapshot(rows),
        },
        now=now,
    )
    return history, row


def resolve_dispute(
    session: Session,
    *,
    plate: str,
    decision: str,
    reason: str,
    supervisor: Supervisor,
    settings: ServerSettings,
    now: datetime | None = None,
) -> tuple[list[int], BlacklistEntry | None, AuditEntry]:
    """Decide ``plate``'s disputed sessions: ``upheld`` waives them, ``rejected`` makes
    them unpaid again (the entry turns ``active``, so booths raise notices again).

    409 ``no_dispute`` when no session of the plate is disputed. Returns the session
    ids, the entry afterwards (None: not listed) and the audit row.
    """
    now = now or utcnow()
    ids = [r.id for r in sessions_for_plate(session, plate=plate) if r.status == "disputed"]
    rows = [
        r for r in lock_sessions(session, plate=plate, session_ids=ids) if r.status == "disputed"
    ]
    ids = [r.id for r in rows]
    if not ids:
        raise api_error(
            "no_dispute",
            f"{plate} has no disputed session",
            http_status=status.HTTP_409_CONFLICT,
        )
    before = {
        "entry": audit.entry_snapshot(session, plate),
        "sessions": audit.sessions_snapshot(rows),
    }
    if decision == "upheld":
        add_history(
            session,
            plate=plate,
            status="waived",
            rows=rows,
            currency=settings.currency,
            decided_by=supervisor.username,
            source="supervisor",
            reason=reason,
            now=now,
        )
    for row in rows:
        row.status = "waived" if decision == "upheld" else "unpaid"
    entry = _refresh(session, plate, settings)
    row = audit.record(
        session,
        supervisor=supervisor,
        action="resolve_dispute",
        plate=plate,
        target=decision,
        reason=reason,
        before=before,
        after={
            "decision": decision,
            "entry": None if entry is None else entry.entry,
            "sessions": audit.sessions_snapshot(rows),
        },
        now=now,
    )
    return ids, entry, row


def decide_waiver(
    session: Session,
    *,
    request_id: uuid.UUID,
    approve: bool,
    reason: str,
    supervisor: Supervisor,
    settings: ServerSettings,
    now: datetime | None = None,
) -> WaiverRequest:
    """Approve (waive the request's sessions that are still open) or refuse it.

    404 ``unknown_waiver_request``; 409 ``already_decided`` for a second decision.
    """
    now = now or utcnow()
    request = find_request(session, request_id, lock=True)
    if request is None:
        raise unknown_request(request_id)
    if request.status != "pending":
        raise api_error(
            "already_decided",
            f"waiver request {request_id} was already {request.status}",
            http_status=status.HTTP_409_CONFLICT,
            status=request.status,
        )
    rows = lock_sessions(session, plate=request.plate, session_ids=request.session_ids)
    before = {
        "request": waiver_json(request),
        "entry": audit.entry_snapshot(session, request.plate),
        "sessions": audit.sessions_snapshot(rows),
    }
    entry_after = before["entry"]
    if approve:
        waived = [row for row in rows if row.status in OPEN]
        if waived:
            add_history(
                session,
                plate=request.plate,
                status="waived",
                rows=waived,
                currency=settings.currency,
                decided_by=supervisor.username,
                source="supervisor",
                reason=reason,
                now=now,
            )
        for row in waived:
            row.status = "waived"
        request.waived_session_ids = [row.id for row in waived]
        entry = _refresh(session, request.plate, settings)
        entry_after = None if entry is None else entry.entry
    request.status = "approved" if approve else "refused"
    request.decided_at = now
    request.decided_by_id = supervisor.id
    request.decided_by = supervisor.username
    request.decision_reason = reason
    audit.record(
        session,
        supervisor=supervisor,
        action="decide_waiver",
        plate=request.plate,
        target=str(request.request_id),
        reason=reason,
        before=before,
        after={
            "request": waiver_json(request),
            "entry": entry_after,
            "sessions": audit.sessions_snapshot(rows),
        },
        now=now,
    )
    return request
