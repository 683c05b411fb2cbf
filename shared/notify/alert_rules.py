"""Notify stage: a site's alert rules - traffic spike, traffic drop, goal thresholds -
and who gets the alert e-mails (webhooks choose their events themselves)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared.core import schema
from shared.notify.errors import NotifyError
from shared.notify.subscriptions import check_email

A = schema.site_alerts
T = schema.goal_thresholds
MAX_EMAILS = 20


@dataclass(frozen=True)
class AlertRules:
    site_id: int
    spike_visitors: int | None = None     # alert when current visitors exceed this
    drop_percent: int | None = None       # alert when today so far is below this % of usual
    emails: tuple[str, ...] = ()
    spike_since: datetime | None = None   # the open spike episode, if any
    drop_since: datetime | None = None


@dataclass(frozen=True)
class GoalThreshold:
    id: int
    site_id: int
    goal_id: int
    conversions: int


def get_alert_rules(conn: Connection, site_id: int) -> AlertRules:
    row = conn.execute(sa.select(A).where(A.c.site_id == site_id)).first()
    if row is None:
        return AlertRules(site_id)
    m = row._mapping
    return AlertRules(site_id, m["spike_visitors"], m["drop_percent"], tuple(m["emails"]),
                      m["spike_since"], m["drop_since"])


def set_alert_rules(conn: Connection, site_id: int, *, spike_visitors: int | None,
                    drop_percent: int | None, emails: list[str] | tuple[str, ...],
                    now: datetime) -> AlertRules:
    """Replace the site's rules (None turns a rule off). An episode in progress stays
    open when its rule stays on, so changing a recipient sends no second notice."""
    if spike_visitors is not None and spike_visitors < 1:
        raise NotifyError("the spike threshold must be at least 1 current visitor")
    if drop_percent is not None and not 1 <= drop_percent <= 99:
        raise NotifyError("the drop threshold must be between 1 and 99 %")
    addresses = tuple(dict.fromkeys(check_email(e) for e in emails if e.strip()))
    if len(addresses) > MAX_EMAILS:
        raise NotifyError(f"at most {MAX_EMAILS} alert recipients")
    old = get_alert_rules(conn, site_id)
    values: dict[str, Any] = dict(
        spike_visitors=spike_visitors, drop_percent=drop_percent, emails=list(addresses),
        spike_since=old.spike_since if spike_visitors is not None else None,
        drop_since=old.drop_since if drop_percent is not None else None, updated_at=now)
    if conn.execute(sa.update(A).where(A.c.site_id == site_id).values(**values)).rowcount == 0:
        conn.execute(sa.insert(A).values(site_id=site_id, **values))
    return get_alert_rules(conn, site_id)


def open_episode(conn: Connection, site_id: int, kind: str, since: datetime) -> bool:
    """Open the site's spike or drop episode; False when one is open already (another
    worker opened it first: only the one that opens it sends the notice)."""
    column = A.c[{"spike": "spike_since", "drop": "drop_since"}[kind]]
    return conn.execute(sa.update(A).where(A.c.site_id == site_id, column.is_(None))
                        .values({column.name: since})).rowcount == 1


def close_episode(conn: Connection, site_id: int, kind: str) -> None:
    column = {"spike": "spike_since", "drop": "drop_since"}[kind]
    conn.execute(sa.update(A).where(A.c.site_id == site_id).values({column: None}))


def all_alert_rules(conn: Connection) -> list[AlertRules]:
    site_ids = conn.execute(sa.select(A.c.site_id).where(
        sa.or_(A.c.spike_visitors.is_not(None), A.c.drop_percent.is_not(None)))).scalars()
    return [get_alert_rules(conn, s) for s in site_ids]


def add_goal_threshold(conn: Connection, site_id: int, goal_id: int, conversions: int,
                       now: datetime) -> GoalThreshold:
    goal = conn.execute(sa.select(schema.goals.c.id).where(
        schema.goals.c.site_id == site_id, schema.goals.c.id == goal_id)).first()
    if goal is None:
        raise NotifyError(f"no goal {goal_id} on this site")
    if conversions < 1:
        raise NotifyError("a goal threshold needs at least 1 conversion")
    new_id = conn.execute(sa.insert(T).values(
        site_id=site_id, goal_id=goal_id, conversions=conversions, created_at=now,
    ).returning(T.c.id)).scalar_one()
    return GoalThreshold(new_id, site_id, goal_id, conversions)


def list_goal_thresholds(conn: Connection, site_id: int | None = None) -> list[GoalThreshold]:
    query = sa.select(T).order_by(T.c.site_id, T.c.id)
    if site_id is not None:
        query = query.where(T.c.site_id == site_id)
    return [GoalThreshold(r.id, r.site_id, r.goal_id, r.conversions) for r in conn.execute(query)]


def remove_goal_threshold(conn: Connection, site_id: int, threshold_id: int) -> None:
    if conn.execute(sa.delete(T).where(T.c.site_id == site_id, T.c.id == threshold_id)
                    ).rowcount == 0:
        raise NotifyError(f"no goal threshold {threshold_id} on this site")
