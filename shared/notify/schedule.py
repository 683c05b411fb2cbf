"""Notify stage: queue the reports that are due - per recipient and per webhook that
wants reports - once per period (the outbox's dedupe key records it).

A period is due once the site's local day is past its end (the Monday after a week,
the 1st after a month). Only the latest ended period is queued, and only when it ended
after the recipient or webhook was added: a new recipient gets no back-dated reports.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection

from shared.core.clock import local_day, local_midnight_utc
from shared.notify.outbox import enqueue
from shared.notify.periods import KINDS, last_complete
from shared.notify.subscriptions import list_subscriptions
from shared.notify.webhooks import list_webhooks
from shared.sites import Site, list_sites


def report_key(kind: str, first: date, site_id: int, target: str) -> str:
    return f"report:{kind}:{first.isoformat()}:{site_id}:{target}"


def _due(kind: str, site: Site, now: datetime, since: datetime) -> tuple[date, date] | None:
    tz = ZoneInfo(site.timezone)
    first, last = last_complete(kind, local_day(now, tz))
    ended = local_midnight_utc(last + timedelta(days=1), tz)
    return (first, last) if ended > since else None


def schedule_reports(conn: Connection, now: datetime) -> int:
    """Queue every due report not queued before; returns how many were queued now."""
    sites = {s.id: s for s in list_sites(conn)}
    queued = 0
    for sub in list_subscriptions(conn):
        site = sites.get(sub.site_id)
        for kind in sub.periods if site else ():
            assert site is not None
            if (period := _due(kind, site, now, sub.created_at)) is not None:
                queued += _queue(conn, site, kind, period, "email", sub.email, now)
    for site in sites.values():
        for hook in list_webhooks(conn, site.id, "report"):
            for kind in KINDS:
                if (period := _due(kind, site, now, hook.created_at)) is not None:
                    queued += _queue(conn, site, kind, period, "webhook", str(hook.id), now)
    return queued


def _queue(conn: Connection, site: Site, kind: str, period: tuple[date, date], channel: str,
           target: str, now: datetime) -> int:
    first, last = period
    key = report_key(kind, first, site.id, f"{channel}:{target}")
    return int(enqueue(conn, site_id=site.id, channel=channel, target=target, event="report",
                       dedupe_key=key, now=now,
                       payload={"kind": kind, "first": first.isoformat(),
                                "last": last.isoformat()}))
