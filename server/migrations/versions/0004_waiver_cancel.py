"""Booths cancel waiver requests; the audit log also holds booth actions.

A waiver request can end ``cancelled`` (the booth recorded another outcome, or the
attendant withdrew it). The audit log gets ``booth_id``, and ``supervisor_id`` /
``supervisor`` become optional: a booth's cancellation is audited with the booth alone,
an offline approval with both the supervisor and the booth where it happened.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-10
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OLD_WAIVER_STATUSES = "status IN ('pending', 'approved', 'refused')"
NEW_WAIVER_STATUSES = "status IN ('pending', 'approved', 'refused', 'cancelled')"

_SQLITE_TRIGGERS = (
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
)


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _waiver_statuses(statuses: str) -> None:
    with op.batch_alter_table("waiver_requests") as batch:
        batch.drop_constraint("ck_waiver_requests_status", type_="check")
        batch.create_check_constraint("ck_waiver_requests_status", statuses)


def _audit_columns(*, nullable: bool) -> None:
    # SQLite copies the table in batch mode; its append-only triggers go with the old
    # table and are created again on the copy. PostgreSQL alters in place (no UPDATE).
    if _sqlite():
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    with op.batch_alter_table("audit_log") as batch:
        batch.alter_column("supervisor_id", existing_type=sa.Integer, nullable=nullable)
        batch.alter_column("supervisor", existing_type=sa.String(64), nullable=nullable)
        if nullable:
            batch.add_column(sa.Column("booth_id", sa.String(64), nullable=True))
            batch.create_foreign_key("fk_audit_log_booth_id", "booths", ["booth_id"], ["id"])
        else:
            batch.drop_constraint("fk_audit_log_booth_id", type_="foreignkey")
            batch.drop_column("booth_id")
    if _sqlite():
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)


def upgrade() -> None:
    _waiver_statuses(NEW_WAIVER_STATUSES)
    _audit_columns(nullable=True)


def downgrade() -> None:
    """Fails while cancelled requests or booth-only audit rows exist (nothing is lost)."""
    _audit_columns(nullable=False)
    _waiver_statuses(OLD_WAIVER_STATUSES)
