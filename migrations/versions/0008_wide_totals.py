"""totals of a week, a filing or a settlement are as wide as a sum can get

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 10:00:00

`plan_run.unmet_weighted`, `lateness_weighted` and `cost`, `filing.overrun` and
`consignment_settlement.amount` sum (or multiply) amounts that are each bounded, over as many
lines as a week or a project holds: NUMERIC(18, 6) stops at 10¹², SQLite's integer millionths at
9.2 × 10¹². They become `supply.core.money.Total`: NUMERIC(38, 6) on PostgreSQL (ALTER TYPE: a
widening, every value kept), the exact decimal as text on SQLite.

SQLite cannot change a column's type in place, and the copy-and-move of a batch would drop
`plan_run` — which `plan_line` references ON DELETE CASCADE — and take every plan line with it
(0005 says the same of `demand_line`). So each column of `plan_run` and of
`consignment_settlement` is replaced in place: a new text column is added, filled with the
value in yuan (integer millionths → "1234.500000"), the old one dropped and the new one renamed
(SQLite 3.35). `filing.overrun` is named in a CHECK, which a dropped column may not be: that
table, which no other table references, is copied (batch), and its values converted after.
"""

from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IN_PLACE = {
    "plan_run": ("unmet_weighted", "lateness_weighted", "cost"),
    "consignment_settlement": ("amount",),
}
COPIED = {"filing": ("overrun",)}
MILLION = Decimal(10**6)
QUANTUM = Decimal("0.000001")


def _as_text(value: object) -> str:
    """Integer millionths (as SQLite stored money) → the exact amount in yuan, as text."""
    return format((Decimal(int(str(value))) / MILLION).quantize(QUANTUM), "f")


def _as_millionths(value: object) -> int:
    """The exact amount in yuan, as text → integer millionths; refuse what int64 cannot hold."""
    millionths = int(Decimal(str(value)) * MILLION)
    if not -(2**63) <= millionths < 2**63:
        raise ValueError(
            f"{value} is too large for the narrower column of revision 0007: downgrade refused"
        )
    return millionths


def _convert(table: str, column: str, target: str, convert: object) -> None:
    """Write `convert(column)` into `target`, row by row (these tables are small)."""
    bind = op.get_bind()
    rows = bind.execute(sa.text(f"SELECT id, {column} FROM {table}")).all()
    if rows:
        bind.execute(
            sa.text(f"UPDATE {table} SET {target} = :value WHERE id = :id"),
            [{"id": row_id, "value": convert(value)} for row_id, value in rows],  # type: ignore[operator]
        )


def _replace_in_place(table: str, column: str, kind: str, default: str, convert: object) -> None:
    op.execute(f"ALTER TABLE {table} ADD COLUMN {column}_new {kind} NOT NULL DEFAULT {default}")
    _convert(table, column, f"{column}_new", convert)
    op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    op.execute(f"ALTER TABLE {table} RENAME COLUMN {column}_new TO {column}")


def upgrade() -> None:
    """Widen the totals (see the module docstring)."""
    if op.get_bind().dialect.name != "sqlite":
        for table, columns in {**IN_PLACE, **COPIED}.items():
            for column in columns:
                op.alter_column(
                    table,
                    column,
                    type_=sa.Numeric(38, 6),
                    existing_type=sa.Numeric(18, 6),
                    existing_nullable=False,
                )
        return
    for table, columns in IN_PLACE.items():
        for column in columns:
            _replace_in_place(table, column, "TEXT", "'0'", _as_text)
    for table, columns in COPIED.items():
        with op.batch_alter_table(table, recreate="always") as batch:
            for column in columns:
                batch.alter_column(
                    column, type_=sa.Text(), existing_type=sa.BigInteger(), existing_nullable=False
                )
        for column in columns:  # copied as text of the millionths: now in yuan
            _convert(table, column, column, _as_text)


def downgrade() -> None:
    """Narrow the totals again; refused (with the value) when one no longer fits."""
    if op.get_bind().dialect.name != "sqlite":
        for table, columns in {**IN_PLACE, **COPIED}.items():
            for column in columns:
                op.alter_column(
                    table,
                    column,
                    type_=sa.Numeric(18, 6),
                    existing_type=sa.Numeric(38, 6),
                    existing_nullable=False,
                )
        return
    for table, columns in IN_PLACE.items():
        for column in columns:
            _replace_in_place(table, column, "BIGINT", "0", _as_millionths)
    for table, columns in COPIED.items():
        for column in columns:  # text of the millionths first: the copy casts it to BIGINT
            _convert(table, column, column, lambda value: str(_as_millionths(value)))
        with op.batch_alter_table(table, recreate="always") as batch:
            for column in columns:
                batch.alter_column(
                    column, type_=sa.BigInteger(), existing_type=sa.Text(), existing_nullable=False
                )
