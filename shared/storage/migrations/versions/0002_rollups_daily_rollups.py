"""daily rollups

Revision ID: 0002_rollups
Revises: 0001_core
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_rollups"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "daily_rollups",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("dimension", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=2000), nullable=False),
        sa.Column("visitors", sa.Integer(), nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.Column("pageviews", sa.Integer(), nullable=False),
        sa.Column("bounces", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.BigInteger(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("engaged_ms", sa.BigInteger(), nullable=False),
        sa.Column("scroll_sum", sa.BigInteger(), nullable=False),
        sa.Column("scroll_count", sa.Integer(), nullable=False),
        sa.Column("revenue", sa.Float(), nullable=False),
    )
    with op.batch_alter_table("daily_rollups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_daily_rollups_site_id_dimension_day"),
                              ["site_id", "dimension", "day"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("daily_rollups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_daily_rollups_site_id_dimension_day"))
    op.drop_table("daily_rollups")
