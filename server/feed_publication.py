"""Blacklist changes are published at commit: the feed lock is held for the last moment only.

Change sequence numbers must become visible strictly in order, so they are allocated
under the single ``server_state`` row lock, held until the transaction commits. Every
listing, payment and decision needs one, so whatever runs under that lock is paid for
by all of them, one after the other. A writer therefore prepares everything first
(entry row, side tables; the plate itself is locked by :func:`lock_plate`) and only
records what to publish in the session (:func:`pending`); right before ``COMMIT`` the
``before_commit`` hook takes the lock, allocates the seqs, appends the changes, applies
the flag counters and prunes the log. A rollback forgets what was pending.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import delete, event, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server.db import utcnow
from server.models import (
    STATE_ROW_ID,
    BlacklistChange,
    BlacklistEntry,
    FlagLotCount,
    ServerState,
)

logger = logging.getLogger(__name__)

PENDING_KEY = "recoup_feed_pending"


@dataclass
class Pending:
    """What a transaction will publish when it commits."""

    #: (plate, action, entry JSON or None, the entry row whose ``last_seq`` to set)
    changes: list[tuple[str, str, dict[str, Any] | None, BlacklistEntry | None]] = field(
        default_factory=list
    )
    #: ``server_state`` counter column -> step
    counters: dict[str, int] = field(default_factory=dict)
    #: (lot, status) -> step of ``flag_lot_counts``
    lot_counts: dict[tuple[str, str], int] = field(default_factory=dict)
    keep: int | None = None

    def count(self, column: str, step: int) -> None:
        """Add ``step`` to the ``server_state`` counter ``column`` at commit."""
        self.counters[column] = self.counters.get(column, 0) + step

    def count_lot(self, lot: str, status: str, step: int) -> None:
        """Add ``step`` to the flags of ``status`` in ``lot`` at commit."""
        self.lot_counts[lot, status] = self.lot_counts.get((lot, status), 0) + step

    def empty(self) -> bool:
        """True when there is nothing to publish."""
        return not (self.changes or any(self.counters.values()) or any(self.lot_counts.values()))


def pending(session: Session) -> Pending:
    """This transaction's pending publication (created on first use)."""
    found = session.info.get(PENDING_KEY)
    if found is None:
        found = session.info[PENDING_KEY] = Pending()
    return found


def plate_lock_key(plate: str) -> int:
    """A signed 64-bit key of ``plate`` for PostgreSQL's advisory locks."""
    return int.from_bytes(
        hashlib.blake2b(plate.encode(), digest_size=8).digest(), "big", signed=True
    )


_LOCK_PLATE = text("SELECT pg_advisory_xact_lock(:key)")


def lock_plate(session: Session, plate: str) -> None:
    """Serialize this transaction with every other that rewrites ``plate``'s entry, until
    it ends. SQLite needs nothing: its writers run one at a time."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection().execute(_LOCK_PLATE, {"key": plate_lock_key(plate)})


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


def count_lots(session: Session, steps: dict[tuple[str, str], int]) -> None:
    """Add ``steps`` (``(lot, status) -> change``) to ``flag_lot_counts``, one upsert."""
    rows = [{"lot": lot, "status": status, "flags": n} for (lot, status), n in steps.items() if n]
    if not rows:
        return
    table = FlagLotCount.__table__
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    upsert = dialect.insert(table)
    session.execute(
        upsert.on_conflict_do_update(
            index_elements=[table.c.lot, table.c.status],
            set_={"flags": table.c.flags + upsert.excluded.flags},
        ),
        sorted(rows, key=lambda row: (row["lot"], row["status"])),  # one lock order
    )


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


#: Pruning waits until 1% more changes than ``keep`` have gathered, so it is an occasional
#: batch instead of one more statement under the lock for every change.
PRUNE_SLACK_DIVISOR = 100

#: PostgreSQL: the whole publication in one statement, so the lock is held for one
#: round trip and the commit.
_PUBLISH_POSTGRES = text(
    """
