"""Failed supervisor logins remember where they came from, so a stranger's failures lock
out only the stranger: counted per (username, source) and per source.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Failures recorded before this revision have no known source: they count as ''.
    with op.batch_alter_table("login_failures") as batch:
        batch.add_column(sa.Column("source", sa.String(64), nullable=False, server_default=""))
    op.create_index(
        "ix_login_failures_username_source_at", "login_failures", ["username", "source", "at"]
    )
    op.create_index("ix_login_failures_source_at", "login_failures", ["source", "at"])
    # A supervisor's failed logins since their last login are looked up at each login.
    op.create_index(
        "ix_audit_log_supervisor_action_at", "audit_log", ["supervisor_id", "action", "at"]
    )


def downgrade() -> None:
    op.drop_index("ix_audit_log_supervisor_action_at", table_name="audit_log")
    op.drop_index("ix_login_failures_source_at", table_name="login_failures")
    op.drop_index("ix_login_failures_username_source_at", table_name="login_failures")
    with op.batch_alter_table("login_failures") as batch:
        batch.drop_column("source")
