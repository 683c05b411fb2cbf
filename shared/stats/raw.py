"""Query layer: ingredient rows from raw events - per (local day, value) - in one SQL query.

The same builders feed the rollup build (which stores their rows per day) and every
query that rollups cannot answer, so the two paths share one definition of a visit:

* base: the site's events in [start, end) with their local `day` (or bucket) and flags;
* visits: one row per visit = (session_id, local day) holding at least one non-engagement
  event; its attributes come from its first non-engagement event (exit page: the last),
  ties broken by event id; plus its bounce flag, duration and the sums of its events
  that satisfy the event filters (`matched` counts those non-engagement events);
* rows: visits grouped by a visit attribute, or visit x event value pairs grouped by an
  event value, summed into the additive ingredients of `results.INGREDIENTS`.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from shared.core import schema
from shared.stats import filters as flt
from shared.stats.dimensions import (
    EVENT_COLUMNS,
    RAW_EVENT_DIMENSIONS,
    VISIT_DIMENSIONS,
    event_column_name,
    is_prop,
    is_visit_dimension,
    prop_key,
)
from shared.stats.localtime import local_day, local_text
from shared.stats.query import Filter
from shared.storage import Dialect

E = schema.events
Condition = Callable[[Any], ColumnElement[bool]]   # base columns -> condition

_CTE_NUMBERS = itertools.count(1)
_ALWAYS = ("id", "ts", "name", "session_id", "visitor_id", "pathname", "hostname",
           "engagement_ms", "scroll_depth", "revenue_amount", "revenue_currency")


@dataclass(frozen=True)
class Scope:
    """Which events: a site, a UTC range, filters and extra event conditions (goals).

    `fixed_day` says the range is exactly that local day (the rollup build), which saves
    computing the day of every event.
    """

    site_id: int
    start: datetime
    end: datetime
    tz: ZoneInfo
    filters: tuple[Filter, ...] = ()
    event_conditions: tuple[Condition, ...] = ()
    fixed_day: date | None = None
    extra_props: tuple[str, ...] = ()   # props the event_conditions read (prop_column)


def _props_of(scope: Scope, key: str | None) -> list[str]:
    dims = [leaf.dimension for f in scope.filters for leaf in f.leaves()] + (
        [key] if key else [])
    return sorted({prop_key(d) for d in dims if is_prop(d)} | set(scope.extra_props))


def prop_column(key: str) -> str:
    """A short, safe column name for prop `key` (any string) in the base CTE."""
    return "prop_" + hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()[:12]


def base_events(scope: Scope, dialect: Dialect, *, visit_dims: Sequence[str] = (),
                event_key: str | None = None) -> Any:
    """CTE of the scope's events with day, flags, needed columns and `ekey` if asked.

    `event_key` is an event dimension, `prop:<key>`, or "bucket:<minute|hour|day>".
    """
    props = _props_of(scope, event_key)
    names = list(_ALWAYS)
    # The columns of raw-only event dimensions that a filter tests (event_condition).
    names += sorted({RAW_EVENT_DIMENSIONS[f.dimension] for f in scope.filters
                     if f.dimension in RAW_EVENT_DIMENSIONS})
    if _joins_own_rows(scope, dialect):   # (else a visit's attributes come from `events`)
        names += sorted({VISIT_DIMENSIONS[d] for d in visit_dims} - set(_ALWAYS))
    cols: list[Any] = [E.c[n] for n in names]
    day = (sa.literal(scope.fixed_day, sa.Date) if scope.fixed_day else
           local_day(E.c.ts, scope.tz, scope.start, scope.end, dialect))
    is_eng = E.c.name == "engagement"
    is_custom = E.c.name.not_in(("pageview", "engagement"))
    cols += [day.label("day"), sa.case((is_eng, 1), else_=0).label("is_eng"),
             sa.case((E.c.name == "pageview", 1), else_=0).label("is_pv"),
             sa.case((is_custom, 1), else_=0).label("is_custom"),
             sa.case((sa.and_(is_custom, E.c.interactive), 1), else_=0).label("is_ic")]
    cols += [E.c.props[k].as_string().label(prop_column(k)) for k in props]
    if event_key:
        cols.append(_event_key_expr(event_key, props, scope, dialect).label("ekey"))
    return (sa.select(*cols)
            .where(E.c.site_id == scope.site_id, E.c.ts >= scope.start, E.c.ts < scope.end)
            .cte(f"base_{next(_CTE_NUMBERS)}"))   # unique: a UNION may hold several


def _event_key_expr(key: str, props: list[str], scope: Scope, dialect: Dialect) -> Any:
    if key.startswith("bucket:"):
        return local_text(E.c.ts, key.split(":", 1)[1], scope.tz, scope.start, scope.end,
                          dialect)
    if is_prop(key):
        return E.c.props[prop_key(key)].as_string()
    if key == "event":   # engagement events belong to no event row
        return sa.case((E.c.name == "engagement", sa.null()), else_=E.c.name)
    return E.c[event_column_name(key)]


def event_condition(scope: Scope, base: Any) -> ColumnElement[bool]:
    """Event filters and extra conditions, as one test on base columns."""
    conds = list(c(base.c) for c in scope.event_conditions)
    def column_of(dimension: str) -> Any:
        return base.c[prop_column(prop_key(dimension)) if is_prop(dimension)
                      else EVENT_COLUMNS[dimension]]

    conds += [flt.tree_condition(f, column_of) for f in flt.split(scope.filters)[1]]
    return flt.all_of(conds)


def event_column(dimension: str, table: Any = E) -> Any:
    """The column of an event dimension (or `prop:<key>`) on the events table."""
    if is_prop(dimension):
        return table.c.props[prop_key(dimension)].as_string()
    return table.c[EVENT_COLUMNS[dimension]]


def session_test(scope: Scope, session_id: Any) -> flt.SessionTest:
    """`has_done` on a visit: an event of its session, in the scope's time range, that
    passes the group's filter (on the events table itself)."""
    def test(child: Filter) -> ColumnElement[bool]:
        other = E.alias(f"done_{next(_CTE_NUMBERS)}")
        return sa.exists().where(
            other.c.site_id == scope.site_id, other.c.session_id == session_id,
            other.c.ts >= scope.start, other.c.ts < scope.end, other.c.name != "engagement",
            flt.tree_condition(child, lambda d: event_column(d, other)))
    return test


