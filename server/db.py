"""Engine and session factory (SQLAlchemy 2) for SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import DateTime, Engine, create_engine, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

logger = logging.getLogger(__name__)

# A writer waits this long for another process's write lock before giving up (the
# request then gets 503): long enough for any one write, short enough to honour SIGTERM.
SQLITE_BUSY_TIMEOUT_MS = 5_000


class Base(DeclarativeBase):
    """Declarative base of every server table."""


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to UTC; naive values are refused so no local time sneaks in."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


#: WAL with synchronous=FULL: a committed transaction survives a power cut (with NORMAL
#: SQLite may roll back the last commits, i.e. forget an outcome it acknowledged).
SQLITE_SYNCHRONOUS = "FULL"
SQLITE_SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")


def _sqlite_pragmas(synchronous: str) -> Any:
    if synchronous not in SQLITE_SYNCHRONOUS_MODES:
        raise ValueError(f"unknown SQLite synchronous mode {synchronous!r}")

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" hook below emit BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
        finally:
            cursor.close()

    return on_connect


_BEGIN_OPTION = "recoup_sqlite_begin"


def _sqlite_on_begin(connection: Any) -> None:
    # Writers begin IMMEDIATE: the write lock is taken up front, so writers serialize (the
    # SQLite analogue of SELECT ... FOR UPDATE) and a read-then-write transaction never
    # fails half-way with SQLITE_BUSY when another writer got in between. Readers begin
    # DEFERRED (see ``reader``): in WAL mode they read a snapshot and never wait for, or
    # block, a writer.
    mode = connection.get_execution_options().get(_BEGIN_OPTION, "IMMEDIATE")
    connection.exec_driver_sql(f"BEGIN {mode}")


def reader(engine: Engine) -> Engine:
    """A view of ``engine`` for read-only work.

    SQLite: ``BEGIN DEFERRED`` (a snapshot, no write lock). PostgreSQL: autocommit, which
    under READ COMMITTED sees exactly what a transaction would (each statement its own
    snapshot) and saves the BEGIN and ROLLBACK round trips.
    """
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{_BEGIN_OPTION: "DEFERRED"})
    return engine.execution_options(isolation_level="AUTOCOMMIT")


@dataclass(frozen=True)
class PoolLimits:
    """Connections of one server process and how long a statement may wait or run.

    The request path sizes ``size`` to its database threads, so no thread ever waits for
    a connection; the timeouts bound every wait for a lock, so a stuck request ends (and
    SIGTERM is honoured) within seconds instead of holding its connection.
    """

    size: int = 5
    overflow: int = 10
    wait_s: float = 30.0
    #: Test each connection with a round trip before use. The request path leaves it off
    #: (a unit that meets a dropped connection is run again, see ``server.db_workers``).
    pre_ping: bool = True
    #: PostgreSQL only: statement_timeout, lock_timeout, idle_in_transaction_session_timeout.
    statement_timeout_ms: int | None = None
    lock_timeout_ms: int | None = None
    idle_in_transaction_ms: int | None = None


def _postgres_options(limits: PoolLimits) -> dict[str, Any]:
    settings = {
        "statement_timeout": limits.statement_timeout_ms,
        "lock_timeout": limits.lock_timeout_ms,
        "idle_in_transaction_session_timeout": limits.idle_in_transaction_ms,
    }
    options = " ".join(f"-c {name}={value}" for name, value in settings.items() if value)
    return {"options": options} if options else {}


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode("utf-8")


def make_engine(
    database_url: str,
    *,
    sqlite_synchronous: str = SQLITE_SYNCHRONOUS,
    limits: PoolLimits | None = None,
) -> Engine:
    """Create an engine for ``database_url`` (SQLite file or ``postgresql+psycopg``).

    Transactions begin as writers on SQLite; use :func:`reader` for read-only work.
    ``sqlite_synchronous`` exists for the durability benchmark; keep the default.
    """
    limits = limits or PoolLimits()
    url = make_url(database_url)
    pool: dict[str, Any] = {
        "pool_size": limits.size,
        "max_overflow": limits.overflow,
        "pool_timeout": limits.wait_s,
        # JSON columns (entries, answers, audit snapshots) through orjson: a feed page
        # reads and writes thousands of entries.
        "json_serializer": _json_text,
        "json_deserializer": orjson.loads,
    }
    if url.get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            **pool,
        )
        event.listen(engine, "connect", _sqlite_pragmas(sqlite_synchronous))
        event.listen(engine, "begin", _sqlite_on_begin)
    else:
        engine = create_engine(
            url, pool_pre_ping=limits.pre_ping, connect_args=_postgres_options(limits), **pool
        )
    logger.info("database engine ready: %s", url.render_as_string(hide_password=True))
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose sessions keep loaded attributes after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)
