"""The local blacklist cache: change pages, full resyncs, and three-tier lookup.

Every entry row carries its plate (primary key) and the plate's equivalence key.
``blacklist_near_keys`` holds, for every listed plate, its equivalence key and each
one-character deletion of it (primary key ``(key, plate)``). A read is looked up with
its own equivalence key and deletion keys in that one table: the equivalence key finds
the *exact* and *OCR-equivalent* tiers, the deletion keys every listed plate within one
edit (the *near* tier), with index seeks only. Candidates are then confirmed with
:func:`desktop.plates.match`; only confirmed hits have their JSON payload decoded.

A full resync loads the snapshot beside the live tables and swaps it in at the end
(:mod:`desktop.store.blacklist_load`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, func, insert, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from desktop.domain import BlacklistChange, BlacklistEntry
from desktop.plates import (
    NEAR_MATCH_MIN_LENGTH,
    PlateMatch,
    deletion_keys,
    equivalence_key,
    match,
    normalize,
)
from desktop.store.blacklist_load import SnapshotLoad
from desktop.store.database import UnitOfWork
from desktop.store.models import BlacklistEntryRow, BlacklistNearKeyRow
from desktop.store.sync_state import CURSOR_KEY, LAST_SYNC_KEY, read_value, write_value
from desktop.store.times import from_db_time, to_db_time

logger = logging.getLogger(__name__)

_entries = BlacklistEntryRow.__table__
_near = BlacklistNearKeyRow.__table__

_upsert_statement = sqlite_insert(_entries)
UPSERT_ENTRY = _upsert_statement.on_conflict_do_update(
    index_elements=[_entries.c.plate],
    set_={
        column.name: _upsert_statement.excluded[column.name]
        for column in _entries.c
        if not column.primary_key
    },
)
INSERT_NEAR_KEYS = insert(_near).prefix_with("OR IGNORE")
DELETE_NEAR_KEY = delete(_near).where(
    _near.c.key == bindparam("b_key"), _near.c.plate == bindparam("b_plate")
)
DELETE_ENTRY = delete(_entries).where(_entries.c.plate == bindparam("b_plate"))
SELECT_KEY = select(_entries.c.equivalence_key).where(_entries.c.plate == bindparam("b_plate"))
SELECT_ENTRY = select(_entries.c.seq, _entries.c.payload).where(
    _entries.c.plate == bindparam("b_plate")
)
# One round trip for the candidates of all three tiers: an index seek per key.
SELECT_CANDIDATES = (
    select(_near.c.plate).where(_near.c.key.in_(bindparam("b_keys", expanding=True))).distinct()
)
SELECT_CONFIRMED = select(_entries.c.plate, _entries.c.seq, _entries.c.payload).where(
    _entries.c.plate.in_(bindparam("b_plates", expanding=True))
)
COUNT_ENTRIES = select(func.count()).select_from(_entries)


@dataclass(frozen=True)
class CacheHit:
    """A cached entry that matches a read, with how it matched and its change seq."""

    entry: BlacklistEntry
    match: PlateMatch
    seq: int


# The columns of a blacklist_entries row, in the order entry_values gives them.
ENTRY_COLUMNS = (
    "plate",
    "equivalence_key",
    "status",
    "unpaid_cents",
    "currency",
    "seq",
    "updated_at",
    "payload",
)
_entry_json = BlacklistEntry.__pydantic_serializer__.to_json


def entry_values(entry: BlacklistEntry, seq: int) -> tuple[Any, ...]:
    """The ``blacklist_entries`` row for an entry, in ``ENTRY_COLUMNS`` order (the one
    place rows are built; a full resync builds a million of them)."""
    plate = entry.plate
    return (
        plate,
        equivalence_key(plate),
        entry.status,  # a str (StrEnum): stored as its text, no .value lookup per row
        entry.unpaid_cents,
        entry.currency,
        seq,
        store_time(entry.updated_at),
        _entry_json(entry).decode(),  # model_dump_json() without its argument handling
    )


def entry_row(entry: BlacklistEntry, seq: int) -> dict[str, Any]:
    """The ``blacklist_entries`` row for an entry, by column name."""
    return dict(zip(ENTRY_COLUMNS, entry_values(entry, seq), strict=True))


def store_time(value: datetime) -> str:
    """:func:`desktop.store.times.to_db_time`'s text, at two thirds of its cost
    (``isoformat`` instead of ``strftime``; a test holds the two equal)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: the store needs a UTC offset")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def near_key_rows(plate: str, key: str) -> list[dict[str, str]]:
    """The ``blacklist_near_keys`` rows for a listed plate with equivalence key ``key``."""
    return [{"key": near, "plate": plate} for near in deletion_keys(key)]


def near_query_keys(read: str) -> list[str]:
    """The deletion keys a normalized read is looked up with (none when too short)."""
    if len(read) < NEAR_MATCH_MIN_LENGTH:
        return []
    return sorted(deletion_keys(equivalence_key(read)))


def candidate_keys(read: str) -> list[str]:
    """Every ``blacklist_near_keys`` key a normalized read is looked up with: its
    equivalence key (exact and OCR-equivalent tiers) and its deletion keys (near tier)."""
    return sorted({equivalence_key(read), *near_query_keys(read)})


