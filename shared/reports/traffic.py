"""Query layer: the reports - totals, timeseries, breakdowns, realtime.

Each report sums ingredient rows (day, value, ...) and computes metrics from the sums.
The rows come from `daily_rollups` when they can answer exactly, from raw events
otherwise, and from both at once for a period where some days are dirty: stored rows
for the clean days UNION ALL raw rows for the dirty ones, summed by one outer query.

Rollups answer (see `rollup_dimension`): periods of whole local days (all periods are),
day/week/month intervals, breakdowns by a rollup dimension whose filters are all on that
same dimension, and totals/timeseries with no filter or one `is` filter of one value.
Queries whose filters are all on visit dimensions (several of them, any operator) read
the stored visits (`rollup_visits`, `rollup_visit_events`) of clean days instead.
Anything else - event-dimension or property filters next to others, props, minute/hour
buckets - reads raw.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared.core import schema
from shared.core.clock import (
    local_day,
    local_midnight_utc,
    to_local,
)
from shared.rollups import read as rollups
from shared.stats import filters as flt
from shared.stats import raw
from shared.stats.dimensions import (
    EVENT_DIMENSIONS,
    ROLLUP_DIMENSIONS,
    VISIT_DIMENSIONS,
    check_dimension,
)
from shared.stats.localtime import parse_bucket
from shared.stats.query import DateRange, QueryError, StatsQuery
from shared.stats.results import (
    INGREDIENTS,
    Breakdown,
    Metrics,
    Point,
    Row,
    Timeseries,
    Totals,
    changes_between,
)
from shared.storage import dialect_for

ORDERABLE = ("visitors", "visits", "pageviews", "events", "revenue")


def rollup_dimension(query: StatsQuery, key: str | None = None) -> str | None:
    """The rollup dimension that answers `query` (grouped by `key`), or None for raw."""
    dims = {f.dimension for f in query.filters}
    if any(d not in ROLLUP_DIMENSIONS for d in dims) or len(dims) > 1:   # props too
        return None
    if key is not None:
        if key not in ROLLUP_DIMENSIONS:
            return None
        return key if not dims or dims == {key} else None
    if not query.filters:
        return rollups.TOTAL
    (f,) = query.filters if len(query.filters) == 1 else (None,)
    if f is not None and f.operator in ("is", "is_any_of") and len(f.values) == 1:
        return f.dimension
    return None


def resolve_all(conn: Connection, query: StatsQuery) -> StatsQuery:
    """For period "all": start at the site's first event (local day) unless given."""
    if query.period != "all" or query.all_since is not None:
        return query
    first = conn.execute(sa.select(sa.func.min(schema.events.c.ts))
                         .where(schema.events.c.site_id == query.site_id)).scalar()
    return replace(query, all_since=local_day(first, query.tz) if first else query.today)


def scope_of(query: StatsQuery, first: date, last: date) -> raw.Scope:
    return raw.Scope(query.site_id, local_midnight_utc(first, query.tz),
                     local_midnight_utc(last + timedelta(days=1), query.tz), query.tz,
                     query.filters)


def _runs(days: list[date]) -> list[tuple[date, date]]:
    """Consecutive days grouped into (first, last) runs."""
    runs: list[tuple[date, date]] = []
    for d in days:
        if runs and runs[-1][1] + timedelta(days=1) == d:
            runs[-1] = (runs[-1][0], d)
        else:
            runs.append((d, d))
    return runs


def _value_condition(query: StatsQuery, dimension: str) -> Any:
    if dimension == rollups.TOTAL:
        return None
    return flt.all_of([flt.condition(schema.daily_rollups.c.value, f)
                       for f in query.filters])


def day_rows(conn: Connection, query: StatsQuery, key: str | None) -> tuple[Any, str]:
    """A subquery of (day, value, ingredients) rows for the query, and its source.

    Clean days come from the daily rollups when one dimension answers, else from the
    stored visits when every filter is on a visit dimension; dirty days, and queries
    neither can answer, from the raw events."""
    sub, dirty = _day_rows(conn, query, key)
    return sub, _source(query.date_range, dirty)


def _day_rows(conn: Connection, query: StatsQuery, key: str | None
              ) -> tuple[Any, list[date] | None]:
    """`day_rows`, with the dirty days of the period (None: all read raw)."""
    r = query.date_range
    dialect = dialect_for(conn)
    dim = rollup_dimension(query, key)
    by_visits = dim is None and rollups.visit_rows_answer(query.filters, key)
    if dim is None and not by_visits:
        return raw.ingredient_rows(scope_of(query, r.first, r.last), dialect, key).subquery(), None
    dirty = rollups.dirty_days_between(conn, query.site_id, r.first, r.last)
    parts: list[Any] = []
    if len(dirty) < r.days:
        parts.append(rollups.read_rows(query.site_id, dim, r.first, r.last, dirty,
                                       _value_condition(query, dim)) if dim is not None else
                     rollups.visit_rows(query.site_id, key, r.first, r.last, dirty,
                                        query.filters))
    for first, last in _runs(dirty):
        parts.append(raw.ingredient_rows(scope_of(query, first, last), dialect, key))
    return _union(parts).subquery(), dirty


