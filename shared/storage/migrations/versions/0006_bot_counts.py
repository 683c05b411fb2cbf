"""bot_counts: dropped bot hits per site, day, category and agent family

Revision ID: 0006_bot_counts
Revises: 0005_access_hardening
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_bot_counts"
down_revision: str | Sequence[str] | None = "0005_access_hardening"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bot_counts",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("family", sa.String(length=60), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("site_id", "day", "category", "family",
                                name=op.f("pk_bot_counts")),
    )


def downgrade() -> None:
    op.drop_table("bot_counts")
