"""Query layer: goals - what counts as a conversion - and their conversions.

A goal is a page goal (a pageview whose path matches a pattern with wildcards `*` and
`**`), a scroll goal (an engagement event of such a page reporting a scroll depth of at
least N percent: "visitors who scrolled 75 % of /pricing") or an event goal (a custom
event by name, optionally with one property equal to a value). Conversions are the
unique visitors (summed per local day) with a visit that contains a completion;
conversion rate divides them by the period's visitors under the same filters. Always
answered from raw events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared.core import schema
from shared.stats import raw
from shared.stats.filters import wildcard_regex
from shared.stats.query import Filter, QueryError, StatsQuery
from shared.stats.results import INGREDIENTS, Metrics
from shared.storage import dialect_for

G = schema.goals


@dataclass(frozen=True)
class Goal:
    id: int
    site_id: int
    kind: str                       # "page", "scroll" or "event"
    page_path: str | None
    event_name: str | None
    prop_key: str | None
    prop_value: str | None
    display_name: str
    scroll_threshold: int | None = None     # scroll goals: percent, 1-100
    currency: str | None = None     # a revenue goal's currency (ISO 4217)

    def as_filter(self) -> Filter:
        """The goal as an event-level filter group (what `event:goal` filters stand for)."""
        if self.kind == "scroll":
            raise QueryError(f"the scroll-depth goal {self.display_name!r:.60} cannot filter "
                             "events (it is about how far a visit scrolled, not an event)")
        if self.kind == "page":
            path = self.page_path or ""
            page = Filter("page", "matches" if "*" in path else "is", (path,))
            return Filter("", "and", (), (Filter("event", "is", ("pageview",)), page))
        parts = [Filter("event", "is", (str(self.event_name),))]
        if self.prop_key is not None:
            parts.append(Filter(f"prop:{self.prop_key}", "is", (str(self.prop_value),)))
        return Filter("", "and", (), tuple(parts))

    def condition(self, c: Any) -> Any:
        """The test of a completion, on the columns of `raw.base_events`."""
        if self.kind == "page":
            return sa.and_(c.is_pv == 1, path_condition(c.pathname, self.page_path or ""))
        if self.kind == "scroll":
            raise ValueError("a scroll goal's test needs its scope: scroll_condition()")
        cond = c.name == self.event_name
        if self.prop_key is not None:
            cond = sa.and_(cond, c[raw.prop_column(self.prop_key)] == self.prop_value)
        return cond


def scroll_condition(goal: Goal, scope: raw.Scope) -> Any:
    """A scroll goal's test: the pageviews of its page in the visits whose engagement
    events on that page report a scroll depth of at least the threshold. (The tracker
    sends the deepest scroll of a page view in its engagement events; event filters
    count a visit by its pageviews and custom events, so the pageview carries the hit.)"""
    E = schema.events
    path = goal.page_path or ""
    scrolled = sa.select(E.c.session_id).where(
        E.c.site_id == scope.site_id, E.c.ts >= scope.start, E.c.ts < scope.end,
        E.c.name == "engagement", path_condition(E.c.pathname, path),
        E.c.scroll_depth >= (goal.scroll_threshold or 0))

    def test(c: Any) -> Any:
        return sa.and_(c.is_pv == 1, path_condition(c.pathname, path),
                       c.session_id.in_(scrolled))
    return test


def path_condition(column: Any, pattern: str) -> Any:
    """Equality for a plain path, an anchored wildcard match when it has `*`."""
    return column.regexp_match(wildcard_regex(pattern)) if "*" in pattern else column == pattern


@dataclass(frozen=True)
class GoalResult:
    """conversions: unique visitors (daily) who completed; completions: pageviews or
    events that completed it (scroll goals: the visits that reached the depth);
    conversion_rate: percent of the period's visitors."""

    goal: Goal
    conversions: int
    completions: int
    conversion_rate: float
    revenue: float                  # in the goal's currency (0 for a goal without one)
    other_revenue: dict[str, float] = field(default_factory=dict)   # currency -> amount


def _from_row(row: Any) -> Goal:
    m = row._mapping
    return Goal(m["id"], m["site_id"], m["kind"], m["page_path"], m["event_name"],
                m["prop_key"], m["prop_value"], m["display_name"], m["scroll_threshold"],
                m["currency"])


_CURRENCY = re.compile(r"^[A-Z]{3}$")


