"""The SQLite engine: one file, WAL journal synced at every commit, foreign keys, and
explicit BEGIN modes.

The pysqlite driver is put in autocommit mode and every transaction is started here
with ``BEGIN DEFERRED`` (reads) or ``BEGIN IMMEDIATE`` (writes). A write transaction
that starts as a reader and later upgrades can fail with SQLITE_BUSY without waiting
for ``busy_timeout``; taking the write lock up front makes concurrent writers queue.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000
# Pages are 4 KiB; a negative cache_size is in KiB. 64 MiB keeps the near-key index's
# upper levels in memory during a full resync of a large blacklist.
CACHE_SIZE_KIB = 65_536
_BEGIN_OPTION = "recoup_sqlite_begin"
# In WAL mode, NORMAL syncs the log only at checkpoints: a commit the booth has shown as
# recorded (a cash payment) can roll back after a power cut. FULL syncs the log at every
# commit, so a committed outcome survives one; the cost per outcome is measured by
# bench/outcome_durability.py.
SYNCHRONOUS = "FULL"
SYNCHRONOUS_MODES = frozenset({"OFF", "NORMAL", "FULL", "EXTRA"})


def create_store_engine(
    path: Path, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS, synchronous: str = SYNCHRONOUS
) -> Engine:
    """Create the engine for one store file, with the pragmas set on every connection.

    ``synchronous`` exists for the durability benchmark; keep the default.
    """
    mode = synchronous.upper()
    if mode not in SYNCHRONOUS_MODES:
        raise ValueError(f"synchronous must be one of {sorted(SYNCHRONOUS_MODES)}, got {mode!r}")
    engine = create_engine(
        f"sqlite+pysqlite:///{path}",
        pool_size=4,
        max_overflow=8,
        pool_timeout=30,
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Autocommit at driver level; transactions are begun by the "begin" hook below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute(f"PRAGMA synchronous = {mode}")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute(f"PRAGMA cache_size = -{CACHE_SIZE_KIB}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def writer(engine: Engine) -> Engine:
    """A view of ``engine`` whose transactions begin with ``BEGIN IMMEDIATE``."""
    return engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})


class UnitOfWork:
    """Hands out short-lived write sessions: one per unit of work, never shared across threads.

    Reads use a pooled connection (``engine.connect()``) with Core statements instead:
    no ORM state is needed, and lookups are the booth's hot path.
    """

    def __init__(self, engine: Engine) -> None:
        self._write = sessionmaker(bind=writer(engine), expire_on_commit=False)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in a write transaction, committed on success, rolled back on error."""
        with self._write.begin() as session:
            yield session
