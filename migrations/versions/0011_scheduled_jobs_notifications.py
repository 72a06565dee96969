"""scheduled jobs: a run's trigger, scheduled moment and outcome; notifications; users' e-mail

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 09:00:00

`job_run` gains `trigger`, `scheduled_for` and `outcome`, and a unique index on (name,
scheduled_for): the first process to record a scheduled moment of a job runs it, the others
find the row there (NULLs — runs by hand — never collide). `notification` is one reminder for
one user, once per (login, key). `app_user.email` is where reminders are e-mailed. Plain ADD
COLUMN on SQLite (0005 says why).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import supply.core.db

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    text = sqlmodel.sql.sqltypes.AutoString
    op.add_column(
        "job_run",
        sa.Column("trigger", text(length=16), nullable=False, server_default="page"),
    )
    op.add_column(
        "job_run",
        sa.Column("scheduled_for", supply.core.db.UTCDateTime(timezone=True), nullable=True),
    )
    op.add_column(
        "job_run", sa.Column("outcome", text(length=16), nullable=False, server_default="")
    )
    # Runs made before this revision ended as their status says.
    op.execute(
        "UPDATE job_run SET outcome = CASE status WHEN 'succeeded' THEN 'ran' "
        "WHEN 'failed' THEN 'failed' ELSE '' END"
    )
    op.create_index(
        "uq_job_run_name_scheduled_for", "job_run", ["name", "scheduled_for"], unique=True
    )
    op.add_column("app_user", sa.Column("email", text(length=254), nullable=True))
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", text(length=32), nullable=False),
        sa.Column("kind", text(length=48), nullable=False),
        sa.Column("key", text(length=200), nullable=False),
        sa.Column("title", text(length=200), nullable=False),
        sa.Column("body", text(length=4000), nullable=False),
        sa.Column("link", text(length=300), nullable=False),
        sa.Column("created_at", supply.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", text(length=100), nullable=False),
        sa.Column("read_at", supply.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("emailed_to", text(length=254), nullable=True),
        sa.Column("emailed_at", supply.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("email_error", text(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
        sa.UniqueConstraint("login", "key", name="uq_notification_login_key"),
    )
    op.create_index("ix_notification_login", "notification", ["login"])
    op.create_index("ix_notification_created_at", "notification", ["created_at"])


def downgrade() -> None:
    """Revert this revision (SQLite 3.35 and PostgreSQL drop a column in place)."""
    op.drop_index("ix_notification_created_at", table_name="notification")
    op.drop_index("ix_notification_login", table_name="notification")
    op.drop_table("notification")
    op.execute("ALTER TABLE app_user DROP COLUMN email")
    op.drop_index("uq_job_run_name_scheduled_for", table_name="job_run")
    for column in ("outcome", "scheduled_for", "trigger"):
        op.execute(f"ALTER TABLE job_run DROP COLUMN {column}")
