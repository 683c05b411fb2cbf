"""Query layer: metrics of part of a period, from one local time to another.

The dashboard compares the complete part of a period that is not over yet (its days
before today, its hours before this one) with the same part of the comparison period.
Whole days are answered like any period (rollups where they can); a cut inside a day
reads the raw events of the window, as hour buckets always do.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared.core.clock import to_utc
from shared.reports.traffic import totals
from shared.stats import raw
from shared.stats.query import StatsQuery
from shared.stats.results import INGREDIENTS, Metrics
from shared.storage import dialect_for


def window_metrics(conn: Connection, query: StatsQuery, start: datetime,
                   end: datetime) -> Metrics:
    """Metrics of the query's site and filters in local [start, end) (naive, site time);
    visitors are still the sum of each local day's unique visitors."""
    if end <= start:
        return Metrics()
    if start.time() == time() and end.time() == time():
        days = query.with_range(start.date(), end.date() - timedelta(days=1), derived=True)
        return totals(conn, days).metrics
    scope = raw.Scope(query.site_id, to_utc(start, query.tz), to_utc(end, query.tz),
                      query.tz, query.filters)
    sub = raw.ingredient_rows(scope, dialect_for(conn)).subquery()
    row = conn.execute(sa.select(*[sa.func.sum(sub.c[i]).label(i) for i in INGREDIENTS]))
    return Metrics.from_sums(row.one()._mapping)