def _union(parts: Sequence[Any]) -> Any:
    """The parts as one select: UNION ALL of several, or the only one."""
    return parts[0] if len(parts) == 1 else sa.union_all(*parts)


def _source(r: DateRange, dirty: Sequence[date] | None) -> str:
    """rollup, raw or mixed: where the answer for the days of `r` came from."""
    if dirty is None:
        return "raw"
    dirty_here = sum(r.first <= d <= r.last for d in dirty)
    return "rollup" if not dirty_here else "mixed" if dirty_here < r.days else "raw"


def _sums(sub: Any) -> list[Any]:
    return [sa.func.sum(sub.c[i]).label(i) for i in INGREDIENTS]


def _metrics(row: Any) -> Metrics:
    return Metrics.from_sums(row._mapping)


def _totals_metrics(conn: Connection, query: StatsQuery) -> tuple[Metrics, str]:
    sub, source = day_rows(conn, query, None)
    return _metrics(conn.execute(sa.select(*_sums(sub))).one()), source


def _adjacent_totals(conn: Connection, query: StatsQuery,
                     other: StatsQuery) -> tuple[Metrics, Metrics, str]:
    """Both periods' metrics from one read of their days (`other` ends the day before
    `query` starts): a filtered query then scans the stored visits once, not twice."""
    r = query.date_range
    sub, dirty = _day_rows(conn, query.with_range(other.date_range.first, r.last), None)
    now = sub.c.day >= r.first
    row = conn.execute(sa.select(
        *[sa.func.sum(sa.case((now, sub.c[i]))).label(i) for i in INGREDIENTS],
        *[sa.func.sum(sa.case((now, None), else_=sub.c[i])).label(f"before_{i}")
          for i in INGREDIENTS])).one()._mapping
    previous = Metrics.from_sums({i: row[f"before_{i}"] for i in INGREDIENTS})
    return Metrics.from_sums(row), previous, _source(r, dirty)


def totals(conn: Connection, query: StatsQuery) -> Totals:
    """Metrics of the whole period; with a comparison also the other period and changes
    (percent, or points for rates)."""
    query = resolve_all(conn, query)
    other = query.comparison_query()
    previous: Metrics | None
    if other is not None and _adjacent(query, other):
        current, previous, source = _adjacent_totals(conn, query, other)
    else:
        current, source = _totals_metrics(conn, query)
        previous = _totals_metrics(conn, other)[0] if other else None
    changes = changes_between(current, previous) if previous else {}
    r = query.date_range
    return Totals(current, previous, changes, r.first, r.last, source)


def _bucket_starts(query: StatsQuery, interval: str) -> list[datetime]:
    """Every bucket of the period in local time, so gaps show as zeros."""
    r = query.date_range
    if interval in ("minute", "hour"):
        start, end = query.utc_range
        step = timedelta(minutes=1 if interval == "minute" else 60)
        seen: dict[datetime, None] = {}
        t = start
        while t < end:
            local = to_local(t, query.tz)
            seen[local.replace(second=0, microsecond=0) if interval == "minute"
                 else local.replace(minute=0, second=0, microsecond=0)] = None
            t += step
        return list(seen)
    days = [datetime(d.year, d.month, d.day) for d in r.each_day()]
    return sorted({_fold(d, interval, days[0]) for d in days})


def _fold(day: datetime, interval: str, first: datetime) -> datetime:
    """The bucket a local day belongs to (weeks start on Monday, clipped to the period)."""
    if interval == "week":
        return max(day - timedelta(days=day.weekday()), first)
    if interval == "month":
        return max(day.replace(day=1), first)
    return day


def _series_rows(conn: Connection, query: StatsQuery) -> tuple[Sequence[Any], str]:
    """(k, summed ingredients) rows: per local minute/hour from the raw events for those
    intervals, else per local day."""
    interval = query.resolved_interval
    if interval in ("minute", "hour"):
        scope = scope_of(query, query.date_range.first, query.date_range.last)
        sub = raw.ingredient_rows(scope, dialect_for(conn), f"bucket:{interval}").subquery()
        return conn.execute(sa.select(sub.c.value.label("k"), *_sums(sub))
                            .group_by(sub.c.value)).all(), "raw"
    sub, source = day_rows(conn, query, None)
    return _per_day(conn, sub), source


def _per_day(conn: Connection, sub: Any) -> Sequence[Any]:
    return conn.execute(sa.select(sub.c.day.label("k"), *_sums(sub)).group_by(sub.c.day)).all()


