"""Stats API v1, answer step: `V1Params` -> the JSON v1 answers, read through `shared.reports`.

Shapes as Plausible's v1: aggregate `{"results": {metric: {"value": v}}}` (with
`comparison_value` and `change` under compare=previous_period), timeseries
`{"results": [{"date": label, metric: v}]}` with every bucket of the period, breakdown
`{"results": [{<property key>: value, metric: v}]}`, realtime a bare number. Rounding as
v1: bounce_rate, visit_duration and time_on_page whole, views_per_visit and
conversion_rate to two decimals.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from shared.reports import traffic as reports
from shared.reports.goals import Goal, goal_conversions, list_goals
from shared.reports.realtime import current_visitors
from shared.sites import Site
from shared.stats.errors import QueryError
from shared.stats.query import Filter, StatsQuery
from shared.stats.results import Metrics

from .errors import V1Error
from .filters import DIRECT, dimension_of, goal_filters, selected_goals, to_query_filters
from .params import V1Params

ALL_ROWS = 1_000_000
# Breakdowns by these leave out visits without a value, as v1 does.
_NON_EMPTY = ("entry_page", "exit_page", "country", "region", "city", "utm_source",
              "utm_medium", "utm_campaign", "utm_content", "utm_term")
_WHOLE = ("bounce_rate", "visit_duration", "time_on_page")


@dataclass(frozen=True)
class Queries:
    """The query with every filter, and the one without goal conditions (the
    denominator of conversion_rate)."""

    full: StatsQuery
    base: StatsQuery


def build(conn: Connection, site: Site, p: V1Params, now: datetime) -> Queries:
    goals = list_goals(conn, site.id)
    plain = [f for f in p.filters if f.name != "event:goal"]
    goal = [f for f in p.filters if f.name == "event:goal"]
    try:
        base = StatsQuery(site_id=site.id, timezone=site.timezone, period="custom", now=now,
                          start=p.first, end=p.last, interval=_interval(p),
                          filters=to_query_filters(plain, goals))
        extra: list[Filter] = [x for f in goal for x in goal_filters(f, goals)]
        return Queries(base.with_filters(*extra), base)
    except QueryError as exc:
        raise V1Error(str(exc)) from None


def _interval(p: V1Params) -> str:
    if p.interval:
        return p.interval
    if p.period == "day":
        return "hour"
    if p.period in ("6mo", "12mo") or (p.last - p.first).days + 1 > 92:
        return "month"
    return "day"


def value(metric: str, m: Metrics, rate: float | None = None) -> Any:
    if metric == "conversion_rate":
        return round(rate or 0.0, 2)
    v = getattr(m, metric)
    if v is None:
        return None
    if metric in _WHOLE:
        return round(v)
    return round(v, 2) if isinstance(v, float) else v


def _rate(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0


def _totals(conn: Connection, qs: Queries) -> tuple[Metrics, float]:
    m = reports.totals(conn, qs.full).metrics
    whole = reports.totals(conn, qs.base).metrics.visitors if qs.full != qs.base else m.visitors
    return m, _rate(m.visitors, whole)


def _change(metric: str, old: Any, new: Any) -> Any:
    """v1's change: points for rates (none when the old bounce rate is 0), else percent."""
    if old is None or new is None:
        return None
    if metric == "bounce_rate":
        return new - old if old > 0 else None
    if metric == "conversion_rate":
        return round(new - old, 1)
    if old == 0:
        return 100 if new > 0 else 0
    return round((new - old) / old * 100)


def aggregate(conn: Connection, site: Site, p: V1Params, now: datetime) -> dict[str, Any]:
    qs = build(conn, site, p, now)
    m, rate = _totals(conn, qs)
    results: dict[str, Any] = {x: {"value": value(x, m, rate)} for x in p.metrics}
    if p.compare:
        prev = replace(qs.full, comparison="previous_period").comparison_query()
        prev_base = replace(qs.base, comparison="previous_period").comparison_query()
        assert prev is not None and prev_base is not None
        pm, prate = _totals(conn, Queries(prev, prev_base))
        for x in p.metrics:
            old = value(x, pm, prate)
            results[x].update(comparison_value=old, change=_change(x, old, results[x]["value"]))
    return {"results": results}


