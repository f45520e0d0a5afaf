"""Full resync of the blacklist cache: load a snapshot beside the live cache, then swap.

A snapshot of a million entries must neither become one transaction (its WAL would hold
the whole blacklist) nor disturb lookups while it downloads. So:

1. Stage tables shaped exactly like the live ones (their ``CREATE TABLE`` copied from
   ``sqlite_master``) take the entries a batch at a time, each batch its own committed
   transaction; lookups keep reading the live tables meanwhile.
2. The near keys (the equivalence key and its one-character deletions, see
   :mod:`desktop.store.blacklist`) are generated in SQL from the staged entries and
   sorted once into a table in the connection's temporary file (outside the WAL), then
   appended to the staged near-keys table in key order, a bounded chunk per
   transaction. Random inserts into a growing b-tree would instead rewrite most of its
   pages at every commit.
3. One short transaction renames the live tables away, puts the staged ones in their
   place and stores the cursor; the old tables are dropped afterwards.

A failure before step 3 drops the stage: the live cache and its cursor stay as they were.
The live tables carry no named indexes (SQLite cannot rename an index with its table);
their primary keys are all the lookups need.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Engine

from desktop.domain import BlacklistEntry
from desktop.store.database import writer
from desktop.store.sync_state import CURSOR_KEY, write_value

logger = logging.getLogger(__name__)

ENTRIES = "blacklist_entries"
NEAR_KEYS = "blacklist_near_keys"
TABLES = (ENTRIES, NEAR_KEYS)
STAGE_SUFFIX = "_stage"
OLD_SUFFIX = "_old"
# Entries per committed transaction: a few MB of WAL, and a lazily fetched snapshot
# never sits in memory whole.
BATCH = 5_000
# Near-key rows appended per transaction (about 25 bytes each: some 6 MB of WAL).
NEAR_CHUNK = 250_000
# Longest equivalence key the near-key generator handles (plates are at most 16).
MAX_KEY_LENGTH = 64

_SORTED = "blacklist_near_sorted"
_NUMBERS = "blacklist_load_numbers"
# Same keys as plates.deletion_keys(key): the key itself (i = 0) and the key with its
# i-th character removed (i = 1..length); substr counts characters. The CROSS JOIN keeps
# the entries as the outer loop, each seeking its own positions in the numbers table.
_SORT_NEAR_KEYS = f"""
    INSERT OR IGNORE INTO temp.{_SORTED} (key, plate)
    SELECT CASE WHEN n.i = 0 THEN e.equivalence_key
                ELSE substr(e.equivalence_key, 1, n.i - 1) || substr(e.equivalence_key, n.i + 1)
           END,
           e.plate
    FROM {ENTRIES}{STAGE_SUFFIX} AS e CROSS JOIN temp.{_NUMBERS} AS n
    WHERE n.i <= length(e.equivalence_key)
    ORDER BY 1, 2
"""
_APPEND_NEAR_KEYS = f"""
    INSERT INTO {NEAR_KEYS}{STAGE_SUFFIX} (key, plate)
    SELECT key, plate FROM temp.{_SORTED}
    WHERE (key, plate) > (?, ?) ORDER BY key, plate LIMIT ?
