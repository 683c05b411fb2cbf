"""sign-in throttle tables and share-link expiry

Revision ID: 0005_access_hardening
Revises: 0004_visit_rollups
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_access_hardening"
down_revision: str | Sequence[str] | None = "0004_visit_rollups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sign_in_failures",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("blocked_until", sa.DateTime(), nullable=True),
        sa.Column("last_failure", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sign_in_failures")),
    )
    with op.batch_alter_table("sign_in_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sign_in_failures_last_failure"), ["last_failure"],
                              unique=False)
    op.create_table(
        "sign_in_networks",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("network_hash", sa.String(length=64), nullable=False),
        sa.Column("last_success", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "network_hash", name=op.f("pk_sign_in_networks")),
    )
    with op.batch_alter_table("sign_in_networks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sign_in_networks_last_success"), ["last_success"],
                              unique=False)
    with op.batch_alter_table("share_links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("share_links", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
    with op.batch_alter_table("sign_in_networks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sign_in_networks_last_success"))
    op.drop_table("sign_in_networks")
    with op.batch_alter_table("sign_in_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sign_in_failures_last_failure"))
    op.drop_table("sign_in_failures")
