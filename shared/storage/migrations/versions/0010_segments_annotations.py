"""segments, annotations, scroll-depth goals, the screen size of a visit, site search

Revision ID: 0010_segments_annotations
Revises: 0009_imports
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_segments_annotations"
down_revision: str | Sequence[str] | None = "0009_imports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "segments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
    )
    op.create_index(op.f("ix_segments_site_id"), "segments", ["site_id"], unique=False)
    op.create_table(
        "annotations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("author", sa.String(length=320), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annotations")),
    )
    op.create_index(op.f("ix_annotations_site_id_first_day"), "annotations",
                    ["site_id", "first_day"], unique=False)
    with op.batch_alter_table("goals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scroll_threshold", sa.SmallInteger(), nullable=True))
    # Plain ADD COLUMN on both databases (no table copy): cheap on a big events table.
    op.add_column("events", sa.Column("screen_size", sa.String(length=10), nullable=False,
                                      server_default=""))
    op.add_column("events", sa.Column("search_term", sa.String(length=300), nullable=False,
                                      server_default=""))
    op.add_column("sites", sa.Column("search_params", sa.JSON(), nullable=True))
    op.add_column("rollup_visits", sa.Column("screen_size", sa.String(length=2000),
                                             nullable=True))
    # Rollups built before this revision have no screen-size rows: rebuild every site's days.
    op.execute("INSERT INTO dirty_days (site_id, day, marked_at) "
               "SELECT DISTINCT site_id, day, CURRENT_TIMESTAMP FROM daily_rollups "
               "WHERE NOT EXISTS (SELECT 1 FROM dirty_days d WHERE "
               "d.site_id = daily_rollups.site_id AND d.day = daily_rollups.day)")


def downgrade() -> None:
    with op.batch_alter_table("rollup_visits", schema=None) as batch_op:
        batch_op.drop_column("screen_size")
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_column("search_params")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("search_term")
        batch_op.drop_column("screen_size")
    with op.batch_alter_table("goals", schema=None) as batch_op:
        batch_op.drop_column("scroll_threshold")
    op.drop_index(op.f("ix_annotations_site_id_first_day"), table_name="annotations")
    op.drop_table("annotations")
    op.drop_index(op.f("ix_segments_site_id"), table_name="segments")
    op.drop_table("segments")
