"""goals.currency: the currency a revenue goal reports its amounts in

Revision ID: 0011_goal_currency
Revises: 0010_segments_annotations
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_goal_currency"
down_revision: str | Sequence[str] | None = "0010_segments_annotations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("goals") as batch:
        batch.add_column(sa.Column("currency", sa.String(length=3), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("goals") as batch:
        batch.drop_column("currency")