"""
_LAST_NEAR_KEY = (
    f"SELECT key, plate FROM {NEAR_KEYS}{STAGE_SUFFIX} ORDER BY key DESC, plate DESC LIMIT 1"
)


class SnapshotLoad:
    """Loads one snapshot into stage tables and swaps it in (see the module docstring).

    ``row_of(entry, seq)`` builds an entry's ``blacklist_entries`` row (a dict whose keys
    are column names). Uses one connection throughout: the sorted near keys live in its
    temporary schema.
    """

    def __init__(self, engine: Engine, row_of: Any) -> None:
        self._engine = engine
        self._row_of = row_of

    def run(self, entries: Iterable[BlacklistEntry], cursor: int) -> int:
        """Stage ``entries`` (each with seq ``cursor``), swap them in, set ``cursor``.

        Returns the number of entries now cached. Raises whatever ``entries`` raises,
        after dropping the stage; the live cache is then untouched.
        """
        started = time.perf_counter()
        with writer(self._engine).connect() as connection:
            try:
                _drop(connection, STAGE_SUFFIX)
                _drop(connection, OLD_SUFFIX)  # left by a load interrupted after its swap
                _create_stage(connection)
                count = self._stage_entries(connection, entries, cursor)
                loaded = time.perf_counter()
                near = _stage_near_keys(connection)
                keyed = time.perf_counter()
                _swap(connection, cursor)
            except BaseException:
                _discard_stage(connection)
                raise
            finally:
                _drop_temporary(connection)
            _drop(connection, OLD_SUFFIX)
        logger.info(
            "blacklist snapshot swapped in: %d entries, %d near keys, cursor %d"
            " (entries %.1f s, near keys %.1f s, swap %.1f s)",
            count,
            near,
            cursor,
            loaded - started,
            keyed - loaded,
            time.perf_counter() - keyed,
        )
        return count

    def _stage_entries(
        self, connection: Connection, entries: Iterable[BlacklistEntry], cursor: int
    ) -> int:
        statement: str | None = None
        batch: list[tuple[Any, ...]] = []
        for entry in entries:
            row = self._row_of(entry, cursor)
            if statement is None:
                columns = ", ".join(row)
                marks = ", ".join("?" for _ in row)
                # A plate twice in a snapshot (e.g. two spellings one normalization apart)
                # keeps its last entry, as applying the pages one by one would.
                statement = (
                    f"INSERT OR REPLACE INTO {ENTRIES}{STAGE_SUFFIX} ({columns}) VALUES ({marks})"
                )
            batch.append(tuple(row.values()))
            if len(batch) >= BATCH:
                _insert(connection, statement, batch)
        if statement is not None:
            _insert(connection, statement, batch)
        with connection.begin():
            return int(
                connection.exec_driver_sql(
                    f"SELECT count(*) FROM {ENTRIES}{STAGE_SUFFIX}"
                ).scalar_one()
            )


def _insert(connection: Connection, statement: str, batch: list[tuple[Any, ...]]) -> None:
    if batch:
        with connection.begin():
            connection.exec_driver_sql(statement, batch)
        batch.clear()


def _create_stage(connection: Connection) -> None:
    """Empty stage tables with the live tables' exact definitions."""
    with connection.begin():
        for table in TABLES:
            named = connection.exec_driver_sql(
                "SELECT name FROM sqlite_master"
                " WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
                (table,),
            ).all()
            if named:
                # A bug, not an environment problem: such an index would not survive a swap.
                raise RuntimeError(f"{table} has named indexes {named}; a resync cannot carry them")
            sql = connection.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
            ).scalar_one()
            head = re.match(rf'\s*CREATE\s+TABLE\s+("?){table}\1', sql, re.IGNORECASE)
            if head is None:
                raise RuntimeError(f"unexpected definition of {table}: {sql[:80]!r}")
            connection.exec_driver_sql(f'CREATE TABLE "{table}{STAGE_SUFFIX}"{sql[head.end() :]}')


def _stage_near_keys(connection: Connection) -> int:
    """Fill the staged near-keys table in key order, a chunk per transaction."""
    numbers = "), (".join(str(i) for i in range(MAX_KEY_LENGTH + 1))
    for statement in (
        f"CREATE TEMP TABLE {_NUMBERS} (i INTEGER NOT NULL PRIMARY KEY)",
        f"INSERT INTO temp.{_NUMBERS} (i) VALUES ({numbers})",
        f"CREATE TEMP TABLE {_SORTED} (key TEXT NOT NULL, plate TEXT NOT NULL,"
        " PRIMARY KEY (key, plate)) WITHOUT ROWID",
        _SORT_NEAR_KEYS,
    ):
        _outside_main_lock(connection, statement)
    total = 0
    last: tuple[str, str] = ("", "")  # below every row: plates are never empty
    while True:
        with connection.begin():
            added = connection.exec_driver_sql(_APPEND_NEAR_KEYS, (*last, NEAR_CHUNK)).rowcount
            row = connection.exec_driver_sql(_LAST_NEAR_KEY).first()
        total += max(added, 0)
        if added < NEAR_CHUNK or row is None:
            return total
        last = (row[0], row[1])


def _outside_main_lock(connection: Connection, statement: str) -> None:
    """Run a statement that writes only the temporary schema in SQLite's own implicit
    transaction: the sort takes seconds, and a ``BEGIN IMMEDIATE`` around it would hold
    the main file's write lock (outcomes being recorded) all that time."""
    connection.connection.driver_connection.execute(statement).close()  # type: ignore[union-attr]


def _swap(connection: Connection, cursor: int) -> None:
    """The one short transaction that makes the staged tables the cache."""
    with connection.begin():
        for table in TABLES:
            connection.exec_driver_sql(f'ALTER TABLE "{table}" RENAME TO "{table}{OLD_SUFFIX}"')
            connection.exec_driver_sql(f'ALTER TABLE "{table}{STAGE_SUFFIX}" RENAME TO "{table}"')
        write_value(connection, CURSOR_KEY, str(cursor))


def _drop(connection: Connection, suffix: str) -> None:
    with connection.begin():
        for table in TABLES:
            connection.exec_driver_sql(f'DROP TABLE IF EXISTS "{table}{suffix}"')


def _discard_stage(connection: Connection) -> None:
    """After a failure: free the stage's pages (the next load would drop it anyway)."""
    try:
        if connection.in_transaction():
            connection.rollback()
        _drop(connection, STAGE_SUFFIX)
    except Exception:
        logger.warning("could not drop the blacklist stage tables", exc_info=True)


def _drop_temporary(connection: Connection) -> None:
    """Drop the temporary tables, or retire the connection that holds them."""
    try:
        if connection.in_transaction():
            connection.rollback()
        for table in (_SORTED, _NUMBERS):
            _outside_main_lock(connection, f"DROP TABLE IF EXISTS temp.{table}")
    except Exception:
        logger.warning("could not drop the temporary near keys; closing the connection")
        connection.invalidate()
