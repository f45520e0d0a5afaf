"""The supervisor's flag list at a million entries: exact totals from counters, a lot
table and a plate search.

- ``server_state`` counts the flags per status (``active_flags``, ``disputed_flags``,
  ``waived_flags``, ``cleared_flags``), so the unfiltered list's total is one row read
  instead of a count over every entry; backfilled here by counting once.
- ``flag_lots`` holds one row per lot of every flag, current or decided, keyed by lot
  then in the list's order: the lot filter reads one range of it (and counts it when
  other filters apply); ``flag_lot_counts`` counts the flags per lot and status.
- ``ix_blacklist_entries_lots`` (0006) goes: the lot filter no longer reads it.
- Plate search: on PostgreSQL ``pg_trgm`` GIN indexes on the plates of
  ``blacklist_entries`` and ``flag_history`` (the extension is trusted since PostgreSQL
  13, so the database owner may create it; when it cannot be created the indexes are
  left out, with a warning, and the search still answers, scanning). On SQLite, which
  has no such index, ``flag_plate_grams`` holds each plate's three-character pieces; the
  same index names exist there as empty partial indexes, so the schema matches the
  models on both databases.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-17
"""

import logging

import sqlalchemy as sa
from alembic import op
from sqlalchemy.exc import DBAPIError

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

logger = logging.getLogger(__name__)

COUNTERS = {
    "active_flags": ("blacklist_entries", "active"),
    "disputed_flags": ("blacklist_entries", "disputed"),
    "waived_flags": ("flag_history", "waived"),
    "cleared_flags": ("flag_history", "cleared"),
}
TRGM_INDEXES = {
    "ix_blacklist_entries_plate_trgm": "blacklist_entries",
    "ix_flag_history_plate_trgm": "flag_history",
}
LOTS_TEXT_INDEX = "ix_blacklist_entries_lots"
#: Plates are at most 32 characters long: a piece starts at one of the first 30.
MAX_GRAM_START = 30

# One row per distinct lot of a flag. Entries list their lots in the sessions of the
# published JSON, decided flags in their ``lots`` JSON list.
LOTS_SQL = {
    "sqlite": (
        "INSERT INTO flag_lots (lot, changed_at, plate, row_id, status, unpaid_cents)"
        " SELECT DISTINCT json_extract(s.value, '$.lot_id'), e.updated_at, e.plate, 0,"
        " e.status, e.unpaid_cents"
        " FROM blacklist_entries AS e, json_each(e.entry, '$.sessions') AS s",
        "INSERT INTO flag_lots (lot, changed_at, plate, row_id, status, unpaid_cents)"
        " SELECT DISTINCT l.value, h.decided_at, h.plate, h.id, h.status, h.unpaid_cents"
        " FROM flag_history AS h, json_each(h.lots) AS l",
    ),
    "postgresql": (
        "INSERT INTO flag_lots (lot, changed_at, plate, row_id, status, unpaid_cents)"
        " SELECT DISTINCT s ->> 'lot_id', e.updated_at, e.plate, 0, e.status,"
        " e.unpaid_cents FROM blacklist_entries AS e,"
        " jsonb_array_elements(CAST(e.entry AS JSONB) -> 'sessions') AS s",
        "INSERT INTO flag_lots (lot, changed_at, plate, row_id, status, unpaid_cents)"
        " SELECT DISTINCT l, h.decided_at, h.plate, h.id, h.status, h.unpaid_cents"
        " FROM flag_history AS h, jsonb_array_elements_text(CAST(h.lots AS JSONB)) AS l",
    ),
}
GRAMS_SQL = (
    "INSERT OR IGNORE INTO flag_plate_grams (gram, plate)"
    " WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :last),"
    " p(plate) AS (SELECT plate FROM blacklist_entries UNION SELECT plate FROM flag_history)"
    " SELECT substr(p.plate, n.i, 3), p.plate FROM p, n WHERE n.i <= length(p.plate) - 2"
    " ORDER BY 1, 2"
)


