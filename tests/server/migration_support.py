"""Moving a test database to a given migration, and the tables as those migrations see them."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from sqlalchemy import Engine

from server.db import UTCDateTime
from server.migrate import alembic_config

#: ``flag_history`` as migrations 0005-0008 leave it (the tests write rows from before).
FLAG_HISTORY = sa.table(
    "flag_history",
    sa.column("plate", sa.String),
    sa.column("status", sa.String),
    sa.column("session_ids", sa.JSON),
    sa.column("unpaid_cents", sa.Integer),
    sa.column("currency", sa.String),
    sa.column("lots", sa.JSON),
    sa.column("first_unpaid_at", UTCDateTime),
    sa.column("reason", sa.String),
    sa.column("decided_by", sa.String),
    sa.column("source", sa.String),
    sa.column("decided_at", UTCDateTime),
)
LOTS_TABLE = sa.table("lots", sa.column("id", sa.String), sa.column("name", sa.String))


def migrate(engine: Engine, revision: str, *, down: bool = False) -> None:
    """Upgrade (or with ``down``, downgrade) the database of ``engine`` to ``revision``."""
    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(cfg, revision)
