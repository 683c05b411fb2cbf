"""export jobs: raw-event exports started from the dashboard and written by the worker

Revision ID: 0013_export_jobs
Revises: 0012_api_key_scopes
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_export_jobs"
down_revision: str | Sequence[str] | None = "0012_api_key_scopes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "export_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("active_key", sa.String(length=64), nullable=True),
        sa.Column("format", sa.String(length=10), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("label", sa.String(length=400), nullable=False),
        sa.Column("rows_total", sa.BigInteger(), nullable=True),
        sa.Column("rows_written", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("file_bytes", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.String(length=500), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_jobs")),
        sa.UniqueConstraint("token", name=op.f("uq_export_jobs_token")),
        sa.UniqueConstraint("active_key", name=op.f("uq_export_jobs_active_key")),
    )
    op.create_index(op.f("ix_export_jobs_site_id"), "export_jobs", ["site_id"])
    op.create_index(op.f("ix_export_jobs_user_id"), "export_jobs", ["user_id"])
    op.create_index(op.f("ix_export_jobs_status_created_at"), "export_jobs",
                    ["status", "created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_export_jobs_status_created_at"), table_name="export_jobs")
    op.drop_index(op.f("ix_export_jobs_user_id"), table_name="export_jobs")
    op.drop_index(op.f("ix_export_jobs_site_id"), table_name="export_jobs")
    op.drop_table("export_jobs")
