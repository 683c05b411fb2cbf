"""Stats API, run step: an `ApiQuery` -> results rows, read through `shared.reports` only.

No dimension: the totals. A time dimension: the timeseries (empty buckets left out of
`results`, all of them listed in `meta.time_labels` when asked). Another dimension: the
breakdown. A time dimension and another one: a breakdown per day/week/month bucket.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from beacon_app.stats_api.request import METRICS, ApiError, ApiQuery
from shared.reports import traffic as reports
from shared.stats.limits import bucket_count
from shared.stats.query import StatsQuery
from shared.stats.results import Metrics

NATIVE_ORDER = reports.ORDERABLE
ALL_ROWS = 1_000_000
MAX_BUCKET_BREAKDOWNS = 400     # a year of days: each bucket is one breakdown query


@dataclass
class Answer:
    results: list[dict[str, Any]]
    meta: dict[str, Any] = field(default_factory=dict)


def _value(metric: str, m: Metrics, total_visitors: int | None) -> Any:
    if metric == "percentage":
        return round(100.0 * m.visitors / total_visitors, 2) if total_visitors else 0.0
    value = getattr(m, METRICS[metric])
    return round(value, 2) if isinstance(value, float) else value


def _row(api: ApiQuery, m: Metrics, dims: list[str], total: int | None = None) -> dict[str, Any]:
    return {"metrics": [_value(x, m, total) for x in api.metrics], "dimensions": dims}


def label(bucket: datetime, interval: str) -> str:
    if interval in ("minute", "hour"):
        return bucket.strftime("%Y-%m-%d %H:%M:%S")
    return bucket.date().isoformat()


def run(conn: Connection, api: ApiQuery, query: StatsQuery) -> Answer:
    if api.time_dimension and api.dimension:
        return _per_bucket(conn, api, query)
    if api.time_dimension:
        return _timeseries(conn, api, query)
    if api.dimension:
        return _breakdown(conn, api, query)
    totals = reports.totals(conn, query)
    return Answer([_row(api, totals.metrics, [], totals.metrics.visitors)],
                  {"source": totals.source, "total_rows": 1})


def _timeseries(conn: Connection, api: ApiQuery, query: StatsQuery) -> Answer:
    if "percentage" in api.metrics:
        raise ApiError(["percentage needs a non-time dimension"])
    ts = reports.timeseries(conn, query)
    labels = [label(p.bucket, ts.interval) for p in ts.points]
    rows = [_row(api, p.metrics, [lab]) for p, lab in zip(ts.points, labels, strict=True)
            if p.metrics.visits or p.metrics.events or p.metrics.pageviews]
    rows = _ordered(api, rows, default=[(api.time_dimension or "time", "asc")])
    return Answer(_page(api, rows), {"source": ts.source, "interval": ts.interval,
                                     "total_rows": len(rows), "time_labels": labels})


def _native(api: ApiQuery) -> bool:
    """Whether the query layer can sort and page this breakdown itself."""
    return not api.include.get("total_rows") and (
        not api.order_by or (api.order_by[0][1] == "desc" and api.order_by[0][0] in NATIVE_ORDER))


def _breakdown(conn: Connection, api: ApiQuery, query: StatsQuery) -> Answer:
    dim = api.dimension or ""
    total = reports.totals(conn, query).metrics.visitors if "percentage" in api.metrics else None
    if _native(api):
        order = api.order_by[0][0] if api.order_by else "visitors"
        b = reports.breakdown(conn, query, dim, limit=api.limit, offset=api.offset,
                              order_by=order)
        return Answer([_row(api, r.metrics, [r.value], total) for r in b.rows],
                      {"source": b.source})
    b = reports.breakdown(conn, query, dim, limit=ALL_ROWS)
    out = _ordered(api, [_row(api, r.metrics, [r.value], total) for r in b.rows], default=[])
    return Answer(_page(api, out), {"source": b.source, "total_rows": len(out)})


def _per_bucket(conn: Connection, api: ApiQuery, query: StatsQuery) -> Answer:
    interval = query.resolved_interval
    if interval not in ("day", "week", "month"):
        raise ApiError([f"{api.time_dimension} cannot be combined with another dimension "
                        "(use time:day, time:week or time:month)"])
    r = query.date_range
    buckets = bucket_count(interval, r.first, r.last)
    if buckets > MAX_BUCKET_BREAKDOWNS:
        raise ApiError([f"{api.time_dimension} with another dimension makes {buckets} "
                        f"breakdowns over this period; at most {MAX_BUCKET_BREAKDOWNS} are "
                        "allowed (use a longer interval or a shorter period)"])
    ts = reports.timeseries(conn, replace(query, comparison="off"))
    starts = [p.bucket.date() for p in ts.points]
    out: list[dict[str, Any]] = []
    for i, first in enumerate(starts):
        last = starts[i + 1] - timedelta(days=1) if i + 1 < len(starts) else r.last
        b = reports.breakdown(conn, query.with_range(first, last), api.dimension or "",
                              limit=ALL_ROWS)
        lab = label(ts.points[i].bucket, interval)
        out += [_row(api, row.metrics, _dims(api, lab, row.value)) for row in b.rows]
    out = _ordered(api, out, default=[(api.time_dimension or "time", "asc")])
    return Answer(_page(api, out), {"source": ts.source, "interval": interval,
                                    "total_rows": len(out),
                                    "time_labels": [label(p.bucket, interval) for p in ts.points]})


def _dims(api: ApiQuery, time_label: str, value: str) -> list[str]:
    return [time_label if d == api.time_dimension else value for d in api.dimensions]


def _ordered(api: ApiQuery, rows: list[dict[str, Any]],
             default: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Sort by order_by (then the default): stable passes, last key first; null is lowest."""
    for name, direction in reversed([*api.order_by, *default]):
        if name in api.metrics:
            rows.sort(key=_metric_key(api.metrics.index(name)), reverse=direction == "desc")
        elif name in api.dimensions:
            rows.sort(key=_dimension_key(api.dimensions.index(name)),
                      reverse=direction == "desc")
    return rows


def _metric_key(i: int) -> Callable[[dict[str, Any]], tuple[bool, float]]:
    return lambda r: (r["metrics"][i] is not None, r["metrics"][i] or 0)


def _dimension_key(i: int) -> Callable[[dict[str, Any]], str]:
    return lambda r: str(r["dimensions"][i])


def _page(api: ApiQuery, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return rows[api.offset: api.offset + api.limit]