def _label(bucket: datetime, interval: str) -> str:
    return bucket.strftime("%Y-%m-%d %H:%M:%S") if interval == "hour" else bucket.date().isoformat()


def timeseries(conn: Connection, site: Site, p: V1Params, now: datetime) -> dict[str, Any]:
    qs = build(conn, site, p, now)
    ts = reports.timeseries(conn, qs.full)
    wholes = [pt.metrics.visitors for pt in ts.points]
    if "conversion_rate" in p.metrics and qs.full != qs.base:
        wholes = [pt.metrics.visitors for pt in reports.timeseries(conn, qs.base).points]
    out = []
    for pt, whole in zip(ts.points, wholes, strict=True):
        row: dict[str, Any] = {"date": _label(pt.bucket, ts.interval)}
        rate = _rate(pt.metrics.visitors, whole)
        row.update({x: value(x, pt.metrics, rate) for x in p.metrics})
        out.append(row)
    return {"results": out}


def result_key(prop: str) -> str:
    """The key of a breakdown row's value: `visit:source` -> source, `event:props:x` -> x."""
    return prop.split(":", 2)[2] if prop.startswith("event:props:") else prop.split(":", 1)[1]


def breakdown(conn: Connection, site: Site, p: V1Params, now: datetime) -> dict[str, Any]:
    qs = build(conn, site, p, now)
    if p.property == "event:goal":
        return {"results": _goal_rows(conn, qs, p)}
    dim = dimension_of(p.property or "") or ""
    if dim in _NON_EMPTY:
        qs = Queries(qs.full.with_filters(Filter(dim, "is_not", ("",))),
                     qs.base.with_filters(Filter(dim, "is_not", ("",))))
    key, order = result_key(p.property or ""), _order_metric(p)
    offset = (p.page - 1) * p.limit
    if order in reports.ORDERABLE:
        rows = reports.breakdown(conn, qs.full, dim, limit=p.limit, offset=offset,
                                 order_by=order).rows
    else:
        rows = reports.breakdown(conn, qs.full, dim, limit=ALL_ROWS).rows
        rows = sorted(rows, key=lambda r: (-(value(order, r.metrics) or 0), r.value))
        rows = rows[offset: offset + p.limit]
    wholes: dict[str, int] = {}
    if "conversion_rate" in p.metrics and qs.full != qs.base:
        base = reports.breakdown(conn, qs.base, dim, limit=ALL_ROWS).rows
        wholes = {r.value: r.metrics.visitors for r in base}
    out = []
    for r in rows:
        rate = _rate(r.metrics.visitors, wholes.get(r.value, r.metrics.visitors))
        shown = DIRECT if dim == "source" and r.value == "" else r.value
        out.append({key: shown, **{x: value(x, r.metrics, rate) for x in p.metrics}})
    return {"results": out}


def _order_metric(p: V1Params) -> str:
    """v1 orders by the first metric that is not time_on_page, else by visitors."""
    return next((m for m in p.metrics if m not in ("time_on_page", "conversion_rate")),
                "visitors")


def _goal_rows(conn: Connection, qs: Queries, p: V1Params) -> list[dict[str, Any]]:
    goals: list[Goal] = list_goals(conn, qs.base.site_id)
    for f in p.filters:
        if f.name == "event:goal":
            goals = [g for g in selected_goals(f, goals) if g in goals]
    results = goal_conversions(conn, qs.base, goals)
    rows: list[dict[str, Any]] = [{"goal": r.goal.display_name, "visitors": r.conversions,
                                   "events": r.completions,
                                   "conversion_rate": round(r.conversion_rate, 2)}
                                  for r in results if r.conversions]
    first = p.metrics[0]
    rows.sort(key=lambda r: (-r[first], r["goal"]))
    offset = (p.page - 1) * p.limit
    return [{"goal": r["goal"], **{x: r[x] for x in p.metrics}}
            for r in rows[offset: offset + p.limit]]


def realtime_visitors(conn: Connection, site: Site, now: datetime) -> int:
    return current_visitors(conn, site.id, now)