def _points(query: StatsQuery, interval: str, rows: Sequence[Any]) -> list[Point]:
    """The query's buckets, zero-filled, with the rows summed into them."""
    sub_day = interval in ("minute", "hour")
    starts = _bucket_starts(query, interval)
    first = starts[0]
    sums: dict[datetime, dict[str, float]] = {s: dict.fromkeys(INGREDIENTS, 0) for s in starts}
    for row in rows:
        bucket = parse_bucket(row.k)
        bucket = bucket if sub_day else _fold(bucket, interval, first)
        if bucket in sums:
            for i in INGREDIENTS:
                sums[bucket][i] += row._mapping[i] or 0
    return [Point(s, Metrics.from_sums(v)) for s, v in sums.items()]


def _adjacent(query: StatsQuery, other: StatsQuery | None) -> bool:
    """Does the comparison period `other` end the day before `query` starts?"""
    return other is not None and \
        other.date_range.last + timedelta(days=1) == query.date_range.first


def timeseries(conn: Connection, query: StatsQuery) -> Timeseries:
    """Metrics per interval bucket (local time), zero-filled; with a comparison, the
    other period's points aligned by position.

    Day, week and month buckets sum daily ingredients (visitors = sum of daily uniques);
    minute and hour buckets count the visitors and visits active in the bucket. With
    the previous period, day-based buckets of both periods come from one read."""
    query = resolve_all(conn, query)
    interval = query.resolved_interval
    other = query.comparison_query()
    other = replace(other, interval=interval) if other else None
    r = query.date_range
    if other is not None and _adjacent(query, other) and interval not in ("minute", "hour"):
        sub, dirty = _day_rows(conn, query.with_range(other.date_range.first, r.last), None)
        rows = _per_day(conn, sub)
        start = datetime(r.first.year, r.first.month, r.first.day)
        now = [row for row in rows if parse_bucket(row.k) >= start]
        before = [row for row in rows if parse_bucket(row.k) < start]
        return Timeseries(interval, _points(query, interval, now),
                          _points(other, interval, before), _source(r, dirty))
    rows, source = _series_rows(conn, query)
    previous = _points(other, interval, _series_rows(conn, other)[0]) if other else None
    return Timeseries(interval, _points(query, interval, rows), previous, source)


def breakdown(conn: Connection, query: StatsQuery, dimension: str, *, limit: int = 10,
              offset: int = 0, order_by: str = "visitors") -> Breakdown:
    """The top `limit` values of `dimension` after `offset`, by `order_by` descending
    then value; `has_more` says whether further rows exist. `prop:<key>` lists the
    values of a custom property (events without it are left out)."""
    _check_breakdown(dimension, limit, offset, order_by)
    query = resolve_all(conn, query)
    sub, source = day_rows(conn, query, dimension)
    rows = conn.execute(_top_values(sub, limit, offset, order_by)).all()
    return _breakdown_of(dimension, rows, limit, source)


def _check_breakdown(dimension: str, limit: int, offset: int, order_by: str) -> None:
    check_dimension(dimension)
    if order_by not in ORDERABLE:
        raise QueryError(f"cannot order by {order_by!r} (expected one of "
                         f"{', '.join(ORDERABLE)})")
    if limit < 1 or offset < 0:
        raise QueryError("limit must be >= 1 and offset >= 0")


def _top_values(sub: Any, limit: int, offset: int, order_by: str) -> sa.Select[Any]:
    """(value, summed ingredients) of the top `limit` + 1 values after `offset` (one more
    than asked, to tell whether there are more), by `order_by` descending then value."""
    order = _value_order(sub, order_by)
    return (sa.select(sub.c.value, *_sums(sub)).group_by(sub.c.value)
            .order_by(*order).limit(limit + 1).offset(offset))


def _value_order(sub: Any, order_by: str) -> list[Any]:
    return [sa.func.sum(sub.c[order_by]).desc(), sub.c.value]


def _breakdown_of(dimension: str, rows: Sequence[Any], limit: int, source: str) -> Breakdown:
    out = [Row(str(r.value), _metrics(r)) for r in rows[:limit]]
    return Breakdown(dimension, out, len(rows) > limit, source)


# --- several breakdowns of one query --------------------------------------------------
@dataclass(frozen=True)
class BreakdownSpec:
    """One breakdown of a set: its dimension, how many rows, and the ordering metric."""

    dimension: str
    limit: int = 10
    order_by: str = "visitors"


