"""Stats API, run step: an `ApiQuery` -> result rows, read through `shared.reports` only.

First the *cells* - (dimension values, Metrics) - of the query: the totals (no
dimension), the timeseries (a time dimension; empty buckets left out, all of them in
`meta.time_labels` when asked), a breakdown (one dimension), one breakdown per value of
the first dimension (two), one per bucket (a time dimension and another), or one row per
goal (`event:goal`). Then each asked metric of each cell, those that need another answer
(percentage, conversion rates, revenue) from `derived`; then the comparison, the order
and the page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Connection

from beacon_app.stats_api import derived
from beacon_app.stats_api.cells import Cell, shown
from beacon_app.stats_api.request import ApiError, ApiQuery
from beacon_app.stats_api.window import run_window
from shared.reports import traffic as reports
from shared.stats.limits import bucket_count
from shared.stats.query import Filter, StatsQuery

ALL_ROWS = 1_000_000
MAX_BUCKET_BREAKDOWNS = 400     # a year of days: each bucket is one breakdown query
MAX_FIRST_VALUES = 250          # two dimensions: one breakdown per value of the first


@dataclass
class Answer:
    results: list[dict[str, Any]]
    meta: dict[str, Any] = field(default_factory=dict)


def label(bucket: Any, interval: str) -> str:
    if interval in ("minute", "hour"):
        return str(bucket.strftime("%Y-%m-%d %H:%M:%S"))
    return str(bucket.date().isoformat())


def run(conn: Connection, api: ApiQuery, query: StatsQuery,
        ctx: derived.Context | None = None) -> Answer:
    ctx = ctx or derived.Context()
    if api.window is not None or api.window_minutes is not None:
        cells, meta, total = run_window(conn, api, query)
        window_values = derived.Values(conn, api, query, ctx, collect, total)
        return _finish(api, [_row(api, c, window_values.of(c)) for c in cells], meta)
    cells, meta = collect(conn, api, query, ctx)
    values = derived.Values(conn, api, query, ctx, collect)
    rows = [_row(api, c, values.of(c)) for c in cells]
    if api.comparison:
        other = derived.comparison_query(api, query)
        other_cells, other_meta = collect(conn, api, other, ctx)
        other_values = derived.Values(conn, api, other, ctx, collect)
        derived.attach_comparison(api, rows, cells, other_cells, other_values)
        meta["comparison_date_range"] = derived.stamps(other)
    meta.update(values.meta)
    return _finish(api, rows, meta)


def _finish(api: ApiQuery, rows: list[dict[str, Any]], meta: dict[str, Any]) -> Answer:
    default: list[tuple[str | None, str]] = [(api.time_dimension, "asc")]
    default.append((api.metrics[0], "desc"))
    rows = _ordered(api, rows, default)
    meta["total_rows"] = len(rows)
    return Answer(rows[api.offset: api.offset + api.limit], meta)


def collect(conn: Connection, api: ApiQuery, query: StatsQuery,
            ctx: derived.Context) -> tuple[list[Cell], dict[str, Any]]:
    """The cells of the query and meta (source, interval, time labels)."""
    if api.goal_dimension:
        return derived.goal_cells(conn, query, ctx), {"source": "raw"}
    if api.time_dimension and api.dimension and api.second_dimension:
        raise ApiError(["a time dimension goes with at most one other dimension"])
    if api.time_dimension and api.dimension:
        return _per_bucket(conn, api, query)
    if api.time_dimension:
        return _timeseries(conn, query)
    if api.second_dimension:
        return _two_dimensions(conn, api, query)
    if api.dimension:
        b = reports.breakdown(conn, query, api.dimension, limit=ALL_ROWS)
        return [Cell([r.value], r.metrics) for r in b.rows], {"source": b.source}
    totals = reports.totals(conn, query)
    return [Cell([], totals.metrics)], {"source": totals.source}


def _timeseries(conn: Connection, query: StatsQuery) -> tuple[list[Cell], dict[str, Any]]:
    ts = reports.timeseries(conn, replace(query, comparison="off"))
    labels = [label(p.bucket, ts.interval) for p in ts.points]
    cells = [Cell([lab], p.metrics, i) for i, (p, lab) in enumerate(zip(ts.points, labels,
                                                                         strict=True))
             if p.metrics.visits or p.metrics.events or p.metrics.pageviews]
    return cells, {"source": ts.source, "interval": ts.interval, "time_labels": labels}


def _two_dimensions(conn: Connection, api: ApiQuery,
                    query: StatsQuery) -> tuple[list[Cell], dict[str, Any]]:
    first, second = api.dimension or "", api.second_dimension or ""
    values = reports.breakdown(conn, query, first, limit=MAX_FIRST_VALUES + 1)
    if len(values.rows) > MAX_FIRST_VALUES:
        raise ApiError([f"{api.dimensions[0]} has more than {MAX_FIRST_VALUES} values in this "
                        "period; filter it, or put the dimension with fewer values first"])
    cells: list[Cell] = []
    for row in values.rows:
        b = reports.breakdown(conn, query.with_filters(Filter(first, "is", (row.value,))),
                              second, limit=ALL_ROWS)
        cells += [Cell([row.value, r.value], r.metrics) for r in b.rows]
    return cells, {"source": values.source}


def _per_bucket(conn: Connection, api: ApiQuery,
                query: StatsQuery) -> tuple[list[Cell], dict[str, Any]]:
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
    cells: list[Cell] = []
    for i, first in enumerate(starts):
        last = starts[i + 1] - timedelta(days=1) if i + 1 < len(starts) else r.last
        b = reports.breakdown(conn, query.with_range(first, last), api.dimension or "",
                              limit=ALL_ROWS)
        lab = label(ts.points[i].bucket, interval)
        cells += [Cell([lab, row.value], row.metrics, i) for row in b.rows]
    return cells, {"source": ts.source, "interval": interval,
                   "time_labels": [label(p.bucket, interval) for p in ts.points]}


def _row(api: ApiQuery, cell: Cell, metrics: list[Any]) -> dict[str, Any]:
    return {"metrics": metrics, "dimensions": shown(api, cell)}


def _ordered(api: ApiQuery, rows: list[dict[str, Any]],
             default: list[tuple[str | None, str]]) -> list[dict[str, Any]]:
    """Sort by order_by (then the default): stable passes, last key first; null is lowest."""
    for name, direction in reversed([*api.order_by, *default]):
        if name in api.metrics:
            rows.sort(key=_metric_key(api.metrics.index(name)), reverse=direction == "desc")
        elif name in api.dimensions:
            rows.sort(key=_dimension_key(api.dimensions.index(name)),
                      reverse=direction == "desc")
    return rows


def _metric_key(i: int) -> Callable[[dict[str, Any]], tuple[bool, float]]:
    def key(r: dict[str, Any]) -> tuple[bool, float]:
        v = r["metrics"][i]
        v = v["value"] if isinstance(v, dict) else v
        return (v is not None, v or 0)
    return key


def _dimension_key(i: int) -> Callable[[dict[str, Any]], str]:
    return lambda r: str(r["dimensions"][i])
