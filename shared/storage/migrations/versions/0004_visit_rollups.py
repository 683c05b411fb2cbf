"""visit-level rollups: rollup_visits and rollup_visit_events

Revision ID: 0004_visit_rollups
Revises: 0003_login_tokens
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_visit_rollups"
down_revision: str | Sequence[str] | None = "0003_login_tokens"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VISIT_DIMENSION_COLUMNS = (
    "entry_page", "exit_page", "source", "channel", "referrer", "utm_source", "utm_medium",
    "utm_campaign", "utm_term", "utm_content", "country", "region", "city", "browser",
    "browser_version", "os", "os_version", "device", "language",
)


def _event_sums() -> list[sa.Column]:
    return [
        sa.Column("pageviews", sa.Integer(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("engaged_ms", sa.BigInteger(), nullable=False),
        sa.Column("scroll_sum", sa.BigInteger(), nullable=False),
        sa.Column("scroll_count", sa.Integer(), nullable=False),
        sa.Column("revenue", sa.Float(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "rollup_visits",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("session_id", sa.BigInteger(), nullable=False),
        sa.Column("visitor", sa.BigInteger(), nullable=False),
        *[sa.Column(name, sa.String(length=2000), nullable=True)
          for name in VISIT_DIMENSION_COLUMNS],
        sa.Column("bounce", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.BigInteger(), nullable=False),
        *_event_sums(),
        sa.PrimaryKeyConstraint("site_id", "day", "session_id", name=op.f("pk_rollup_visits")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "rollup_visit_events",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("dimension", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("session_id", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.String(length=2000), nullable=False),
        *_event_sums(),
        sa.Column("matched", sa.Integer(), nullable=False),
    )
    with op.batch_alter_table("rollup_visit_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rollup_visit_events_site_id_dimension_day_session_id"),
            ["site_id", "dimension", "day", "session_id"], unique=False)
    # Rollups built before this revision have no visit rows: rebuild every site's days.
    op.execute("INSERT INTO dirty_days (site_id, day, marked_at) "
               "SELECT DISTINCT site_id, day, CURRENT_TIMESTAMP FROM daily_rollups "
               "WHERE NOT EXISTS (SELECT 1 FROM dirty_days d WHERE "
               "d.site_id = daily_rollups.site_id AND d.day = daily_rollups.day)")


def downgrade() -> None:
    with op.batch_alter_table("rollup_visit_events", schema=None) as batch_op:
        batch_op.drop_index(
            batch_op.f("ix_rollup_visit_events_site_id_dimension_day_session_id"))
    op.drop_table("rollup_visit_events")
    op.drop_table("rollup_visits")
