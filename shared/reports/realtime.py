"""Query layer: the realtime report - who is on the site right now.

Always raw (rollups are per day): current visitors are the distinct visitors with a
pageview or custom event in the last 5 minutes; the per-minute chart and the top pages
and sources cover the last 30 minutes, counting the visitors active in each.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared.core import schema
from shared.core.clock import to_local
from shared.stats import raw
from shared.stats.localtime import parse_bucket
from shared.stats.results import INGREDIENTS, Metrics, Point, Realtime, Row
from shared.storage import dialect_for

E = schema.events
CURRENT = timedelta(minutes=5)
WINDOW = timedelta(minutes=30)


def current_visitors(conn: Connection, site_id: int, now: datetime) -> int:
    """Distinct visitors with a pageview or custom event in (now - 5 min, now]."""
    return int(conn.execute(sa.select(sa.func.count(sa.distinct(E.c.visitor_id))).where(
        E.c.site_id == site_id, E.c.ts > now - CURRENT, E.c.ts <= now,
        E.c.name != "engagement")).scalar() or 0)


def _rows(conn: Connection, scope: raw.Scope, key: str) -> list[Any]:
    sub = raw.ingredient_rows(scope, dialect_for(conn), key).subquery()
    sums = [sa.func.sum(sub.c[i]).label(i) for i in INGREDIENTS]
    return list(conn.execute(sa.select(sub.c.value, *sums).group_by(sub.c.value)))


def _top(rows: list[Any], limit: int) -> list[Row]:
    ranked = sorted(rows, key=lambda r: (-(r.visitors or 0), str(r.value)))
    return [Row(str(r.value), Metrics.from_sums(r._mapping)) for r in ranked[:limit]]


def realtime(conn: Connection, site_id: int, timezone: str, now: datetime, *,
             limit: int = 10) -> Realtime:
    """Current visitors, the last 30 minutes per minute (local time, zero-filled), and
    the top pages and sources of those 30 minutes."""
    tz = ZoneInfo(timezone)
    end = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    scope = raw.Scope(site_id, end - WINDOW, end, tz)
    minutes = {to_local(end - WINDOW + timedelta(minutes=i), tz): Metrics()
               for i in range(int(WINDOW / timedelta(minutes=1)))}
    for row in _rows(conn, scope, "bucket:minute"):
        bucket = parse_bucket(row.value)
        if bucket in minutes:
            minutes[bucket] = Metrics.from_sums(row._mapping)
    return Realtime(
        visitors=current_visitors(conn, site_id, now),
        per_minute=[Point(k, v) for k, v in minutes.items()],
        top_pages=_top(_rows(conn, scope, "page"), limit),
        top_sources=_top(_rows(conn, scope, "source"), limit),
    )
