"""The blacklist entries and the reads of their change feed.

Changes are published when the transaction that prepared them commits, under the single
``server_state`` row lock held until the commit, so sequence numbers become visible
strictly in order: a booth that has read ``since=N`` can never miss a change committed
later with a smaller seq (see :mod:`server.feed_publication`). On SQLite every write
transaction is ``BEGIN IMMEDIATE``, which serializes writers the same way.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Text, bindparam, cast, func, select
from sqlalchemy.orm import Session

from server.db import utcnow
from server.feed_publication import lock_plate, pending, prune_change_log
from server.flags import FlagKeys, dismissed_session_ids, entry_changed
from server.models import (
    STATE_ROW_ID,
    BlacklistChange,
    BlacklistEntry,
    ParkingSession,
    ServerState,
)
from server.schemas import EntryOut
from server.vehicles import open_sessions, session_out, sessions_for_plate, vehicle_status

logger = logging.getLogger(__name__)

__all__ = [
    "change_count",
    "changes_after",
    "entries_after",
    "prune_change_log",
    "read_state",
    "refresh_entry",
]


_state = ServerState.__table__
_changes = BlacklistChange.__table__
_entries = BlacklistEntry.__table__
#: Built once: every change-feed poll and ping reads the feed position.
SELECT_STATE = select(_state.c.latest_seq, _state.c.pruned_seq).where(_state.c.id == STATE_ROW_ID)
SELECT_CHANGES = (
    select(
        _changes.c.seq,
        _changes.c.plate,
        _changes.c.action,
        cast(_changes.c.entry, Text).label("entry_json"),
    )
    .where(_changes.c.seq > bindparam("since"))
    .order_by(_changes.c.seq)
    .limit(bindparam("limit"))
)
SELECT_ENTRIES = (
    select(_entries.c.plate, cast(_entries.c.entry, Text).label("entry_json"))
    .where(_entries.c.plate > bindparam("after"))
    .order_by(_entries.c.plate)
    .limit(bindparam("limit"))
)


def read_state(session: Session) -> Row[Any]:
    """The feed position (``latest_seq``, ``pruned_seq``), without locking it."""
    return session.connection().execute(SELECT_STATE).one()


def refresh_entry(
    session: Session,
    *,
    plate: str,
    currency: str,
    now: datetime | None = None,
    keep: int | None = None,
) -> BlacklistEntry | None:
    """Recompute ``plate``'s entry from its sessions; append a change only if it changed.

    Sessions a supervisor dismissed as a false positive do not count. No open (unpaid
    or disputed) session left: the entry is removed (a ``remove`` change). Otherwise it
    is created or updated (an ``upsert`` change) when its status, amount or sessions
    differ from what was last published. Returns the entry or None.
    ``keep`` prunes the change log to that many rows afterwards.

    The plate is locked first (:func:`lock_plate`), so the entry is computed from what
    the last writer of this plate committed; an entry already current is left alone.
    The entry row and the flag list's side tables are written now, and the
    change itself, its seq and the flag counters when the transaction commits
    (:mod:`server.feed_publication`), so the feed lock is held for the commit only.
    """
    lock_plate(session, plate)
    owing, existing = _owing_and_entry(session, plate, reload=True)
    if _is_current(existing, owing, plate=plate, currency=currency):
        return existing
    todo = pending(session)
    todo.keep = keep
    if not owing:
        assert existing is not None  # _is_current: no owing and no entry is current
        entry_changed(session, todo, before=FlagKeys.of_entry(existing), after=None)
        session.delete(existing)
        todo.changes.append((plate, "remove", None, None))
        return None
    content = _entry_content(owing, plate=plate, currency=currency)
    stamp = now or utcnow()
    entry_json = EntryOut.model_validate({**content, "updated_at": stamp}).model_dump(mode="json")
    before = None if existing is None else FlagKeys.of_entry(existing)
    if existing is None:
        existing = BlacklistEntry(plate=plate, last_seq=0)  # its seq comes at commit
        session.add(existing)
    existing.status = content["status"]
    existing.unpaid_cents = content["unpaid_cents"]
    existing.updated_at = stamp
    existing.entry = entry_json
    existing.lots = BlacklistEntry.lots_text(row.lot_id for row in owing)
    entry_changed(session, todo, before=before, after=FlagKeys.of_entry(existing))
    todo.changes.append((plate, "upsert", entry_json, existing))
    return existing


def _owing_and_entry(
    session: Session, plate: str, *, reload: bool = False
) -> tuple[list[ParkingSession], BlacklistEntry | None]:
    """The plate's sessions that owe (dismissed ones left out) and its stored entry."""
    rows = sessions_for_plate(session, plate=plate, reload=reload)
    dismissed = dismissed_session_ids(session, plate=plate)
    owing = [row for row in open_sessions(rows) if row.id not in dismissed]
    return owing, session.get(BlacklistEntry, plate, populate_existing=True)


def _entry_content(owing: list[ParkingSession], *, plate: str, currency: str) -> dict[str, Any]:
    """What an entry over ``owing`` publishes, apart from its ``updated_at``."""
    return {
        "plate": plate,
        "status": vehicle_status(owing),
        "unpaid_cents": sum(row.unpaid_cents for row in owing),
        "currency": currency,
        "sessions": [session_out(row).model_dump(mode="json") for row in owing],
    }


def _is_current(
    existing: BlacklistEntry | None, owing: list[ParkingSession], *, plate: str, currency: str
) -> bool:
    """True when the stored entry (or its absence) already says what ``owing`` says."""
    if not owing:
        return existing is None
    return existing is not None and _without_time(existing.entry) == _entry_content(
        owing, plate=plate, currency=currency
    )


def _without_time(entry: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in entry.items() if key != "updated_at"}


def changes_after(session: Session, *, since: int, limit: int) -> list[Row[Any]]:
    """Up to ``limit`` changes with seq > ``since``, in seq order (seq, plate, action,
    entry_json: the entry's stored JSON text, or None)."""
    return list(session.connection().execute(SELECT_CHANGES, {"since": since, "limit": limit}))


def entries_after(session: Session, *, after: str, limit: int) -> list[Row[Any]]:
    """Up to ``limit`` entries whose plate sorts after ``after``, in plate order
    (plate, entry_json: the entry's stored JSON text)."""
    return list(session.connection().execute(SELECT_ENTRIES, {"after": after, "limit": limit}))


def change_count(session: Session) -> int:
    """How many change rows are stored (for tests and diagnostics)."""
    return int(session.scalar(select(func.count()).select_from(BlacklistChange)) or 0)
