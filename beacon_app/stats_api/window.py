"""Stats API, run step for ranges shorter than whole days: "realtime" / "30m" (the last
30 minutes) and date-time ranges. Always read from the raw events (rollups hold whole
days): totals, one breakdown, or minute / hour buckets.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from beacon_app.stats_api.cells import Cell
from beacon_app.stats_api.request import ApiError, ApiQuery
from shared.stats import raw
from shared.stats.localtime import parse_bucket
from shared.stats.query import StatsQuery
from shared.stats.results import INGREDIENTS, Metrics
from shared.storage import dialect_for

MAX_MINUTE_BUCKETS = 1440


def _range(api: ApiQuery, query: StatsQuery) -> tuple[datetime, datetime]:
    """[start, end) in naive UTC."""
    if api.window_minutes is not None:
        return query.now - timedelta(minutes=api.window_minutes), query.now
    assert api.window is not None
    first, last = api.window
    return (first.replace(tzinfo=None),
            last.astimezone(UTC).replace(tzinfo=None) + timedelta(seconds=1))


def run_window(conn: Connection, api: ApiQuery,
               query: StatsQuery) -> tuple[list[Cell], dict[str, Any], Metrics]:
    if api.goal_dimension or api.second_dimension or (api.time_dimension and api.dimension):
        raise ApiError(["with a realtime or date-time date_range, ask for no dimension, one "
                        "dimension or one time dimension"])
    if api.comparison:
        raise ApiError(["comparisons need a date_range of whole days"])
    start, end = _range(api, query)
    scope = raw.Scope(query.site_id, start, end, query.tz, query.filters)
    dialect = dialect_for(conn)
    total = _sum(conn, raw.ingredient_rows(scope, dialect).subquery())
    meta: dict[str, Any] = {"source": "raw"}
    if api.time_dimension:
        interval = api.interval or "minute"
        if interval not in ("minute", "hour"):
            raise ApiError([f"{api.time_dimension} does not fit a range shorter than whole "
                            "days (use time, time:minute or time:hour)"])
        labels = _labels(start, end, interval, query)
        sub = raw.ingredient_rows(scope, dialect, f"bucket:{interval}").subquery()
        found = {parse_bucket(r.value).strftime("%Y-%m-%d %H:%M:%S"):
                 Metrics.from_sums(r._mapping) for r in _grouped(conn, sub)}
        cells = [Cell([lab], found[lab], i) for i, lab in enumerate(labels) if lab in found]
        meta.update(interval=interval, time_labels=labels)
        return cells, meta, total
    if api.dimension:
        sub = raw.ingredient_rows(scope, dialect, api.dimension).subquery()
        rows = [r for r in _grouped(conn, sub) if r.value is not None]
        return [Cell([str(r.value)], Metrics.from_sums(r._mapping)) for r in rows], meta, total
    return [Cell([], total)], meta, total


def _sum(conn: Connection, sub: Any) -> Metrics:
    row = conn.execute(sa.select(*[sa.func.sum(sub.c[i]).label(i) for i in INGREDIENTS])).one()
    return Metrics.from_sums(row._mapping)


def _grouped(conn: Connection, sub: Any) -> list[Any]:
    return list(conn.execute(sa.select(sub.c.value, *[sa.func.sum(sub.c[i]).label(i)
                                                      for i in INGREDIENTS])
                             .group_by(sub.c.value)))


def _labels(start: datetime, end: datetime, interval: str, query: StatsQuery) -> list[str]:
    step = timedelta(minutes=1 if interval == "minute" else 60)
    t = start.replace(second=0, microsecond=0)
    if interval == "hour":
        t = t.replace(minute=0)
    labels: list[str] = []
    while t < end and len(labels) < MAX_MINUTE_BUCKETS:
        local = t.replace(tzinfo=UTC).astimezone(query.tz)
        labels.append(local.strftime("%Y-%m-%d %H:%M:%S"))
        t += step
    return labels
