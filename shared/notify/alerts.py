"""Notify stage: the traffic alerts - spike, drop, goal threshold - checked by the
worker every round, one notice per episode.

Spike: more than N current visitors (the realtime report's "now": the last 5 minutes).
The episode ends when current visitors fall to 80 % of N or below, so a count that
hovers around N does not send a notice every round.

Drop: the site's visitors today so far (local midnight to now) are below X % of the
usual - the mean of the same weekday up to the same time of day over the last four
weeks that had traffic that day (at least two needed, and a usual of at least
MIN_USUAL visitors, so a quiet site at 00:30 raises nothing). A snippet that stopped
sending shows as 0 visitors today and raises the alert. The episode ends when today so
far is back at X % of usual or more; a drop that lasts several days is one episode.

Goal threshold: a goal reached N conversions today (local day); one notice a day.

Each notice goes by e-mail to the site's alert recipients and to every webhook of the
site that wants the event; the outbox's dedupe key (event, site, episode start, target)
makes a repeated check queue nothing new.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shared.core import schema
from shared.core.clock import local_day, local_midnight_utc
from shared.notify.alert_rules import (
    AlertRules,
    GoalThreshold,
    all_alert_rules,
    close_episode,
    get_alert_rules,
    list_goal_thresholds,
    open_episode,
)
from shared.notify.outbox import enqueue
from shared.notify.webhooks import list_webhooks
from shared.reports import StatsQuery, goal_conversions, list_goals
from shared.reports.realtime import current_visitors
from shared.sites import Site, get_site
from shared.storage import write_transaction

E = schema.events
MIN_USUAL = 10
WEEKS = 4
SPIKE_END_FRACTION = 0.8


def visitors_between(conn: Connection, site_id: int, start: datetime, end: datetime) -> int:
    return int(conn.execute(sa.select(sa.func.count(sa.distinct(E.c.visitor_id))).where(
        E.c.site_id == site_id, E.c.ts >= start, E.c.ts < end,
        E.c.name != "engagement")).scalar() or 0)


def traffic_so_far(conn: Connection, site: Site, now: datetime) -> tuple[int, float | None]:
    """(visitors today so far, the usual by this time of day or None if unknown)."""
    tz = ZoneInfo(site.timezone)
    today = local_day(now, tz)
    start = local_midnight_utc(today, tz)
    elapsed = now - start
    current = visitors_between(conn, site.id, start, now)
    past = []
    for week in range(1, WEEKS + 1):
        day_start = local_midnight_utc(today - timedelta(days=7 * week), tz)
        if (count := visitors_between(conn, site.id, day_start, day_start + elapsed)) > 0:
            past.append(count)
    return current, (sum(past) / len(past) if len(past) >= 2 else None)


def notify(conn: Connection, site: Site, rules: AlertRules, event: str, episode: str,
           subject: str, text: str, data: dict[str, Any], now: datetime) -> int:
    """Queue one notice per alert recipient and per webhook wanting `event`."""
    queued = 0
    payload = {"subject": subject, "text": text, "data": data,
               "created_at": now.isoformat(timespec="seconds")}
    targets = [("email", e) for e in rules.emails] + [
        ("webhook", str(h.id)) for h in list_webhooks(conn, site.id, event)]
    for channel, target in targets:
        queued += enqueue(conn, site_id=site.id, channel=channel, target=target, event=event,
                          dedupe_key=f"{event}:{site.id}:{episode}:{channel}:{target}",
                          payload=payload, now=now)
    return queued


def check_spike(conn: Connection, site: Site, rules: AlertRules, now: datetime) -> int:
    if rules.spike_visitors is None:
        return 0
    visitors = current_visitors(conn, site.id, now)
    if (rules.spike_since is None and visitors > rules.spike_visitors
            and open_episode(conn, site.id, "spike", now)):
        text = (f"Traffic spike on {site.domain}: {visitors} current visitors (alert above "
                f"{rules.spike_visitors}).")
        return notify(conn, site, rules, "spike", now.isoformat(timespec="seconds"),
                      f"Traffic spike on {site.domain}: {visitors} current visitors", text,
                      {"current_visitors": visitors, "threshold": rules.spike_visitors},
                      now)
    if rules.spike_since is not None and visitors <= rules.spike_visitors * SPIKE_END_FRACTION:
        close_episode(conn, site.id, "spike")
    return 0


def check_drop(conn: Connection, site: Site, rules: AlertRules, now: datetime) -> int:
    if rules.drop_percent is None:
        return 0
    today, usual = traffic_so_far(conn, site, now)
    if usual is None or usual < MIN_USUAL:
        return 0
    low = today < usual * rules.drop_percent / 100
    if rules.drop_since is None and low and open_episode(conn, site.id, "drop", now):
        share = 100 * today / usual
        text = (f"Traffic drop on {site.domain}: {today} visitors today so far, {share:.0f}% "
                f"of the usual {usual:.0f} by this time on this weekday (alert below "
                f"{rules.drop_percent}%)." + (" No visits at all: is the tracking snippet "
                                               "still on the pages?" if today == 0 else ""))
        return notify(conn, site, rules, "drop", now.isoformat(timespec="seconds"),
                      f"Traffic drop on {site.domain}: {share:.0f}% of the usual", text,
                      {"visitors_today": today, "usual": round(usual, 1),
                       "percent_of_usual": round(share, 1), "threshold": rules.drop_percent},
                      now)
    if rules.drop_since is not None and not low:
        close_episode(conn, site.id, "drop")
    return 0


def check_goal_threshold(conn: Connection, threshold: GoalThreshold, now: datetime) -> int:
    site = get_site(conn, threshold.site_id)
    goal = next((g for g in list_goals(conn, threshold.site_id)
                 if g.id == threshold.goal_id), None)
    if site is None or goal is None:
        return 0
    query = StatsQuery(site_id=site.id, timezone=site.timezone, period="today", now=now)
    (result,) = goal_conversions(conn, query, [goal])
    if result.conversions < threshold.conversions:
        return 0
    text = (f"Goal \"{goal.display_name}\" on {site.domain} reached {result.conversions} "
            f"conversions today (threshold {threshold.conversions}).")
    return notify(conn, site, get_alert_rules(conn, site.id), "goal",
                  f"{threshold.id}:{query.today.isoformat()}",
                  f"Goal reached on {site.domain}: {goal.display_name}", text,
                  {"goal": goal.display_name, "conversions": result.conversions,
                   "threshold": threshold.conversions, "day": query.today.isoformat()}, now)


def check_site(conn: Connection, site_id: int, now: datetime) -> int:
    """Check one site's spike and drop rules; returns the notices queued."""
    site = get_site(conn, site_id)
    if site is None:
        return 0
    queued = check_spike(conn, site, get_alert_rules(conn, site_id), now)
    return queued + check_drop(conn, site, get_alert_rules(conn, site_id), now)


def check_alerts(engine: Engine, now: datetime) -> int:
    """Check every site's rules, each site (and goal threshold) in its own short write
    transaction so the beacon's writer never waits for all of them; returns the notices
    queued."""
    with engine.connect() as conn:
        site_ids = [r.site_id for r in all_alert_rules(conn)]
        thresholds = list_goal_thresholds(conn)
    queued = 0
    for site_id in site_ids:
        with write_transaction(engine) as conn:
            queued += check_site(conn, site_id, now)
    for threshold in thresholds:
        with write_transaction(engine) as conn:
            queued += check_goal_threshold(conn, threshold, now)
    return queued
