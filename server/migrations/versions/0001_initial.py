"""Initial schema: lots, booths, sessions, blacklist feed, reads, outcomes, payments.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "lots",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
    )
    op.create_table(
        "booths",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("lot_id", sa.String(64), sa.ForeignKey("lots.id"), nullable=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "parking_sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("plate", sa.String(32), nullable=False),
        sa.Column("lot_id", sa.String(64), sa.ForeignKey("lots.id"), nullable=False),
        sa.Column("entered_at", TS, nullable=False),
        sa.Column("exited_at", TS, nullable=True),
        sa.Column("fee_cents", sa.Integer, nullable=False),
        sa.Column("paid_cents", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.CheckConstraint(
            "status IN ('unpaid', 'paid', 'disputed', 'waived')",
            name="ck_parking_sessions_status",
        ),
        sa.CheckConstraint("fee_cents >= 0 AND paid_cents >= 0", name="ck_parking_sessions_cents"),
    )
    op.create_index("ix_parking_sessions_plate", "parking_sessions", ["plate"])
    op.create_table(
        "blacklist_entries",
        sa.Column("plate", sa.String(32), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("unpaid_cents", sa.Integer, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("last_seq", sa.Integer, nullable=False),
        sa.Column("entry", sa.JSON, nullable=False),
        sa.CheckConstraint("status IN ('active', 'disputed')", name="ck_blacklist_entries_status"),
    )
    op.create_table(
        "blacklist_changes",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("plate", sa.String(32), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("entry", sa.JSON, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint("action IN ('upsert', 'remove')", name="ck_blacklist_changes_action"),
    )
    state = op.create_table(
        "server_state",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("latest_seq", sa.Integer, nullable=False),
        sa.Column("pruned_seq", sa.Integer, nullable=False),
    )
    op.bulk_insert(state, [{"id": 1, "latest_seq": 0, "pruned_seq": 0}])
    op.create_table(
        "plate_reads",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("read_id", sa.Uuid, nullable=False, unique=True),
        sa.Column("booth_id", sa.String(64), sa.ForeignKey("booths.id"), nullable=False),
        sa.Column("plate", sa.String(32), nullable=False),
        sa.Column("lane", sa.String(100), nullable=False),
        sa.Column("seen_at", TS, nullable=False),
        sa.Column("confidence", sa.Float, nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("answer", sa.JSON, nullable=False),
        sa.Column("received_at", TS, nullable=False),
    )
    op.create_table(
        "outcomes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("outcome_id", sa.Uuid, nullable=False, unique=True),
        sa.Column("booth_id", sa.String(64), sa.ForeignKey("booths.id"), nullable=False),
        sa.Column("plate", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("method", sa.String(16), nullable=True),
        sa.Column("amount_cents", sa.Integer, nullable=False),
        sa.Column("request", sa.JSON, nullable=False),
        sa.Column("http_status", sa.Integer, nullable=False),
        sa.Column("answer", sa.JSON, nullable=False),
        sa.Column("received_at", TS, nullable=False),
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "session_id",
            sa.Integer,
            sa.ForeignKey("parking_sessions.id"),
            nullable=False,
            unique=True,
        ),
        sa.Column("outcome_id", sa.Uuid, sa.ForeignKey("outcomes.outcome_id"), nullable=False),
        sa.Column("amount_cents", sa.Integer, nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "payments",
        "outcomes",
        "plate_reads",
        "server_state",
        "blacklist_changes",
        "blacklist_entries",
        "parking_sessions",
        "booths",
        "lots",
    ):
        op.drop_table(table)
