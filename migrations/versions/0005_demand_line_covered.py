"""demand lines keep the quantity with a source (covered) beside their status

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 09:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# What covers a line, as supply.commitments sums it: held or issued holds, agreement and
# emergency lines of approved plans, live promises.
_COVERED = """
UPDATE demand_line SET covered =
    COALESCE((SELECT SUM(h.quantity) FROM hold h
              WHERE h.demand_line_id = demand_line.id AND h.status IN ('held', 'issued')), 0)
  + COALESCE((SELECT SUM(p.quantity) FROM plan_line p JOIN plan_run r ON r.id = p.run_id
              WHERE p.demand_line_id = demand_line.id AND r.status = 'approved'
                AND p.kind IN ('agreement', 'emergency')), 0)
  + COALESCE((SELECT SUM(q.quantity) FROM promise q
              WHERE q.demand_line_id = demand_line.id AND q.status IN ('promised', 'fulfilled')), 0)
"""


def upgrade() -> None:
    """Apply this revision (a plain ADD COLUMN: SQLite's copy-and-move would trip over the
    foreign keys of a populated database)."""
    op.add_column(
        "demand_line",
        sa.Column("covered", sa.BigInteger(), nullable=False, server_default=sa.text("0")),
    )
    op.execute(_COVERED)


def downgrade() -> None:
    """Revert this revision (SQLite 3.35 and PostgreSQL drop a column in place)."""
    op.execute("ALTER TABLE demand_line DROP COLUMN covered")
