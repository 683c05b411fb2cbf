"""api key scopes: a key reads one site's stats ("stats") or belongs to a user and
manages their sites ("sites"); share links get a name (the Sites API finds them by it)

Revision ID: 0012_api_key_scopes
Revises: 0011_goal_currency
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_api_key_scopes"
down_revision: str | Sequence[str] | None = "0011_goal_currency"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # batch: SQLite rebuilds the table to drop NOT NULL; PostgreSQL alters in place.
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scopes", sa.String(length=100), nullable=False,
                                      server_default="stats"))
        batch_op.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
        batch_op.alter_column("site_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f("ix_api_keys_user_id"), ["user_id"], unique=False)
    with op.batch_alter_table("share_links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("share_links", schema=None) as batch_op:
        batch_op.drop_column("name")
    op.execute("DELETE FROM api_keys WHERE site_id IS NULL")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_user_id"))
        batch_op.alter_column("site_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("user_id")
        batch_op.drop_column("scopes")