def breakdowns(conn: Connection, query: StatsQuery,
               specs: Sequence[BreakdownSpec]) -> dict[BreakdownSpec, Breakdown]:
    """Several breakdowns of one query, each the answer `breakdown` gives.

    Breakdowns by visit or event dimensions that no daily rollup answers (filtered
    ones) would each read the period's visits - stored or computed from the raw events -
    once more. Here they share one read: one statement whose visits are materialised
    once, then grouped per dimension (joined to their (visit, value) groups for an event
    dimension). The others are answered one by one."""
    for spec in specs:
        _check_breakdown(spec.dimension, spec.limit, 0, spec.order_by)
    query = resolve_all(conn, query)
    shared = [s for s in dict.fromkeys(specs)
              if (s.dimension in VISIT_DIMENSIONS or s.dimension in EVENT_DIMENSIONS)
              and rollup_dimension(query, s.dimension) is None]
    out = _from_shared_visits(conn, query, shared) if len(shared) > 1 else {}
    for spec in specs:
        if spec not in out:
            out[spec] = breakdown(conn, query, spec.dimension, limit=spec.limit,
                                  order_by=spec.order_by)
    return out


def _from_shared_visits(conn: Connection, query: StatsQuery,
                        specs: Sequence[BreakdownSpec]) -> dict[BreakdownSpec, Breakdown]:
    keys = [s.dimension for s in specs]
    dirty = _days_to_compute(conn, query)   # once: the visits and groups must agree
    vis = _shared_visits(conn, query, [k for k in keys if k in VISIT_DIMENSIONS], dirty)
    stored = rollups.visit_rows_answer(query.filters, None)
    source = _source(query.date_range, dirty if stored else None)
    branches = []
    for n, spec in enumerate(specs):
        grouped = (raw.rows_by_visit(vis, spec.dimension)
                   if spec.dimension in VISIT_DIMENSIONS else
                   raw.rows_by_event_groups(
                       _event_groups(conn, query, spec.dimension, dirty), vis))
        sub = grouped.subquery()
        # UNION ALL keeps no order: each row carries its panel and rank
        rank = sa.func.row_number().over(order_by=_value_order(sub, spec.order_by))
        top = _top_values(sub, spec.limit, 0, spec.order_by).add_columns(
            sa.literal(n, sa.Integer).label("panel"), rank.label("rank"))
        branches.append(sa.select(top.subquery()))
    union = sa.union_all(*branches).subquery()
    rows = conn.execute(sa.select(union).order_by(union.c.panel, union.c["rank"])).all()
    return {spec: _breakdown_of(spec.dimension, [r for r in rows if r.panel == n],
                                spec.limit, source)
            for n, spec in enumerate(specs)}


def _days_to_compute(conn: Connection, query: StatsQuery) -> list[date]:
    """The days the query computes from the raw events: the dirty ones when every filter
    is on a visit dimension (the stored visits answer the rest), else all."""
    r = query.date_range
    if rollups.visit_rows_answer(query.filters, None):
        return rollups.dirty_days_between(conn, query.site_id, r.first, r.last)
    return list(r.each_day())


def _event_groups(conn: Connection, query: StatsQuery, key: str,
                  dirty: list[date]) -> Any:
    """The (visit, value) groups of event dimension `key` for `_shared_visits`: stored
    ones for clean days (looked up per visit), from the raw events for the `dirty` days
    (`_days_to_compute`)."""
    parts: list[Any] = []
    if len(dirty) < query.date_range.days:
        parts.append(sa.select(rollups.stored_event_groups(query.site_id, key,
                                                           skip_days=dirty)))
    for first, last in _runs(dirty):
        scope = scope_of(query, first, last)
        parts.append(raw.event_groups(scope, raw.base_events(scope, dialect_for(conn),
                                                             event_key=key)))
    return _union(parts).subquery()


def _shared_visits(conn: Connection, query: StatsQuery, keys: Sequence[str],
                   dirty: list[date]) -> Any:
    """A materialised CTE of the query's visits carrying the visit dimensions `keys`
    (rows shaped like `raw.visits`; `matched` > 0 for those that count): from the raw
    events for the `dirty` days (`_days_to_compute`), stored ones for the others."""
    r = query.date_range
    dialect = dialect_for(conn)
    dims = sorted(flt.visit_dimensions(query.filters) | set(keys))
    names = ["session_id", "day", "visitor", *dims, *rollups.VISIT_SUMS, "matched"]
    parts: list[Any] = []
    if len(dirty) < r.days:
        sub = rollups.stored_visits(query.site_id, r.first, r.last, dirty, query.filters)
        parts.append(sa.select(*[sub.c[n] for n in names]))
    for first, last in _runs(dirty):
        scope = scope_of(query, first, last)
        base = raw.base_events(scope, dialect, visit_dims=dims)
        sub = raw.visits(scope, base, dialect, dims).subquery()
        parts.append(sa.select(*[sub.c[n] for n in names]))
    # (one per statement: a fixed name)
    return _union(parts).cte("shared_visits").prefix_with("MATERIALIZED")
