"""Key/value rows of ``sync_state``: the blacklist cursor and the last sync time."""

from __future__ import annotations

import logging

from sqlalchemy import Connection, select
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.orm import Session

from desktop.store.models import SyncStateRow

logger = logging.getLogger(__name__)

CURSOR_KEY = "blacklist_cursor"
LAST_SYNC_KEY = "last_synced_at"

_table = SyncStateRow.__table__


def read_value(conn: Session | Connection, key: str) -> str | None:
    """The stored value of ``key``, or None."""
    return conn.execute(select(_table.c.value).where(_table.c.key == key)).scalar_one_or_none()


def write_value(conn: Session | Connection, key: str, value: str) -> None:
    """Insert or overwrite ``key``."""
    statement = insert(_table).values(key=key, value=value)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[_table.c.key], set_={"value": statement.excluded.value}
        )
    )
