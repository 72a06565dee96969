"""import records say accepted or rejected, keep a rejection's first problems, and cover project
workbooks and the province's matching result too

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CATALOG_KINDS = (
    "'materials', 'warehouses', 'transport', 'reserve', 'quotas', 'agreements', 'consignment'"
)
KINDS = f"{CATALOG_KINDS}, 'projects', 'province_match'"


def upgrade() -> None:
    """Apply this revision: `status` replaces the `accepted` flag (rows recorded so far keep
    what the flag said), `first_problems` is added, and the kinds widen."""
    with op.batch_alter_table("import_record", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "status",
                sa.String(length=16),
                nullable=False,
                server_default=sa.text("'accepted'"),
            )
        )
        batch_op.add_column(
            sa.Column(
                "first_problems",
                sa.String(length=2000),
                nullable=False,
                server_default=sa.text("''"),
            )
        )
    op.execute("UPDATE import_record SET status = 'rejected' WHERE NOT accepted")
    with op.batch_alter_table("import_record", schema=None) as batch_op:
        batch_op.alter_column("status", server_default=None)
        batch_op.alter_column("first_problems", server_default=None)
        batch_op.drop_column("accepted")
        batch_op.drop_constraint(op.f("ck_import_record_kind_valid"), type_="check")
        batch_op.create_check_constraint(op.f("ck_import_record_kind_valid"), f"kind IN ({KINDS})")
        batch_op.create_check_constraint(
            op.f("ck_import_record_status_valid"), "status IN ('accepted', 'rejected')"
        )
        batch_op.create_index(batch_op.f("ix_import_record_status"), ["status"], unique=False)


def downgrade() -> None:
    """Revert this revision: the flag comes back from `status`; records of project workbooks and
    province matching results, which the older schema cannot hold, are dropped."""
    op.execute("DELETE FROM import_record WHERE kind IN ('projects', 'province_match')")
    with op.batch_alter_table("import_record", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("accepted", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    op.execute("UPDATE import_record SET accepted = (status = 'accepted')")
    with op.batch_alter_table("import_record", schema=None) as batch_op:
        batch_op.alter_column("accepted", server_default=None)
        batch_op.drop_index(batch_op.f("ix_import_record_status"))
        batch_op.drop_constraint(op.f("ck_import_record_status_valid"), type_="check")
        batch_op.drop_constraint(op.f("ck_import_record_kind_valid"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_import_record_kind_valid"), f"kind IN ({CATALOG_KINDS})"
        )
        batch_op.drop_column("first_problems")
        batch_op.drop_column("status")