def add_goal(conn: Connection, site_id: int, *, page_path: str | None = None,
             event_name: str | None = None, prop_key: str | None = None,
             prop_value: str | None = None, display_name: str | None = None,
             scroll_threshold: int | None = None, currency: str | None = None,
             now: datetime) -> Goal:
    """Create a page goal (page_path), a scroll goal (page_path + scroll_threshold in
    percent) or an event goal (event_name [+ prop_key/value]); `currency` makes an event
    goal a revenue goal reported in that currency."""
    if currency is not None:
        currency = currency.strip().upper()
        if not _CURRENCY.match(currency):
            raise QueryError(f"currency {currency!r:.20} must be an ISO 4217 code such as EUR")
        if page_path is not None:
            raise QueryError("revenue (a currency) applies to event goals only")
    if (page_path is None) == (event_name is None):
        raise QueryError("a goal needs exactly one of page_path or event_name")
    if page_path is not None and not page_path.startswith("/"):
        raise QueryError(f"page path {page_path!r} must start with /")
    if page_path is not None and prop_key is not None:
        raise QueryError("property conditions apply to event goals only")
    if (prop_key is None) != (prop_value is None):
        raise QueryError("give both prop_key and prop_value, or neither")
    if scroll_threshold is not None:
        if page_path is None:
            raise QueryError("a scroll goal needs a page path")
        if isinstance(scroll_threshold, bool) or not 1 <= scroll_threshold <= 100:
            raise QueryError(f"a scroll threshold is a percent from 1 to 100, "
                             f"got {scroll_threshold!r}")
    kind = ("scroll" if scroll_threshold is not None else
            "page" if page_path is not None else "event")
    name = display_name or (
        f"Scroll {scroll_threshold}% on {page_path}" if kind == "scroll" else
        f"Visit {page_path}" if page_path else str(event_name))
    new_id = conn.execute(sa.insert(G).values(
        site_id=site_id, kind=kind, page_path=page_path, event_name=event_name,
        prop_key=prop_key, prop_value=prop_value, display_name=name, created_at=now,
        scroll_threshold=scroll_threshold,
        currency=currency,
    ).returning(G.c.id)).scalar_one()
    return _from_row(conn.execute(sa.select(G).where(G.c.id == new_id)).one())


def list_goals(conn: Connection, site_id: int) -> list[Goal]:
    return [_from_row(r) for r in conn.execute(
        sa.select(G).where(G.c.site_id == site_id).order_by(G.c.id))]


def remove_goal(conn: Connection, site_id: int, goal_id: int) -> Goal:
    row = conn.execute(sa.select(G).where(G.c.site_id == site_id, G.c.id == goal_id)).first()
    if row is None:
        raise QueryError(f"no goal {goal_id} on this site (see `beacon goals list`)")
    conn.execute(sa.delete(G).where(G.c.id == goal_id))
    return _from_row(row)


def _metrics(conn: Connection, scope: raw.Scope) -> Metrics:
    sub = raw.ingredient_rows(scope, dialect_for(conn)).subquery()
    row = conn.execute(sa.select(*[sa.func.sum(sub.c[i]).label(i) for i in INGREDIENTS])).one()
    return Metrics.from_sums(row._mapping)


def goal_conversions(conn: Connection, query: StatsQuery,
                     goals: list[Goal] | None = None) -> list[GoalResult]:
    """Conversions of each goal (the site's goals by default) in the query's period,
    under its filters."""
    from shared.reports.traffic import resolve_all, scope_of, totals

    query = resolve_all(conn, query)
    goals = list_goals(conn, query.site_id) if goals is None else goals
    visitors = totals(conn, query).metrics.visitors
    base = scope_of(query, query.date_range.first, query.date_range.last)
    out = []
    for goal in goals:
        props = (goal.prop_key,) if goal.prop_key is not None else ()
        test = scroll_condition(goal, base) if goal.kind == "scroll" else goal.condition
        scope = raw.Scope(base.site_id, base.start, base.end, base.tz, base.filters,
                          (test,), extra_props=props)
        m = _metrics(conn, scope)
        completions = {"page": m.pageviews, "scroll": m.visits}.get(goal.kind, m.events)
        rate = 100.0 * m.visitors / visitors if visitors else 0.0
        amounts = revenue_by_currency(conn, scope) if m.revenue else {}
        own = amounts.pop(goal.currency, 0.0) if goal.currency else 0.0
        out.append(GoalResult(goal, m.visitors, completions, rate, own, amounts))
    return out


def revenue_by_currency(conn: Connection, scope: raw.Scope) -> dict[str, float]:
    """The revenue of the scope's matching events per currency (never summed across)."""
    dialect = dialect_for(conn)
    found = conn.execute(sa.select(schema.events.c.revenue_currency).distinct().where(
        schema.events.c.site_id == scope.site_id, schema.events.c.ts >= scope.start,
        schema.events.c.ts < scope.end, schema.events.c.revenue_amount.is_not(None),
    )).scalars().all()
    out: dict[str, float] = {}
    for code in sorted(c for c in found if c):
        def in_currency(c: Any, code: str = code) -> Any:
            return c.revenue_currency == code
        one = raw.Scope(scope.site_id, scope.start, scope.end, scope.tz, scope.filters,
                        (*scope.event_conditions, in_currency), extra_props=scope.extra_props)
        sub = raw.ingredient_rows(one, dialect).subquery()
        amount = conn.execute(sa.select(sa.func.sum(sub.c.revenue))).scalar()
        if amount:
            out[code] = float(amount)
    return out