class BlacklistCache:
    """The booth's copy of the server blacklist and its sync cursor."""

    def __init__(self, engine: Engine, units: UnitOfWork) -> None:
        self._engine = engine
        self._units = units
        # Two resyncs at once would share one set of stage tables.
        self._resync_lock = threading.Lock()

    # -- writes -------------------------------------------------------------------------

    def apply_changes(self, changes: Iterable[BlacklistChange], cursor: int) -> int:
        """Apply a page of changes and store ``cursor``, all in one transaction.

        Changes at or below the stored cursor were applied before (a replayed page) and
        are skipped; the cursor never moves backwards. Returns how many were applied.
        """
        applied = 0
        with self._units.write() as session:
            connection = session.connection()
            current = _read_cursor(connection)
            for change in changes:
                if change.seq <= current:
                    continue
                if change.action == "upsert":
                    if change.entry is None:
                        raise ValueError(f"upsert change {change.seq} carries no entry")
                    _upsert(connection, change.entry, change.seq)
                else:
                    _remove(connection, change.plate)
                applied += 1
            write_value(connection, CURSOR_KEY, str(max(current, cursor)))
        logger.debug("applied %d blacklist changes, cursor %d", applied, cursor)
        return applied

    def replace_all(self, entries: Iterable[BlacklistEntry], cursor: int) -> int:
        """Replace the whole cache with ``entries`` and set ``cursor``.

        ``entries`` is consumed lazily (it may fetch pages) and loaded beside the live
        cache in batches, each its own transaction; one short transaction then swaps it
        in with the cursor. Until then lookups read the old cache, and if ``entries``
        raises, the old cache and its cursor stay as they were. Each entry's seq is
        ``cursor`` (the snapshot's ``as_of_seq``). Returns the number of entries stored.
        """
        with self._resync_lock:
            count = SnapshotLoad(self._engine, ENTRY_COLUMNS, entry_values).run(entries, cursor)
        logger.info("blacklist cache replaced: %d entries, cursor %d", count, cursor)
        return count

    def record_sync(self, at: datetime) -> None:
        """Remember when the cache was last brought up to date with the server."""
        with self._units.write() as session:
            write_value(session.connection(), LAST_SYNC_KEY, to_db_time(at))

    # -- reads --------------------------------------------------------------------------

    def cursor(self) -> int:
        """The seq of the last change applied (0 when never synced)."""
        with self._engine.connect() as connection:
            return _read_cursor(connection)

    def last_synced_at(self) -> datetime | None:
        """When :meth:`record_sync` was last called, or None."""
        with self._engine.connect() as connection:
            value = read_value(connection, LAST_SYNC_KEY)
        return None if value is None else from_db_time(value)

    def count(self) -> int:
        """How many entries the cache holds."""
        with self._engine.connect() as connection:
            return int(connection.execute(COUNT_ENTRIES).scalar_one())

    def get(self, plate: str) -> BlacklistEntry | None:
        """The cached entry for exactly this plate, or None."""
        with self._engine.connect() as connection:
            row = connection.execute(SELECT_ENTRY, {"b_plate": normalize(plate)}).first()
        return None if row is None else BlacklistEntry.model_validate_json(row.payload)

    def lookup(self, read_plate: str) -> list[CacheHit]:
        """Every cached entry that matches a read in any tier, strongest tier first."""
        read = normalize(read_plate)
        if not read:
            return []
        parameters = {"b_keys": candidate_keys(read)}
        # Core on a plain connection, not ORM objects: this is the booth's hot path.
        with self._engine.connect() as connection:
            candidates = connection.execute(SELECT_CANDIDATES, parameters).scalars().all()
            matches = {
                listed: found for listed in candidates if (found := match(read, listed)) is not None
            }
            if not matches:
                return []
            rows = connection.execute(SELECT_CONFIRMED, {"b_plates": list(matches)}).all()
        hits = [
            CacheHit(BlacklistEntry.model_validate_json(row.payload), matches[row.plate], row.seq)
            for row in rows
        ]
        hits.sort(key=lambda hit: (hit.match.tier, hit.match.listed))
        return hits


def _read_cursor(connection: Connection) -> int:
    value = read_value(connection, CURSOR_KEY)
    return 0 if value is None else int(value)


def _upsert(connection: Connection, entry: BlacklistEntry, seq: int) -> None:
    row = entry_row(entry, seq)
    old_key = connection.execute(SELECT_KEY, {"b_plate": row["plate"]}).scalar_one_or_none()
    if old_key is not None and old_key != row["equivalence_key"]:
        _delete_near_keys(connection, row["plate"], old_key)
    connection.execute(UPSERT_ENTRY, row)
    if old_key != row["equivalence_key"]:
        connection.execute(INSERT_NEAR_KEYS, near_key_rows(row["plate"], row["equivalence_key"]))


def _remove(connection: Connection, plate: str) -> None:
    old_key = connection.execute(SELECT_KEY, {"b_plate": plate}).scalar_one_or_none()
    if old_key is None:
        return
    _delete_near_keys(connection, plate, old_key)
    connection.execute(DELETE_ENTRY, {"b_plate": plate})


def _delete_near_keys(connection: Connection, plate: str, key: str) -> None:
    # By (key, plate) primary key, from the stored key: the table has no index on plate.
    connection.execute(
        DELETE_NEAR_KEY, [{"b_key": near, "b_plate": plate} for near in deletion_keys(key)]
    )
