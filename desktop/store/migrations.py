"""Schema versions, applied in place with explicit SQL, one transaction per version.

``PRAGMA user_version`` holds the version of a file. Each migration runs its steps and
sets the new version inside one ``BEGIN IMMEDIATE`` transaction (SQLite DDL is
transactional), so a crash leaves the file at the previous version with all its rows.
Migrations only add: they never drop a table, a column or a row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from desktop.store.database import writer

logger = logging.getLogger(__name__)


class SchemaTooNewError(RuntimeError):
    """The file was written by a newer version of the booth than this one."""


@dataclass(frozen=True)
class Migration:
    """The SQL steps that bring a file from ``version - 1`` to ``version``."""

    version: int
    description: str
    steps: tuple[str, ...]


_V1_BASE_TABLES = Migration(
    1,
    "base tables: blacklist cache, sync state, reads, notices, outcomes, outbox",
    (
        """CREATE TABLE blacklist_entries (
            plate TEXT NOT NULL PRIMARY KEY,
            equivalence_key TEXT NOT NULL,
            status TEXT NOT NULL,
            unpaid_cents INTEGER NOT NULL,
            currency TEXT NOT NULL,
            seq INTEGER NOT NULL,
            updated_at TEXT NOT NULL,
            payload TEXT NOT NULL
        )""",
        "CREATE INDEX ix_blacklist_entries_equivalence_key"
        " ON blacklist_entries (equivalence_key, plate)",
        """CREATE TABLE sync_state (
            key TEXT NOT NULL PRIMARY KEY,
            value TEXT NOT NULL
        )""",
        """CREATE TABLE plate_reads (
            read_id TEXT NOT NULL PRIMARY KEY,
            lane TEXT NOT NULL,
            plate TEXT NOT NULL,
            confidence REAL NOT NULL,
            source TEXT NOT NULL CHECK (source IN ('camera', 'manual')),
            seen_at TEXT NOT NULL,
            snapshot_path TEXT
        )""",
        "CREATE INDEX ix_plate_reads_seen_at ON plate_reads (seen_at)",
        """CREATE TABLE notices (
            notice_id TEXT NOT NULL PRIMARY KEY,
            read_id TEXT REFERENCES plate_reads (read_id),
            lane TEXT NOT NULL,
            read_plate TEXT NOT NULL,
            listed_plate TEXT NOT NULL,
            tier TEXT NOT NULL,
            unpaid_cents INTEGER NOT NULL,
            currency TEXT NOT NULL,
            sessions TEXT NOT NULL,
            source TEXT NOT NULL CHECK (source IN ('server', 'cache')),
            cache_age_s REAL,
            created_at TEXT NOT NULL
        )""",
        "CREATE INDEX ix_notices_read_id ON notices (read_id)",
        "CREATE INDEX ix_notices_listed_plate ON notices (listed_plate)",
        """CREATE TABLE outcomes (
            outcome_id TEXT NOT NULL PRIMARY KEY,
            notice_id TEXT NOT NULL REFERENCES notices (notice_id),
            plate TEXT NOT NULL,
            lane TEXT NOT NULL,
            kind TEXT NOT NULL
                CHECK (kind IN ('paid', 'disputed', 'waived', 'left_unpaid')),
            method TEXT CHECK (method IS NULL OR method IN ('cash', 'card', 'qr')),
            amount_cents INTEGER NOT NULL,
            session_ids TEXT NOT NULL,
            reason TEXT,
            reference TEXT,
            attendant TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            CONSTRAINT uq_outcomes_notice_id UNIQUE (notice_id)
        )""",
        """CREATE TABLE outbox (
            id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            payload TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            next_attempt_at TEXT NOT NULL,
            last_error TEXT,
            delivered_at TEXT,
            response TEXT,
            dead_at TEXT,
            CONSTRAINT uq_outbox_kind_key UNIQUE (kind, key)
        )""",
        "CREATE INDEX ix_outbox_pending ON outbox (id)"
        " WHERE delivered_at IS NULL AND dead_at IS NULL",
    ),
)

_V2_NEAR_KEYS = Migration(
    2,
    "near-match index (deletion keys), read crop paths, notice entry seq",
    (
        """CREATE TABLE blacklist_near_keys (
            key TEXT NOT NULL,
            plate TEXT NOT NULL,
            PRIMARY KEY (key, plate)
        ) WITHOUT ROWID""",
        # Same keys as plates.deletion_keys(equivalence_key): the key itself (i = 0)
        # and the key with character i removed (i = 1..length); substr counts characters.
        """WITH RECURSIVE position (plate, k, i) AS (
                SELECT plate, equivalence_key, 0 FROM blacklist_entries
                UNION ALL
                SELECT plate, k, i + 1 FROM position WHERE i < length(k)
            )
            INSERT OR IGNORE INTO blacklist_near_keys (key, plate)
            SELECT CASE WHEN i = 0 THEN k ELSE substr(k, 1, i - 1) || substr(k, i + 1) END,
                   plate
            FROM position""",
        "ALTER TABLE plate_reads ADD COLUMN crop_path TEXT",
        "ALTER TABLE notices ADD COLUMN entry_seq INTEGER",
    ),
)

_V3_OUTCOMES_BY_PLATE = Migration(
    3,
    "index outcomes by listed plate (the recovery service asks what was settled here)",
    ("CREATE INDEX ix_outcomes_plate ON outcomes (plate)",),
)

_V4_WAIVER_APPROVALS = Migration(
    4,
    "outcomes name who approved a waiver and the approved request",
    (
        "ALTER TABLE outcomes ADD COLUMN approved_by TEXT",
        "ALTER TABLE outcomes ADD COLUMN waiver_request_id TEXT",
    ),
)

_V5_SWAPPABLE_BLACKLIST = Migration(
    5,
    "lookups find equivalence keys in blacklist_near_keys (every plate's key is there);"
    " the entries' key index goes, so a full resync can swap in a freshly loaded table",
    ("DROP INDEX IF EXISTS ix_blacklist_entries_equivalence_key",),
)

MIGRATIONS: tuple[Migration, ...] = (
    _V1_BASE_TABLES,
    _V2_NEAR_KEYS,
    _V3_OUTCOMES_BY_PLATE,
    _V4_WAIVER_APPROVALS,
    _V5_SWAPPABLE_BLACKLIST,
)
HEAD_VERSION = MIGRATIONS[-1].version


def schema_version(connection: Connection) -> int:
    """The file's ``PRAGMA user_version`` (0 for a new, empty file)."""
    return int(connection.exec_driver_sql("PRAGMA user_version").scalar_one())


def migrate(engine: Engine, *, target: int = HEAD_VERSION) -> int:
    """Bring the file up to ``target``, one transaction per version; return the version.

    Safe against another process migrating the same file at the same time: the version
    is re-read after the write lock is taken.
    """
    if target > HEAD_VERSION:
        raise ValueError(f"no schema version {target}; head is {HEAD_VERSION}")
    with engine.connect() as connection:
        current = schema_version(connection)
        connection.rollback()
    if current > HEAD_VERSION:
        raise SchemaTooNewError(
            f"store schema version {current} is newer than this booth's {HEAD_VERSION}"
        )
    for migration in MIGRATIONS:
        if migration.version > target:
            break
        with writer(engine).begin() as connection:
            if schema_version(connection) >= migration.version:
                continue
            logger.info(
                "migrating store to version %d: %s", migration.version, migration.description
            )
            for step in migration.steps:
                connection.exec_driver_sql(step)
            connection.exec_driver_sql(f"PRAGMA user_version = {migration.version}")
    with engine.connect() as connection:
        return schema_version(connection)
