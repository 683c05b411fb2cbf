"""e-mail report subscriptions, traffic alerts, goal thresholds, webhooks, the outbox

Revision ID: 0007_reports_alerts_webhooks
Revises: 0006_bot_counts
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_reports_alerts_webhooks"
down_revision: str | Sequence[str] | None = "0006_bot_counts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "goal_thresholds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.Column("conversions", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goal_thresholds")),
    )
    with op.batch_alter_table("goal_thresholds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_goal_thresholds_site_id"), ["site_id"], unique=False)

    op.create_table(
        "notifications",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("target", sa.String(length=320), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("dedupe_key", sa.String(length=400), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("response_code", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_notifications_dedupe_key")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notifications_site_id"), ["site_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_notifications_status_next_attempt_at"),
            ["status", "next_attempt_at"],
            unique=False,
        )

    op.create_table(
        "report_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("weekly", sa.Boolean(), nullable=False),
        sa.Column("monthly", sa.Boolean(), nullable=False),
        sa.Column("unsubscribe_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_subscriptions")),
        sa.UniqueConstraint("site_id", "email", name=op.f("uq_report_subscriptions_site_id_email")),
        sa.UniqueConstraint(
            "unsubscribe_token", name=op.f("uq_report_subscriptions_unsubscribe_token")
        ),
    )
    with op.batch_alter_table("report_subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_subscriptions_site_id"), ["site_id"], unique=False
        )

    op.create_table(
        "site_alerts",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("spike_visitors", sa.Integer(), nullable=True),
        sa.Column("drop_percent", sa.Integer(), nullable=True),
        sa.Column("emails", sa.JSON(), nullable=False),
        sa.Column("spike_since", sa.DateTime(), nullable=True),
        sa.Column("drop_since", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_site_alerts")),
    )
    op.create_table(
        "webhooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("payload_format", sa.String(length=10), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
    )
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhooks_site_id"), ["site_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhooks_site_id"))

    op.drop_table("webhooks")
    op.drop_table("site_alerts")
    with op.batch_alter_table("report_subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_subscriptions_site_id"))

    op.drop_table("report_subscriptions")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_status_next_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_notifications_site_id"))

    op.drop_table("notifications")
    with op.batch_alter_table("goal_thresholds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_goal_thresholds_site_id"))

    op.drop_table("goal_thresholds")
