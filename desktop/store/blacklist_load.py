"""Full resync of the blacklist cache: load a snapshot beside the live cache, then swap.

A snapshot of a million entries must neither become one transaction (its WAL would hold
the whole blacklist) nor disturb lookups while it downloads. So:

1. Stage tables shaped exactly like the live ones (their ``CREATE TABLE`` copied from
   ``sqlite_master``) take the entries a batch at a time, each batch its own committed
   transaction; lookups keep reading the live tables meanwhile.
2. The near keys are sorted in runs as the entries arrive, outside the WAL, and merged
   into the staged near-keys table in key order at the end, a bounded chunk per
   transaction (:mod:`desktop.store.near_key_runs`).
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
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine

from desktop.domain import BlacklistEntry
from desktop.handoff import consume_beside
from desktop.store.database import writer
from desktop.store.near_key_runs import NearKeyRuns
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
# WAL pages between checkpoints during a load (4 KiB each: 32 MB).
BULK_CHECKPOINT_PAGES = 8_192
# Staged batches the near-key sorter may fall behind by (each is just a count) before
# staging waits for it.
RUNS_AHEAD = 1_000


class SnapshotLoad:
    """Loads one snapshot into stage tables and swaps it in (see the module docstring).

    ``values_of(entry, seq)`` gives an entry's ``blacklist_entries`` values in the order
    of ``columns``. The calling thread builds and inserts the rows; a helper thread with
    its own connection sorts the near keys of each run of staged entries meanwhile (one
    SQL statement per run: SQLite holds no GIL while it sorts) and merges them at the end.
    """

    def __init__(
        self,
        engine: Engine,
        columns: Sequence[str],
        values_of: Callable[[BlacklistEntry, int], tuple[Any, ...]],
    ) -> None:
        self._engine = engine
        # A plate twice in a snapshot (e.g. two spellings one normalization apart) keeps
        # its last entry, as applying the pages one by one would.
        self._insert = (
            f"INSERT OR REPLACE INTO {ENTRIES}{STAGE_SUFFIX} ({', '.join(columns)})"
            f" VALUES ({', '.join('?' for _ in columns)})"
        )
        self._values_of = values_of

    def run(self, entries: Iterable[BlacklistEntry], cursor: int) -> int:
        """Stage ``entries`` (each with seq ``cursor``), swap them in, set ``cursor``.

        Returns the number of entries now cached. Raises whatever ``entries`` raises,
        after dropping the stage; the live cache is then untouched.
        """
        started = time.perf_counter()
        with writer(self._engine).connect() as connection, _bulk_settings(connection):
            try:
                _drop(connection, STAGE_SUFFIX)
                _drop(connection, OLD_SUFFIX)  # left by a load interrupted after its swap
                _create_stage(connection)
                near = consume_beside(
                    self._sort_and_merge_near_keys,
                    self._stage(connection, entries, cursor),
                    depth=RUNS_AHEAD,
                    name="blacklist-near-keys",
                )
                keyed = time.perf_counter()
                with connection.begin():
                    count = int(
                        connection.exec_driver_sql(
                            f"SELECT count(*) FROM {ENTRIES}{STAGE_SUFFIX}"
                        ).scalar_one()
                    )
                _swap(connection, cursor)
            except BaseException:
                _discard_stage(connection)
                raise
            _drop(connection, OLD_SUFFIX)
        logger.info(
            "blacklist snapshot swapped in: %d entries, %d near keys, cursor %d"
            " (load %.1f s, swap %.1f s)",
            count,
            near,
            cursor,
            keyed - started,
            time.perf_counter() - keyed,
        )
        return count

    def _stage(
        self, connection: Connection, entries: Iterable[BlacklistEntry], cursor: int
    ) -> Iterator[int]:
        """Insert the entries, a committed transaction per batch; yields each batch's size."""
        values_of = self._values_of
        batch: list[tuple[Any, ...]] = []
        for entry in entries:
            batch.append(values_of(entry, cursor))
            if len(batch) >= BATCH:
                yield self._insert_batch(connection, batch)
                batch = []
        if batch:
            yield self._insert_batch(connection, batch)

    def _insert_batch(self, connection: Connection, batch: list[tuple[Any, ...]]) -> int:
        with connection.begin():
            connection.exec_driver_sql(self._insert, batch)
        return len(batch)

    def _sort_and_merge_near_keys(self, staged: Iterator[int]) -> int:
        """On the helper thread: a run sorted per RUN staged entries, then the merge."""
        with writer(self._engine).connect() as connection, _bulk_settings(connection):
            runs = NearKeyRuns(connection, f"{ENTRIES}{STAGE_SUFFIX}", f"{NEAR_KEYS}{STAGE_SUFFIX}")
            try:
                for count in staged:
                    runs.staged(count)
                started = time.perf_counter()
                near = runs.merge()
                logger.debug("near keys merged in %.1f s", time.perf_counter() - started)
                return near
            finally:
                _drop_temporary(connection, runs)


@contextmanager
def _bulk_settings(connection: Connection) -> Iterator[None]:
    """Settings for a bulk load on this connection meanwhile, then its own again.

    ``synchronous = NORMAL``: a staged batch need not survive a power cut (the next
    resync drops the stage), and the swap is atomic either way: after a power cut the
    booth has the old cache with its old cursor or the new one with its cursor. An
    fsync per batch commit would only cost time. A checkpoint every 8,192 pages (32 MB
    of WAL) instead of 1,000: fewer, larger copies into the file, each with its fsync.
    """
    driver = connection.connection.driver_connection
    saved = {
        pragma: int(driver.execute(f"PRAGMA {pragma}").fetchone()[0])  # type: ignore[union-attr]
        for pragma in ("synchronous", "wal_autocheckpoint")
    }
    driver.execute("PRAGMA synchronous = NORMAL")  # type: ignore[union-attr]
    driver.execute(f"PRAGMA wal_autocheckpoint = {BULK_CHECKPOINT_PAGES}")  # type: ignore[union-attr]
    try:
        yield
    finally:
        for pragma, value in saved.items():
            driver.execute(f"PRAGMA {pragma} = {value}")  # type: ignore[union-attr]


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


def _drop_temporary(connection: Connection, runs: NearKeyRuns) -> None:
    """Drop the sorted runs, or retire the connection whose temporary file holds them."""
    try:
        if connection.in_transaction():
            connection.rollback()
        runs.drop()
    except Exception:
        logger.warning("could not drop the sorted near-key runs; closing the connection")
        connection.invalidate()