def _sum_if(cond: Any, value: Any = 1, zero: Any = 0) -> Any:
    return sa.func.sum(sa.case((cond, value), else_=zero))


def duration_ms(first: Any, last: Any, dialect: Dialect) -> Any:
    """Whole milliseconds between two timestamps (`last` >= `first`), the same on every
    backend: the exact difference rounded to the nearest millisecond, halves up - in
    integers, so no database's float or rounding rule decides."""
    return (dialect.microseconds_between(first, last) + 500) // 1000


def _per_visit(src: Any, matched: Any, dialect: Dialect) -> list[Any]:
    """The GROUP BY columns of a visit: the ids of its first and last events (by
    `_order_key`), its first non-engagement time, and its sums."""
    return [
        _arg_id(sa.func.min(_bytewise(_order_key(src, dialect, first=True), dialect)))
        .label("first_id"),
        _arg_id(sa.func.max(_bytewise(_order_key(src, dialect, first=False), dialect)))
        .label("last_id"),
        sa.func.min(sa.case((src.is_eng == 0, src.ts))).label("first_ts"),
        sa.func.sum(src.is_pv).label("pv_all"), sa.func.sum(src.is_ic).label("ic"),
        *_event_sums(src, matched),
    ]


def _visit_sums(scope: Scope, base: Any, dialect: Dialect) -> tuple[Any, Any, Any]:
    """(FROM clause, its columns, the engagement time after the last page) per visit.

    One GROUP BY pass gives each visit's sums and its last non-engagement time; the
    engagement events at or after that time (the time on the exit page) need it beside
    each event. PostgreSQL: a window in the same pass. SQLite: its window sorted the
    period's events once more (~20 % of the pass), so a second pass over the
    engagement events alone joins the materialised sums instead."""
    b = base.c
    non_eng_ts = sa.case((b.is_eng == 0, b.ts))
    if not dialect.cheap_windows:
        sums = (sa.select(b.session_id, b.day,
                          *_per_visit(b, event_condition(scope, base), dialect),
                          sa.func.max(non_eng_ts).label("last_ts"))
                .group_by(b.session_id, b.day).having(sa.func.max(non_eng_ts).is_not(None))
                .cte(f"{base.name}_visits").prefix_with("MATERIALIZED"))   # read twice
        s = sums.c
        tail = (sa.select(b.session_id, b.day,
                          sa.func.sum(sa.func.coalesce(b.engagement_ms, 0)).label("e_last"))
                .select_from(base.join(sums, sa.and_(s.session_id == b.session_id,
                                                     s.day == b.day)))
                .where(b.is_eng == 1, b.ts >= s.last_ts)
                .group_by(b.session_id, b.day).subquery("tail"))
        joined = sums.outerjoin(tail, sa.and_(tail.c.session_id == s.session_id,
                                              tail.c.day == s.day))
        return joined, s, sa.func.coalesce(tail.c.e_last, 0)
    ev = sa.select(
        b.id, b.session_id, b.day, b.ts, b.is_eng, b.is_pv, b.is_custom, b.is_ic,
        b.engagement_ms, b.scroll_depth, b.revenue_amount,
        sa.case((event_condition(scope, base), 1), else_=0).label("m"),
        sa.func.max(non_eng_ts).over(partition_by=[b.session_id, b.day]).label("v_last"),
    ).subquery("ev")
    e = ev.c
    vs = (sa.select(e.session_id, e.day, *_per_visit(e, e.m == 1, dialect),
                    sa.func.max(e.v_last).label("last_ts"),
                    _sum_if(sa.and_(e.is_eng == 1, e.ts >= e.v_last),
                            sa.func.coalesce(e.engagement_ms, 0)).label("e_last"))
          .group_by(e.session_id, e.day).having(sa.func.max(e.v_last).is_not(None))
          .subquery("vs"))
    return vs, vs.c, vs.c.e_last


