"""imports: imports of a site's history, their throwaway salts, events and bot counts

Revision ID: 0009_imports
Revises: 0008_two_factor_audit
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_imports"
down_revision: str | Sequence[str] | None = "0008_two_factor_audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=2000), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("position", sa.JSON(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("pageviews", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("visitors", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("first_ts", sa.DateTime(), nullable=True),
        sa.Column("last_ts", sa.DateTime(), nullable=True),
        sa.Column("error", sa.String(length=2000), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imports")),
    )
    op.create_index(op.f("ix_imports_site_id"), "imports", ["site_id"])
    op.create_index(op.f("ix_imports_site_id_kind_fingerprint"), "imports",
                    ["site_id", "kind", "fingerprint"])
    op.create_table(
        "import_salts",
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("salt", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("import_id", "day", name=op.f("pk_import_salts")),
    )
    op.create_table(
        "import_events",
        sa.Column("uid", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("uid", name=op.f("pk_import_events")),
    )
    op.create_index(op.f("ix_import_events_import_id"), "import_events", ["import_id"])
    op.create_table(
        "import_bot_counts",
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("family", sa.String(length=60), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("import_id", "day", "category", "family",
                                name=op.f("pk_import_bot_counts")),
    )


def downgrade() -> None:
    op.drop_table("import_bot_counts")
    op.drop_index(op.f("ix_import_events_import_id"), table_name="import_events")
    op.drop_table("import_events")
    op.drop_table("import_salts")
    op.drop_index(op.f("ix_imports_site_id_kind_fingerprint"), table_name="imports")
    op.drop_index(op.f("ix_imports_site_id"), table_name="imports")
    op.drop_table("imports")
