"""Flagged vehicles: the current blacklist entries plus the history of decided flags.

A flag is ``active`` or ``disputed`` while its plate is on the blacklist (the entry is
the flag). Decisions end a flag and leave a ``flag_history`` row: ``cleared`` (dismissed
as a false positive; its sessions are never listed again) or ``waived`` (the debt was
forgiven by a supervisor, or by a booth's ``waived`` outcome).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from server.db import utcnow
from server.models import BlacklistEntry, FlagHistory, ParkingSession, PlateRead
from server.schemas import FlagOut

CURRENT = ("active", "disputed")
HISTORY = ("cleared", "waived")


@dataclass(frozen=True)
class FlagFilter:
    """Filters of ``GET /supervisor/flags``; ``statuses`` empty means active and disputed."""

    statuses: tuple[str, ...] = CURRENT
    lot: str | None = None
    min_cents: int | None = None
    since: datetime | None = None
    plate: str | None = None


def dismissed_session_ids(session: Session, *, plate: str) -> set[int]:
    """Sessions of ``plate`` dismissed as false positives (never listed again)."""
    rows = session.scalars(
        select(FlagHistory.session_ids).where(
            FlagHistory.plate == plate, FlagHistory.status == "cleared"
        )
    )
    return {int(i) for ids in rows for i in ids}


def add_history(
    session: Session,
    *,
    plate: str,
    status: str,
    rows: Sequence[ParkingSession],
    currency: str,
    decided_by: str,
    source: str,
    reason: str | None,
    now: datetime | None = None,
) -> FlagHistory:
    """Record that the flag over ``rows`` ended as ``status`` (cleared or waived)."""
    item = FlagHistory(
        plate=plate,
        status=status,
        session_ids=[row.id for row in rows],
        unpaid_cents=sum(max(row.fee_cents - row.paid_cents, 0) for row in rows),
        currency=currency,
        lots=sorted({row.lot_id for row in rows}),
        first_unpaid_at=min((row.entered_at for row in rows), default=None),
        reason=reason,
        decided_by=decided_by,
        source=source,
        decided_at=now or utcnow(),
    )
    session.add(item)
    session.flush()
    return item


def entry_flag(entry: BlacklistEntry) -> dict[str, Any]:
    """The flag fields of a current blacklist entry (last sighting not filled in)."""
    sessions = entry.entry.get("sessions", [])
    starts = [datetime.fromisoformat(s["entered_at"]) for s in sessions]
    return {
        "plate": entry.plate,
        "status": entry.status,
        "unpaid_cents": entry.unpaid_cents,
        "currency": entry.entry.get("currency"),
        "sessions": len(sessions),
        "session_ids": [s["id"] for s in sessions],
        "lots": sorted({s["lot_id"] for s in sessions}),
        "first_unpaid_at": min(starts, default=None),
        "last_seen_at": None,
        "last_seen_lane": None,
        "updated_at": entry.updated_at,
    }


def history_flag(row: FlagHistory) -> dict[str, Any]:
    """The flag fields of a decided flag (last sighting not filled in)."""
    return {
        "plate": row.plate,
        "status": row.status,
        "unpaid_cents": row.unpaid_cents,
        "currency": row.currency,
        "sessions": len(row.session_ids),
        "session_ids": list(row.session_ids),
        "lots": list(row.lots),
        "first_unpaid_at": row.first_unpaid_at,
        "last_seen_at": None,
        "last_seen_lane": None,
        "updated_at": row.decided_at,
        "reason": row.reason,
        "decided_by": row.decided_by,
    }


def _filtered(
    model: type[BlacklistEntry] | type[FlagHistory],
    changed_at: Any,
    statuses: list[str],
    flt: FlagFilter,
) -> Select[Any]:
    """Rows of ``model`` (current flags or decided ones) that pass ``flt``; ``changed_at``
    is the column ``flt.since`` applies to."""
    query = select(model).where(model.status.in_(statuses))
    if flt.plate:
        query = query.where(model.plate.contains(flt.plate, autoescape=True))
    if flt.min_cents is not None:
        query = query.where(model.unpaid_cents >= flt.min_cents)
    if flt.since is not None:
        query = query.where(changed_at >= flt.since)
    return query


def _current(session: Session, flt: FlagFilter) -> list[dict[str, Any]]:
    statuses = [s for s in flt.statuses if s in CURRENT]
    if not statuses:
        return []
    query = _filtered(BlacklistEntry, BlacklistEntry.updated_at, statuses, flt)
    return [entry_flag(row) for row in session.scalars(query)]


def _history(session: Session, flt: FlagFilter) -> list[dict[str, Any]]:
    statuses = [s for s in flt.statuses if s in HISTORY]
    if not statuses:
        return []
    query = _filtered(FlagHistory, FlagHistory.decided_at, statuses, flt)
    return [history_flag(row) for row in session.scalars(query)]


def last_sightings(session: Session, plates: Iterable[str]) -> dict[str, tuple[datetime, str]]:
    """The newest read of each plate: ``plate -> (seen_at, lane)``."""
    wanted = sorted(set(plates))
    if not wanted:
        return {}
    newest = (
        select(PlateRead.plate, func.max(PlateRead.seen_at).label("seen_at"))
        .where(PlateRead.plate.in_(wanted))
        .group_by(PlateRead.plate)
        .subquery()
    )
    rows = session.execute(
        select(PlateRead.plate, PlateRead.seen_at, PlateRead.lane)
        .join(
            newest,
            and_(PlateRead.plate == newest.c.plate, PlateRead.seen_at == newest.c.seen_at),
        )
        .order_by(PlateRead.id)
    )
    return {plate: (seen_at, lane) for plate, seen_at, lane in rows}


def with_sightings(session: Session, items: list[dict[str, Any]]) -> list[FlagOut]:
    """Fill in ``last_seen_at`` / ``last_seen_lane`` and validate the API shape."""
    seen = last_sightings(session, (item["plate"] for item in items))
    out = []
    for item in items:
        when, lane = seen.get(item["plate"], (None, None))
        out.append(FlagOut.model_validate({**item, "last_seen_at": when, "last_seen_lane": lane}))
    return out


def list_flags(
    session: Session, flt: FlagFilter, *, limit: int, offset: int
) -> tuple[list[FlagOut], int]:
    """One page of flags matching ``flt``, newest change first, and the total count.

    Status, plate, amount and time are filtered in SQL; the lot (inside each flag's
    session list) in Python, before paging, so ``total`` is exact.
    """
    items = _current(session, flt) + _history(session, flt)
    if flt.lot:
        items = [item for item in items if flt.lot in item["lots"]]
    items.sort(key=lambda item: (item["updated_at"], item["plate"]), reverse=True)
    return with_sightings(session, items[offset : offset + limit]), len(items)
