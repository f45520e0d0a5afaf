"""The blacklist and its append-only change feed (sequence allocation, pruning).

Every change takes the single ``server_state`` row ``FOR UPDATE`` first and keeps that
lock until the transaction commits, so sequence numbers become visible strictly in
order: a booth that has read ``since=N`` can never miss a change committed later with a
smaller seq. On SQLite every write transaction is ``BEGIN IMMEDIATE``, which serializes
writers the same way.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Text, bindparam, cast, delete, func, select
from sqlalchemy.orm import Session

from server.db import utcnow
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


def lock_state(session: Session) -> ServerState:
    """The counter row, locked until this transaction ends (serializes feed writers)."""
    return session.execute(
        select(ServerState)
        .where(ServerState.id == STATE_ROW_ID)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def append_change(
    session: Session,
    *,
    state: ServerState,
    plate: str,
    action: str,
    entry: dict[str, Any] | None,
) -> int:
    """Append one change with the next seq; ``state`` must come from ``lock_state``."""
    state.latest_seq += 1
    session.add(BlacklistChange(seq=state.latest_seq, plate=plate, action=action, entry=entry))
    return state.latest_seq


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

    The feed lock is taken only when something changed: the common case (a read of a
    plate whose entry is current) writes nothing and waits for no one. Under that lock
    the flag counters of ``server_state`` and the flag list's side tables follow the
    entry (``server.flags.entry_changed``). Whatever this
    first look finds, the entry is recomputed under the lock before it is written, as a
    writer that changed the sessions meanwhile may have published it already.
    """
    owing, existing = _owing_and_entry(session, plate)
    if _is_current(existing, owing, plate=plate, currency=currency):
        return existing
    state = lock_state(session)
    owing, existing = _owing_and_entry(session, plate, reload=True)
    if not owing:
        if existing is None:
            return None
        entry_changed(session, state=state, before=FlagKeys.of_entry(existing), after=None)
        session.delete(existing)
        seq = append_change(session, state=state, plate=plate, action="remove", entry=None)
        logger.info("blacklist remove %s seq=%d", plate, seq)
        _maybe_prune(session, state=state, keep=keep)
        return None
    content = _entry_content(owing, plate=plate, currency=currency)
    status, unpaid = content["status"], content["unpaid_cents"]
    if existing is not None and _without_time(existing.entry) == content:
        return existing
    stamp = now or utcnow()
    entry_json = EntryOut.model_validate({**content, "updated_at": stamp}).model_dump(mode="json")
    seq = append_change(session, state=state, plate=plate, action="upsert", entry=entry_json)
    before = None if existing is None else FlagKeys.of_entry(existing)
    if existing is None:
        existing = BlacklistEntry(plate=plate)
        session.add(existing)
    existing.status = status
    existing.unpaid_cents = unpaid
    existing.updated_at = stamp
    existing.last_seq = seq
    existing.entry = entry_json
    existing.lots = BlacklistEntry.lots_text(row.lot_id for row in owing)
    entry_changed(session, state=state, before=before, after=FlagKeys.of_entry(existing))
    logger.info("blacklist upsert %s status=%s unpaid=%d seq=%d", plate, status, unpaid, seq)
    _maybe_prune(session, state=state, keep=keep)
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


def _maybe_prune(session: Session, *, state: ServerState, keep: int | None) -> None:
    # Seqs are allocated without gaps, so latest - pruned is the number of stored rows.
    if keep is not None and state.latest_seq - state.pruned_seq > keep:
        session.flush()
        prune_change_log(session, keep=keep)


def prune_change_log(session: Session, *, keep: int) -> int:
    """Delete all but the newest ``keep`` change rows; raise the pruned watermark.

    Booths whose cursor is below the watermark get 410 ``resync_required``. Returns the
    number of rows deleted. The caller commits.
    """
    if keep < 0:
        raise ValueError("keep must be >= 0")
    state = lock_state(session)
    session.flush()
    cutoff = state.latest_seq - keep
    if cutoff <= state.pruned_seq:
        return 0
    result = session.execute(delete(BlacklistChange).where(BlacklistChange.seq <= cutoff))
    state.pruned_seq = cutoff
    deleted = int(getattr(result, "rowcount", 0) or 0)
    logger.info("pruned %d blacklist changes up to seq %d", deleted, cutoff)
    return deleted


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
