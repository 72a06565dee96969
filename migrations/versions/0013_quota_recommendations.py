"""quota recommendations: the quota advisor's recommendations, with their replay's figures

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 10:00:00

`quota_recommendation` is one recommendation (computing, done or failed; the year it drafts, the
service level, the window of batches it read, the replay's on-time counts and stock values with
the current and the recommended quotas); `quota_recommendation_line` one warehouse × material of it.

Revision 0012 is another branch's (what-if scenarios); where both are merged, this revision
follows it (`down_revision = "0012"`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import supply.core.db
import supply.core.money

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    text = sqlmodel.sql.sqltypes.AutoString
    money = supply.core.money.Money(precision=18, scale=6)
    moment = supply.core.db.UTCDateTime(timezone=True)
    op.create_table(
        "quota_recommendation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", text(length=16), nullable=False),
        sa.Column("message", text(length=500), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("service_level_permille", sa.Integer(), nullable=False),
        sa.Column("first_batch", text(length=10), nullable=False),
        sa.Column("last_batch", text(length=10), nullable=False),
        sa.Column("window_start", moment, nullable=False),
        sa.Column("window_end", moment, nullable=False),
        sa.Column("catalog", text(length=40), nullable=False),
        sa.Column("history_lines", sa.Integer(), nullable=False),
        sa.Column("short_lines", sa.Integer(), nullable=False),
        sa.Column("on_time_current", sa.Integer(), nullable=False),
        sa.Column("on_time_recommended", sa.Integer(), nullable=False),
        sa.Column("other_lines", sa.Integer(), nullable=False),
        sa.Column("other_on_time_current", sa.Integer(), nullable=False),
        sa.Column("other_on_time_recommended", sa.Integer(), nullable=False),
        sa.Column("stock_value_current", money, nullable=False),
        sa.Column("stock_value_recommended", money, nullable=False),
        sa.Column("quota_value_current", money, nullable=False),
        sa.Column("quota_value_recommended", money, nullable=False),
        sa.Column("replay_seconds", sa.Float(), nullable=False),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("created_by", text(length=100), nullable=False),
        sa.Column("finished_at", moment, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quota_recommendation")),
    )
    op.create_index("ix_quota_recommendation_year", "quota_recommendation", ["year"])
    op.create_table(
        "quota_recommendation_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recommendation_id", sa.Integer(), nullable=False),
        sa.Column("warehouse_id", text(length=32), nullable=False),
        sa.Column("material_code", text(length=64), nullable=False),
        sa.Column("current", sa.BigInteger(), nullable=False),
        sa.Column("recommended", sa.BigInteger(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("lead_days", sa.Integer(), nullable=False),
        sa.Column("unit_price", money, nullable=False),
        sa.Column("replay_lines", sa.Integer(), nullable=False),
        sa.Column("on_time_current", sa.Integer(), nullable=False),
        sa.Column("on_time_recommended", sa.Integer(), nullable=False),
        sa.Column("reason", text(length=400), nullable=False),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["quota_recommendation.id"],
            name=op.f("fk_quota_recommendation_line_recommendation_id_quota_recommendation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quota_recommendation_line")),
    )
    op.create_index(
        "ix_quota_recommendation_line_recommendation_id",
        "quota_recommendation_line",
        ["recommendation_id"],
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(
        "ix_quota_recommendation_line_recommendation_id", table_name="quota_recommendation_line"
    )
    op.drop_table("quota_recommendation_line")
    op.drop_index("ix_quota_recommendation_year", table_name="quota_recommendation")
    op.drop_table("quota_recommendation")