WITH state AS (
    UPDATE server_state SET
        latest_seq = latest_seq + :n,
        active_flags = active_flags + :active,
        disputed_flags = disputed_flags + :disputed,
        waived_flags = waived_flags + :waived,
        cleared_flags = cleared_flags + :cleared
    WHERE id = :state_id
    RETURNING latest_seq, pruned_seq
), added AS (
    INSERT INTO blacklist_changes (seq, plate, action, entry, created_at)
    SELECT state.latest_seq - :n + c.ord, c.plate, c.action, c.entry, :now
    FROM state,
         unnest(CAST(:plates AS text[]), CAST(:actions AS text[]), CAST(:entries AS json[]))
             WITH ORDINALITY AS c(plate, action, entry, ord)
    RETURNING seq, plate
), stamped AS (
    UPDATE blacklist_entries SET last_seq = newest.seq
    FROM (SELECT plate, max(seq) AS seq FROM added GROUP BY plate) AS newest
    WHERE blacklist_entries.plate = newest.plate
), lots AS (
    INSERT INTO flag_lot_counts (lot, status, flags)
    SELECT * FROM unnest(CAST(:lots AS text[]), CAST(:statuses AS text[]),
                         CAST(:steps AS integer[]))
    ON CONFLICT (lot, status) DO UPDATE SET flags = flag_lot_counts.flags + excluded.flags
)
SELECT latest_seq, pruned_seq FROM state
"""
)


def _publish_postgres(session: Session, todo: Pending) -> tuple[int, int]:
    lot_steps = sorted((key, n) for key, n in todo.lot_counts.items() if n)
    row = session.execute(
        _PUBLISH_POSTGRES,
        {
            "n": len(todo.changes),
            "state_id": STATE_ROW_ID,
            **{
                status: todo.counters.get(f"{status}_flags", 0)
                for status in ("active", "disputed", "waived", "cleared")
            },
            "now": utcnow(),
            "plates": [plate for plate, _action, _entry, _row in todo.changes],
            "actions": [action for _plate, action, _entry, _row in todo.changes],
            "entries": [
                None if entry is None else orjson.dumps(entry).decode()
                for _plate, _action, entry, _row in todo.changes
            ],
            "lots": [lot for (lot, _status), _n in lot_steps],
            "statuses": [status for (_lot, status), _n in lot_steps],
            "steps": [n for _key, n in lot_steps],
        },
    ).one()
    return row.latest_seq, row.pruned_seq


def _publish_orm(session: Session, todo: Pending) -> tuple[int, int]:
    state = lock_state(session)
    for plate, action, entry, row in todo.changes:
        seq = append_change(session, state=state, plate=plate, action=action, entry=entry)
        if row is not None:
            row.last_seq = seq
    for column, step in todo.counters.items():
        setattr(state, column, getattr(state, column) + step)
    count_lots(session, todo.lot_counts)
    return state.latest_seq, state.pruned_seq


def publish(session: Session) -> None:
    """Publish what this transaction prepared: seqs, changes, counters, pruning."""
    todo: Pending | None = session.info.pop(PENDING_KEY, None)
    if todo is None or todo.empty():
        return
    session.flush()  # the prepared rows go first: nothing below waits on them
    if session.get_bind().dialect.name == "postgresql":
        latest, pruned = _publish_postgres(session, todo)
    else:  # SQLite runs one writer at a time: no lock to keep short
        latest, pruned = _publish_orm(session, todo)
    for plate, action, _entry, _row in todo.changes:
        logger.info("blacklist %s %s", action, plate)
    # Seqs are allocated without gaps, so latest - pruned is the number of stored rows.
    if todo.keep is not None and latest - pruned > todo.keep + todo.keep // PRUNE_SLACK_DIVISOR:
        prune_change_log(session, keep=todo.keep)
    session.flush()


@event.listens_for(Session, "before_commit")
def _publish_before_commit(session: Session) -> None:
    publish(session)


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, _previous: object) -> None:
    session.info.pop(PENDING_KEY, None)
