"""QR payment intents; a payment comes from an outcome or from a paid intent.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "payment_intents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("intent_id", sa.Uuid, nullable=False, unique=True),
        sa.Column("notice_id", sa.Uuid, nullable=False),
        sa.Column("booth_id", sa.String(64), sa.ForeignKey("booths.id"), nullable=False),
        sa.Column("plate", sa.String(32), nullable=False),
        sa.Column("session_ids", sa.JSON, nullable=False),
        sa.Column("amount_cents", sa.Integer, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("request", sa.JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("paid_at", TS, nullable=True),
        sa.Column("outcome_id", sa.Uuid, nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'paid', 'cancelled')", name="ck_payment_intents_status"
        ),
    )
    # SQLite cannot alter a column in place: batch mode (env.py) copies the table.
    with op.batch_alter_table("payments") as batch:
        batch.alter_column("outcome_id", existing_type=sa.Uuid, nullable=True)
        batch.add_column(sa.Column("intent_id", sa.Uuid, nullable=True))
        batch.create_foreign_key(
            "fk_payments_intent_id", "payment_intents", ["intent_id"], ["intent_id"]
        )
        batch.create_check_constraint(
            "ck_payments_source", "outcome_id IS NOT NULL OR intent_id IS NOT NULL"
        )


def downgrade() -> None:
    """Drop the intents; fails while payments collected through an intent exist."""
    with op.batch_alter_table("payments") as batch:
        batch.drop_constraint("ck_payments_source", type_="check")
        batch.drop_constraint("fk_payments_intent_id", type_="foreignkey")
        batch.drop_column("intent_id")
        batch.alter_column("outcome_id", existing_type=sa.Uuid, nullable=False)
    op.drop_table("payment_intents")
