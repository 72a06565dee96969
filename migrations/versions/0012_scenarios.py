"""what-if scenarios: a base, its changes, the KPIs of both plans; files in a folder of its own

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 09:00:00

`scenario` is one saved what-if on a weekly plan: the batch, the base (`run`, with the run it
starts from, or `current`), the changes as JSON (they replay), what each change did, the KPIs of
the base and of the what-if, who made it and when, and its folder: the instances and plans are
files there, in the matching contract's format (docs/whatif.md says why).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import supply.core.db

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "scenario",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", text(length=200), nullable=False),
        sa.Column("batch_id", text(length=10), nullable=False),
        sa.Column("base", text(length=16), nullable=False),
        sa.Column("base_run_id", sa.Integer(), nullable=True),
        sa.Column("plan_date", sa.Date(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("effects", sa.JSON(), nullable=False),
        sa.Column("kpis", sa.JSON(), nullable=False),
        sa.Column("solve_status", text(length=16), nullable=False),
        sa.Column("lines_changed", sa.Integer(), nullable=False),
        sa.Column("created_by", text(length=100), nullable=False),
        sa.Column("created_at", supply.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("folder", text(length=500), nullable=False),
        sa.CheckConstraint("base IN ('run', 'current')", name=op.f("ck_scenario_base_valid")),
        sa.ForeignKeyConstraint(
            ["base_run_id"], ["plan_run.id"], name=op.f("fk_scenario_base_run_id_plan_run")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scenario")),
    )
    op.create_index("ix_scenario_batch_id", "scenario", ["batch_id"])
    op.create_index("ix_scenario_created_at", "scenario", ["created_at"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_scenario_created_at", table_name="scenario")
    op.drop_index("ix_scenario_batch_id", table_name="scenario")
    op.drop_table("scenario")
