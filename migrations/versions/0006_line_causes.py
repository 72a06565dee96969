"""plan lines keep their demand's instance id and why they are late, unmet or bought in an
emergency (a cause code, the reason in Chinese too); promises keep why emergency procurement

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 22:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Lines saved before: a project line's instance id is `project/line_no`, a replenishment
# line's `REPL:warehouse:material` (supply.planning).
_DEMAND_KEY = """
UPDATE plan_line SET demand_key = COALESCE(
    (SELECT d.project_id || '/' || CAST(d.line_no AS VARCHAR(12)) FROM demand_line d
      WHERE d.id = plan_line.demand_line_id),
    'REPL:' || replenish_warehouse_id || ':' || material_code)
"""


def upgrade() -> None:
    """Apply this revision (plain ADD COLUMNs, as 0005)."""
    for name, length in (
        ("demand_key", 100),
        ("cause", 32),
        ("emergency_cause", 32),
        ("reason_zh", 2000),
    ):
        op.add_column(
            "plan_line",
            sa.Column(name, sa.String(length), nullable=False, server_default=sa.text("''")),
        )
    op.execute(_DEMAND_KEY)
    op.add_column(
        "promise",
        sa.Column("emergency_cause", sa.String(32), nullable=False, server_default=sa.text("''")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.execute("ALTER TABLE promise DROP COLUMN emergency_cause")
    for name in ("reason_zh", "emergency_cause", "cause", "demand_key"):
        op.execute(f"ALTER TABLE plan_line DROP COLUMN {name}")