def visits(scope: Scope, base: Any, dialect: Dialect, visit_dims: Sequence[str]) -> Select[Any]:
    """One row per visit with its attributes, bounce, duration and matched-event sums."""
    sums, s, e_last = _visit_sums(scope, base, dialect)
    # The visit's attributes: columns of its first (exit page: last) event, looked up in
    # events by primary key - except on PostgreSQL over a period, which joins the
    # period's own rows (`base`, materialised): it would otherwise merge-join the whole
    # events index. One day's visits (the rollup build) it looks up by key, each
    # (LATERAL ... LIMIT 1): 0.2 s less than the join for 30k visits, slower over many days.
    first: Any
    last: Any
    if dialect.lateral_lookups and scope.fixed_day is not None:
        names = sorted({"visitor_id", *[VISIT_DIMENSIONS[d] for d in visit_dims]})
        # LIMIT 1 (the key is unique anyway) keeps each lookup a subquery: pulled up
        # into a join, it became a merge join over the whole events index again.
        first = sa.select(*[E.c[n] for n in names]).where(E.c.id == s.first_id) \
            .limit(1).lateral("first_event")
        last = sa.select(E.c.pathname).where(E.c.id == s.last_id).limit(1) \
            .lateral("last_event")
        on_first, on_last = sa.true(), sa.true()
    else:
        if _joins_own_rows(scope, dialect):   # (aliases of a CTE are CTEs: named after it)
            first, last = base.alias(f"{base.name}_first"), base.alias(f"{base.name}_last")
        else:
            first, last = E.alias("first_event"), E.alias("last_event")
        on_first, on_last = first.c.id == s.first_id, last.c.id == s.last_id
    attrs = {d: (last if d == "exit_page" else first).c[VISIT_DIMENSIONS[d]]
             for d in visit_dims}
    joined = sums.join(first, on_first)
    if "exit_page" in visit_dims:
        joined = joined.join(last, on_last)
    visit_filters = [flt.tree_condition(f, attrs.__getitem__, session_test(scope, s.session_id))
                     for f in flt.split(scope.filters)[0]]
    return sa.select(
        s.session_id, s.day, first.c.visitor_id.label("visitor"),
        *[attrs[d].label(d) for d in visit_dims],
        sa.case((sa.and_(s.pv_all == 1, s.ic == 0), 1), else_=0).label("bounce"),
        (duration_ms(s.first_ts, s.last_ts, dialect) + e_last).label("duration_ms"),
        s.pageviews, s.events, s.engaged_ms, s.scroll_sum, s.scroll_count, s.revenue,
        s.matched,
    ).select_from(joined).where(flt.all_of(visit_filters))


def _joins_own_rows(scope: Scope, dialect: Dialect) -> bool:
    """Does `visits` join the base rows for the visit attributes (see there)?"""
    return dialect.joins_period_rows and scope.fixed_day is None


_KEY_LEN = 47    # 1 flag + 26 timestamp + 20 id characters


def _order_key(b: Any, dialect: Dialect, *, first: bool) -> Any:
    """Fixed-width text that sorts a visit's events: non-engagement events first (for
    `first`) or last, then by time, then id. MIN/MAX of it names the visit's first/last
    event in the same GROUP BY pass as the sums - no window sort for it."""
    flag = sa.case((b.is_eng == (1 if first else 0), "1"), else_="0")
    return flag + dialect.sortable_time_text(b.ts) + dialect.zero_padded(b.id, 20)


def _bytewise(key: Any, dialect: Dialect) -> Any:
    return dialect.bytewise(key)