def _add_counters() -> None:
    with op.batch_alter_table("server_state") as batch:
        for name in COUNTERS:
            batch.add_column(sa.Column(name, sa.Integer, nullable=False, server_default="0"))
    counts = {
        name: sa.select(sa.func.count())
        .select_from(sa.table(table))
        .where(sa.column("status") == status)
        .scalar_subquery()
        for name, (table, status) in COUNTERS.items()
    }
    op.execute(sa.table("server_state", *(sa.column(n) for n in COUNTERS)).update().values(counts))


def _add_flag_lots(dialect: str) -> None:
    op.create_table(
        "flag_lots",
        sa.Column("lot", sa.String(64), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("plate", sa.String(32), nullable=False),
        sa.Column("row_id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("unpaid_cents", sa.Integer, nullable=False),
        # Status and amount ride along in the key so that PostgreSQL's index-only
        # scans answer every filter (SQLite keeps the whole row in the key anyway).
        sa.PrimaryKeyConstraint(
            "lot",
            "changed_at",
            "plate",
            "row_id",
            name="pk_flag_lots",
            postgresql_include=["status", "unpaid_cents"],
        ),
        sa.CheckConstraint(
            "status IN ('active', 'disputed', 'cleared', 'waived')", name="ck_flag_lots_status"
        ),
        sqlite_with_rowid=False,
    )
    for statement in LOTS_SQL[dialect]:
        op.execute(statement)
    op.create_table(
        "flag_lot_counts",
        sa.Column("lot", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(16), primary_key=True),
        sa.Column("flags", sa.Integer, nullable=False),
    )
    op.execute(
        "INSERT INTO flag_lot_counts (lot, status, flags)"
        " SELECT lot, status, count(*) FROM flag_lots GROUP BY lot, status"
    )


def _add_plate_search(dialect: str) -> None:
    op.create_table(
        "flag_plate_grams",
        sa.Column("gram", sa.String(3), primary_key=True),
        sa.Column("plate", sa.String(32), primary_key=True),
        sqlite_with_rowid=False,
    )
    if dialect == "sqlite":
        op.execute(sa.text(GRAMS_SQL).bindparams(last=MAX_GRAM_START))
        for name, table in TRGM_INDEXES.items():
            op.create_index(name, table, ["plate"], sqlite_where=sa.text("0"))
        return
    if not _create_pg_trgm():
        return
    for name, table in TRGM_INDEXES.items():
        op.create_index(
            name,
            table,
            ["plate"],
            postgresql_using="gin",
            postgresql_ops={"plate": "gin_trgm_ops"},
        )


def _create_pg_trgm() -> bool:
    """Create the ``pg_trgm`` extension unless it exists; False (and a warning) when the
    database refuses, which must not stop the migration."""
    bind = op.get_bind()
    savepoint = bind.begin_nested()
    try:
        bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DBAPIError as error:
        savepoint.rollback()
        logger.warning(
            "pg_trgm could not be created (%s): the supervisor's plate search answers"
            " without its indexes, reading every plate. To speed it up, as a superuser:"
            " CREATE EXTENSION pg_trgm; then CREATE INDEX <name> ON <table> USING gin"
            " (plate gin_trgm_ops) for %s",
            str(error.orig).splitlines()[0] if error.orig else error,
            ", ".join(f"{name} ON {table}" for name, table in TRGM_INDEXES.items()),
        )
        return False
    savepoint.commit()
    return True


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    _add_counters()
    _add_flag_lots(dialect)
    op.drop_index(LOTS_TEXT_INDEX, table_name="blacklist_entries")
    _add_plate_search(dialect)


def downgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    for name, table in TRGM_INDEXES.items():
        if name in {ix["name"] for ix in inspector.get_indexes(table)}:
            op.drop_index(name, table_name=table)
    op.drop_table("flag_plate_grams")
    op.create_index(LOTS_TEXT_INDEX, "blacklist_entries", ["lots"])
    op.drop_table("flag_lot_counts")
    op.drop_table("flag_lots")
    with op.batch_alter_table("server_state") as batch:
        for name in COUNTERS:
            batch.drop_column(name)
