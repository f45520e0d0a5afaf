"""The near keys of a full resync, sorted in runs while the snapshot downloads.

Near keys (each listed plate's equivalence key and its one-character deletions, see
:mod:`desktop.store.blacklist`) come out of the entries in no useful order, and inserting
them into a b-tree in that order would rewrite most of its pages at every commit. So
each run of :data:`RUN` staged entries has its keys generated in SQL and sorted into a
table of the connection's temporary file (outside the WAL; SQLite works without the GIL
meanwhile, beside the thread that parses the next pages). At the end the runs are
merged into the staged near-keys table in key order (SQLite merges the runs' primary
keys, it does not sort again), a bounded chunk per transaction.

Every statement that only writes the temporary schema runs in SQLite's own implicit
transaction: a ``BEGIN IMMEDIATE`` around a sort would hold the main file's write lock
(outcomes being recorded) for its whole length.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Connection

logger = logging.getLogger(__name__)

# Staged entries per sorted run (about a million keys: a second of sorting).
RUN = 125_000
# Near-key rows appended to the staged table per transaction (some 6 MB of WAL).
CHUNK = 250_000
# Longest equivalence key the generator handles (plates are at most 16 characters).
MAX_KEY_LENGTH = 64

_NUMBERS = "blacklist_load_numbers"
_RUN_PREFIX = "blacklist_near_run"


class NearKeyRuns:
    """Sorted runs of the near keys of ``entries`` (a staged entries table), merged into
    ``near_keys`` (the staged near-keys table) by :meth:`merge`. Call :meth:`drop` at the
    end, also after a failure."""

    def __init__(self, connection: Connection, entries: str, near_keys: str) -> None:
        self._connection = connection
        self._entries = entries
        self._near_keys = near_keys
        self._runs: list[str] = []
        self._sorted_upto = 0  # rowid of the last staged entry already in a run
        self._pending = 0
        numbers = "), (".join(str(i) for i in range(MAX_KEY_LENGTH + 1))
        self._alone(f"CREATE TEMP TABLE IF NOT EXISTS {_NUMBERS} (i INTEGER NOT NULL PRIMARY KEY)")
        self._alone(f"INSERT OR IGNORE INTO temp.{_NUMBERS} (i) VALUES ({numbers})")

    def staged(self, count: int) -> None:
        """``count`` more entries were staged (committed); sort a run when one is full."""
        self._pending += count
        if self._pending >= RUN:
            self._sort_pending()

    def merge(self) -> int:
        """Sort the last run and fill the staged near-keys table; returns its row count."""
        self._sort_pending()
        if not self._runs:
            return 0
        arms = " UNION ALL ".join(
            f"SELECT key, plate FROM temp.{run} WHERE (key, plate) > (?1, ?2)" for run in self._runs
        )
        # A plate restaged by a later batch is in two runs: OR IGNORE keeps one copy.
        append = (
            f'INSERT OR IGNORE INTO "{self._near_keys}" (key, plate) {arms} ORDER BY 1, 2 LIMIT ?3'
        )
        last_row = (
            f'SELECT key, plate FROM "{self._near_keys}" ORDER BY key DESC, plate DESC LIMIT 1'
        )
        total = 0
        last: tuple[str, str] = ("", "")  # below every row: plates are never empty
        while True:
            with self._connection.begin():
                total += max(self._connection.exec_driver_sql(append, (*last, CHUNK)).rowcount, 0)
                row = self._connection.exec_driver_sql(last_row).first()
            if row is None or (row[0], row[1]) == last:
                return total
            last = (row[0], row[1])

    def drop(self) -> None:
        """Drop the temporary tables (raises when it cannot: retire the connection)."""
        for table in (*self._runs, _NUMBERS):
            self._alone(f"DROP TABLE IF EXISTS temp.{table}")
        self._runs.clear()

    def _sort_pending(self) -> None:
        if not self._pending:
            return
        upto = self._alone(f'SELECT max(rowid) FROM "{self._entries}"')[0]
        run = f"{_RUN_PREFIX}{len(self._runs)}"
        self._alone(
            f"CREATE TEMP TABLE {run} (key TEXT NOT NULL, plate TEXT NOT NULL,"
            " PRIMARY KEY (key, plate)) WITHOUT ROWID"
        )
        self._runs.append(run)
        # Same keys as plates.deletion_keys(key): the key itself (i = 0) and the key
        # without its i-th character (i = 1..length; substr counts characters). The
        # CROSS JOIN keeps the entries outside, each seeking its positions in numbers.
        self._alone(
            f"""INSERT OR IGNORE INTO temp.{run} (key, plate)
            SELECT CASE WHEN n.i = 0 THEN e.equivalence_key
                        ELSE substr(e.equivalence_key, 1, n.i - 1)
                             || substr(e.equivalence_key, n.i + 1)
                   END,
                   e.plate
            FROM "{self._entries}" AS e CROSS JOIN temp.{_NUMBERS} AS n
            WHERE e.rowid > ? AND e.rowid <= ? AND n.i <= length(e.equivalence_key)
            ORDER BY 1, 2""",
            (self._sorted_upto, upto),
        )
        self._sorted_upto = upto
        self._pending = 0

    def _alone(self, statement: str, parameters: tuple[Any, ...] = ()) -> tuple[Any, ...]:
        """Run ``statement`` in SQLite's implicit transaction; its first row, if any."""
        driver = self._connection.connection.driver_connection
        cursor = driver.execute(statement, parameters)  # type: ignore[union-attr]
        try:
            return tuple(cursor.fetchone() or ())
        finally:
            cursor.close()