def _arg_id(key: Any) -> Any:
    """The event id at the end of an `_order_key`."""
    return sa.cast(sa.func.substr(key, _KEY_LEN - 19), sa.BigInteger)


def _event_sums(e: Any, m: Any) -> list[Any]:
    """Sums over the events satisfying `m` (the event filters) - shared by both groupings."""
    eng = sa.and_(m, e.is_eng == 1)
    scrolled = sa.and_(eng, e.scroll_depth.is_not(None))
    return [
        _sum_if(sa.and_(m, e.is_pv == 1)).label("pageviews"),
        _sum_if(sa.and_(m, e.is_custom == 1)).label("events"),
        _sum_if(eng, sa.func.coalesce(e.engagement_ms, 0)).label("engaged_ms"),
        _sum_if(scrolled, e.scroll_depth).label("scroll_sum"),
        _sum_if(scrolled).label("scroll_count"),
        _sum_if(sa.and_(m, e.is_eng == 0), sa.func.coalesce(e.revenue_amount, 0.0),
                0.0).label("revenue"),
        _sum_if(sa.and_(m, e.is_eng == 0)).label("matched"),
    ]


def _ingredient_sums(v: Any, hit: Any = None) -> list[Any]:
    def when(col: Any) -> Any:
        return sa.func.sum(col) if hit is None else _sum_if(hit, col)

    visitor = v.visitor if hit is None else sa.case((hit, v.visitor))
    return [sa.func.count(sa.distinct(visitor)).label("visitors"),
            (sa.func.count() if hit is None else _sum_if(hit)).label("visits"),
            when(v.bounce).label("bounces"), when(v.duration_ms).label("duration_ms")]


def rows_by_visit(vis: Any, key: str | None) -> Select[Any]:
    """Ingredients per (day, visit attribute `key`); key None gives one row per day."""
    v = vis.c
    value = v[key] if key else sa.literal_column("''")
    group = [v.day, value] if key else [v.day]
    return (sa.select(v.day, value.label("value"), *_ingredient_sums(v),
                      *[sa.func.sum(v[c]).label(c) for c in _EVENT_INGREDIENTS])
            .where(v.matched > 0).group_by(*group))


_EVENT_INGREDIENTS = ("pageviews", "events", "engaged_ms", "scroll_sum", "scroll_count",
                      "revenue")
EVENT_SUM_COLUMNS = (*_EVENT_INGREDIENTS, "matched")   # the columns of `_event_sums`


def event_groups(scope: Scope, base: Any) -> Select[Any]:
    """(session_id, day, value, event sums, matched) per visit and event value
    `base.ekey`, over the events that satisfy the event filters."""
    b = base.c
    return (sa.select(b.session_id, b.day, b.ekey.label("value"), *_event_sums(b, sa.true()))
            .where(event_condition(scope, base), b.ekey.is_not(None))
            .group_by(b.session_id, b.day, b.ekey))


def rows_by_event_groups(ek: Any, vis: Any) -> Select[Any]:
    """Ingredients per (day, event value) from `event_groups` rows and their visits: a
    visit counts for each value among its matching non-engagement events; event sums go
    to their own value."""
    k = ek.c
    v = vis.c
    # Only (visit, value) groups with a matching non-engagement event count, event sums
    # included: an engagement event alone does not put a visit on a page (as with filters).
    return (sa.select(k.day, k.value, *_ingredient_sums(v),
                      *[sa.func.sum(k[c]).label(c) for c in _EVENT_INGREDIENTS])
            .select_from(vis.join(ek, sa.and_(v.session_id == k.session_id, v.day == k.day)))
            .where(v.matched > 0, k.matched > 0).group_by(k.day, k.value))


def rows_by_event(scope: Scope, base: Any, vis: Any) -> Select[Any]:
    """Ingredients per (day, event value `base.ekey`), computed from the raw events."""
    return rows_by_event_groups(event_groups(scope, base).subquery("ek"), vis)


def ingredient_rows(scope: Scope, dialect: Dialect, key: str | None = None) -> Select[Any]:
    """(day, value, ingredients...) for the scope, grouped by `key` (None = per day).

    `key` is a dimension, `prop:<key>` or "bucket:<minute|hour|day>" (event-level: an
    event's own local minute/hour)."""
    visit_key = key if key and is_visit_dimension(key) else None
    dims = sorted(flt.visit_dimensions(scope.filters) | ({visit_key} if visit_key else set()))
    event_key = key if key and not visit_key else None
    base = base_events(scope, dialect, visit_dims=dims, event_key=event_key)
    vis = visits(scope, base, dialect, dims).subquery("visits")
    if event_key:
        return rows_by_event(scope, base, vis)
    return rows_by_visit(vis, visit_key)
