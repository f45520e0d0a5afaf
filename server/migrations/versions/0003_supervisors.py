"""Supervisors, their tokens, the append-only audit log, flag history, waivers, evidence.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)

_SQLITE_TRIGGERS = (
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
)
_POSTGRES_TRIGGERS = (
    """CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$""",
    """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
       FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""",
)


def upgrade() -> None:
    op.create_table(
        "supervisors",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("pin_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint("role IN ('supervisor')", name="ck_supervisors_role"),
    )
    op.create_table(
        "supervisor_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("supervisor_id", sa.Integer, sa.ForeignKey("supervisors.id"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("supervisor_id", sa.Integer, sa.ForeignKey("supervisors.id"), nullable=False),
        sa.Column("supervisor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("plate", sa.String(32), nullable=True),
        sa.Column("target", sa.String(64), nullable=True),
        sa.Column("reason", sa.String(1000), nullable=True),
        sa.Column("before", sa.JSON, nullable=True),
        sa.Column("after", sa.JSON, nullable=True),
    )
    op.create_index("ix_audit_log_plate", "audit_log", ["plate"])
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    triggers = _SQLITE_TRIGGERS if op.get_bind().dialect.name == "sqlite" else _POSTGRES_TRIGGERS
    for statement in triggers:
        op.execute(statement)
    op.create_table(
        "flag_history",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("plate", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("session_ids", sa.JSON, nullable=False),
        sa.Column("unpaid_cents", sa.Integer, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("lots", sa.JSON, nullable=False),
        sa.Column("first_unpaid_at", TS, nullable=True),
        sa.Column("reason", sa.String(1000), nullable=True),
        sa.Column("decided_by", sa.String(100), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("decided_at", TS, nullable=False),
        sa.CheckConstraint("status IN ('cleared', 'waived')", name="ck_flag_history_status"),
        sa.CheckConstraint("source IN ('supervisor', 'booth')", name="ck_flag_history_source"),
    )
    op.create_index("ix_flag_history_plate", "flag_history", ["plate"])
    op.create_table(
        "waiver_requests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("request_id", sa.Uuid, nullable=False, unique=True),
        sa.Column("booth_id", sa.String(64), sa.ForeignKey("booths.id"), nullable=False),
        sa.Column("notice_id", sa.Uuid, nullable=True),
        sa.Column("plate", sa.String(32), nullable=False),
        sa.Column("session_ids", sa.JSON, nullable=False),
        sa.Column("reason", sa.String(1000), nullable=False),
        sa.Column("lane", sa.String(100), nullable=False),
        sa.Column("attendant", sa.String(100), nullable=True),
        sa.Column("request", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("decided_at", TS, nullable=True),
        sa.Column("decided_by_id", sa.Integer, sa.ForeignKey("supervisors.id"), nullable=True),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decision_reason", sa.String(1000), nullable=True),
        sa.Column("waived_session_ids", sa.JSON, nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'refused')", name="ck_waiver_requests_status"
        ),
    )
    op.create_index("ix_waiver_requests_plate", "waiver_requests", ["plate"])
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("evidence_id", sa.Uuid, nullable=False, unique=True),
        sa.Column("booth_id", sa.String(64), sa.ForeignKey("booths.id"), nullable=False),
        sa.Column("plate", sa.String(32), nullable=False),
        sa.Column("read_id", sa.Uuid, nullable=True),
        sa.Column("notice_id", sa.Uuid, nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("content_type", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.CheckConstraint("kind IN ('snapshot', 'crop')", name="ck_evidence_kind"),
        sa.CheckConstraint(
            "read_id IS NOT NULL OR notice_id IS NOT NULL", name="ck_evidence_subject"
        ),
    )
    op.create_index("ix_evidence_plate", "evidence", ["plate"])
    op.create_index("ix_evidence_received_at", "evidence", ["received_at"])
    op.create_index("ix_plate_reads_plate", "plate_reads", ["plate"])
    op.create_index("ix_outcomes_plate", "outcomes", ["plate"])


def downgrade() -> None:
    op.drop_index("ix_outcomes_plate", table_name="outcomes")
    op.drop_index("ix_plate_reads_plate", table_name="plate_reads")
    for table in ("evidence", "waiver_requests", "flag_history", "audit_log"):
        op.drop_table(table)
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    for table in ("supervisor_tokens", "supervisors"):
        op.drop_table(table)
