"""The supervisor's flag list is paged in SQL: a ``lots`` column and the order's indexes.

``blacklist_entries.lots`` repeats each entry's lots as text (``|north|south|``, see
``server.models.lot_token``), filled here from the sessions of the entry's published
JSON, so the lot filter runs in SQL. The indexes follow the list's order (newest change
first, then plate; a decided flag's id breaks the last ties), also within one status,
and let the amount and lot filters count over a small index instead of the table.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-16
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ENTRY_INDEXES = {
    "ix_blacklist_entries_updated_at_plate": ["updated_at", "plate"],
    "ix_blacklist_entries_status_updated_at_plate": ["status", "updated_at", "plate"],
    "ix_blacklist_entries_unpaid_cents": ["unpaid_cents"],
    "ix_blacklist_entries_lots": ["lots"],
}
HISTORY_INDEX = "ix_flag_history_decided_at_plate_id"

#: Entries read and written per round trip of the backfill (bounded memory at any size).
BATCH = 5_000

_entries = sa.table(
    "blacklist_entries",
    sa.column("plate", sa.String(32)),
    sa.column("entry", sa.JSON),
    sa.column("lots", sa.Text),
)


def _lot_token(lot_id: str) -> str:
    # A copy of server.models.lot_token as of this revision (migrations never import
    # the models, which move on).
    return "|" + lot_id.replace("%", "%25").replace("|", "%7C") + "|"


def _lots_text(entry: dict[str, Any]) -> str:
    lots = sorted({session["lot_id"] for session in entry.get("sessions", [])})
    return "".join(_lot_token(lot)[:-1] for lot in lots) + "|"


def _backfill() -> None:
    """Fill ``lots`` of every entry, a batch at a time in plate order."""
    bind = op.get_bind()
    after = ""
    while True:
        rows = bind.execute(
            sa.select(_entries.c.plate, _entries.c.entry)
            .where(_entries.c.plate > after)
            .order_by(_entries.c.plate)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        bind.execute(
            _entries.update()
            .where(_entries.c.plate == sa.bindparam("p"))
            .values(lots=sa.bindparam("l")),
            [{"p": plate, "l": _lots_text(entry)} for plate, entry in rows],
        )
        after = rows[-1].plate


def upgrade() -> None:
    op.add_column("blacklist_entries", sa.Column("lots", sa.Text, nullable=True))
    _backfill()
    with op.batch_alter_table("blacklist_entries") as batch:
        batch.alter_column("lots", existing_type=sa.Text, nullable=False)
    for name, columns in ENTRY_INDEXES.items():
        op.create_index(name, "blacklist_entries", columns)
    op.create_index(HISTORY_INDEX, "flag_history", ["decided_at", "plate", "id"])


def downgrade() -> None:
    op.drop_index(HISTORY_INDEX, table_name="flag_history")
    for name in ENTRY_INDEXES:
        op.drop_index(name, table_name="blacklist_entries")
    with op.batch_alter_table("blacklist_entries") as batch:
        batch.drop_column("lots")
