"""Stats API, run step: metric values that need more than a cell's own Metrics.

percentage (of the query's visitors), conversion_rate (goal converters of all visitors
without the goal filter), group_conversion_rate (the same within each dimension group),
total_revenue / average_revenue (a revenue goal's amounts in its own currency only:
amounts in other currencies are listed apart in `meta.metric_warnings`, never added),
and the comparison of every row with the other period.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from beacon_app.stats_api.cells import Cell, key_of, shown
from beacon_app.stats_api.request import METRICS, ApiQuery
from shared.core.clock import local_midnight_utc
from shared.reports import traffic as reports
from shared.reports.goals import Goal, revenue_by_currency
from shared.stats.query import Filter, StatsQuery
from shared.stats.results import Metrics, change

Collect = Callable[[Connection, ApiQuery, StatsQuery, "Context"],
                  tuple[list[Cell], dict[str, Any]]]

RATES = ("bounce_rate", "conversion_rate", "group_conversion_rate", "percentage")
REVENUE = ("total_revenue", "average_revenue")


@dataclass
class Context:
    """What the site adds to a query: its goals, those the event:goal filters picked,
    and the query's filters without the event:goal ones (the conversion divisor)."""

    goals: list[Goal] = field(default_factory=list)
    picked: list[Goal] = field(default_factory=list)
    base_filters: tuple[Filter, ...] = ()
    has_goal_filter: bool = False


class Values:
    """The asked metrics of each cell of one query."""

    def __init__(self, conn: Connection, api: ApiQuery, query: StatsQuery, ctx: Context,
                 collect: Collect, total: Metrics | None = None) -> None:
        """`collect` gives the cells of another query (without the goal filter, or in
        one currency) the way the run step gives this one's."""
        self.conn, self.api, self.query, self.ctx = conn, api, query, ctx
        self.collect = collect
        self.meta: dict[str, Any] = {}
        self._total = total
        self._base_total: int | None = None
        self._base: dict[tuple[Any, ...], Metrics] | None = None
        self._revenue: dict[tuple[Any, ...], Metrics] | None = None
        self._currency: str | None = None

    def of(self, cell: Cell) -> list[Any]:
        return [self.value(m, cell) for m in self.api.metrics]

    def value(self, metric: str, cell: Cell) -> Any:
        m = cell.metrics
        if metric == "events":          # Plausible's events: pageviews + custom events
            return m.pageviews + m.events
        if metric == "percentage":
            return _share(m.visitors, self.total().visitors)
        if metric == "conversion_rate" or (metric == "group_conversion_rate"
                                           and self.api.goal_dimension):
            return _share(m.visitors, self.base_total())
        if metric == "group_conversion_rate":
            base = self.base().get(key_of(cell))
            return _share(m.visitors, base.visitors if base else 0)
        if metric in REVENUE:
            return self.revenue(metric, cell)
        value = getattr(m, METRICS[metric] or metric)
        return round(value, 2) if isinstance(value, float) else value

    def total(self) -> Metrics:
        if self._total is None:
            self._total = reports.totals(self.conn, self.query).metrics
        return self._total

    def base_total(self) -> int:
        if self._base_total is None:
            base = replace(self.query, filters=self.ctx.base_filters)
            self._base_total = reports.totals(self.conn, base).metrics.visitors
        return self._base_total

    def base(self) -> dict[tuple[Any, ...], Metrics]:
        """The cells without the goal filter, by dimension values."""
        if self._base is None:
            base = replace(self.query, filters=self.ctx.base_filters)
            cells, _ = self.collect(self.conn, self.api, base, replace(self.ctx, picked=[]))
            self._base = {key_of(c): c.metrics for c in cells}
        return self._base

    # --- revenue -----------------------------------------------------------------------
    def revenue(self, metric: str, cell: Cell) -> Any:
        if self.api.goal_dimension:
            goal = next((g for g in self.ctx.goals if g.display_name == cell.dims[0]), None)
            if goal is None or goal.currency is None:
                return None
            m = reports.totals(self.conn, self._in_currency([goal], goal.currency)).metrics
            self._other_currencies(metric, [goal], goal.currency, goal.display_name)
            return _revenue(metric, m, goal.currency)
        rows = self._revenue_cells(metric)
        found = rows.get(key_of(cell)) if rows is not None else None
        if self._currency is None:
            return None
        return _revenue(metric, found or Metrics(), self._currency)

    def _revenue_cells(self, metric: str) -> dict[tuple[Any, ...], Metrics] | None:
        if self._revenue is not None:
            return self._revenue
        goals = [g for g in self.ctx.picked if g.currency]
        codes = sorted({g.currency for g in goals if g.currency})
        if len(codes) != 1:
            code, text = (("no_revenue_goals_matching", "there are no matching revenue goals")
                          if not codes else
                          ("no_single_revenue_currency", "the selected goals have "
                           f"different currencies ({', '.join(codes)})"))
            for name in REVENUE:
                if name in self.api.metrics:
                    self._warn(name, {"code": code,
                                      "warning": f"Revenue metrics are null as {text}."})
            self._revenue = {}
            return None
        self._currency = codes[0]
        restricted = self._in_currency(goals, codes[0])
        cells, _ = self.collect(self.conn, self.api, restricted, self.ctx)
        self._revenue = {key_of(c): c.metrics for c in cells}
        self._other_currencies(metric, goals, codes[0], None)
        return self._revenue

    def _in_currency(self, goals: list[Goal], code: str) -> StatsQuery:
        goal_or = Filter("", "or", (), tuple(g.as_filter() for g in goals))
        test = Filter("", "and", (), (goal_or, Filter("revenue_currency", "is", (code,))))
        return replace(self.query, filters=(*self.ctx.base_filters, test))

    def _other_currencies(self, metric: str, goals: list[Goal], code: str,
                          goal_name: str | None) -> None:
        """Amounts of these goals in currencies other than theirs: listed, not added."""
        goal_or = Filter("", "or", (), tuple(g.as_filter() for g in goals))
        q = reports.resolve_all(self.conn, replace(self.query,
                                                   filters=(*self.ctx.base_filters, goal_or)))
        r = q.date_range
        scope = reports.scope_of(q, r.first, r.last)
        others = {c: round(v, 2) for c, v in revenue_by_currency(self.conn, scope).items()
                  if c != code}
        if not others:
            return
        warning = self.meta.setdefault("metric_warnings", {}).setdefault(metric, {
            "code": "revenue_in_other_currencies",
            "warning": f"Amounts in currencies other than the goal's ({code}) are not part "
                       "of the revenue; they are listed here, per currency.",
            "other_currencies": {}})
        if goal_name is None:
            warning["other_currencies"] = others
        else:
            warning["other_currencies"][goal_name] = others

    def _warn(self, metric: str, warning: dict[str, str]) -> None:
        self.meta.setdefault("metric_warnings", {})[metric] = warning


def _share(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


def _revenue(metric: str, m: Metrics, code: str) -> dict[str, Any]:
    value = m.revenue if metric == "total_revenue" else (
        m.revenue / m.events if m.events else 0.0)
    return {"value": round(value, 2), "currency": code, "long": f"{value:,.2f} {code}",
            "short": f"{_short(value)} {code}"}


def _short(value: float) -> str:
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= size:
            return f"{value / size:.1f}{suffix}"
    return f"{value:.2f}"


# --- comparisons --------------------------------------------------------------------
def comparison_query(api: ApiQuery, query: StatsQuery) -> StatsQuery:
    wanted = api.comparison or {}
    if wanted.get("mode") == "custom":
        return query.with_range(wanted["start"], wanted["end"], derived=True)
    other = replace(query, comparison=wanted.get("mode", "previous_period")).comparison_query()
    assert other is not None
    return other


def attach_comparison(api: ApiQuery, rows: list[dict[str, Any]], cells: list[Cell],
                      other_cells: list[Cell], other: Values) -> None:
    """Each row gets {"dimensions", "metrics", "change"} of the same group in the other
    period (time buckets matched by position); change is in percent, in points for
    rates, null when the other period has no visit there."""
    by_key = {key_of(c): c for c in other_cells}
    for row, cell in zip(rows, cells, strict=True):
        match = by_key.get(key_of(cell))
        if match is None:
            row["comparison"] = {"dimensions": row["dimensions"],
                                 "metrics": [None] * len(api.metrics),
                                 "change": [None] * len(api.metrics)}
            continue
        values = other.of(match)
        row["comparison"] = {
            "dimensions": shown(api, match), "metrics": values,
            "change": [_change(m, cur, prev, match.metrics.visits > 0)
                       for m, cur, prev in zip(api.metrics, row["metrics"], values,
                                               strict=True)]}


def _change(metric: str, current: Any, previous: Any, had_visits: bool) -> float | None:
    if not had_visits:
        return None
    current = current["value"] if isinstance(current, dict) else current
    previous = previous["value"] if isinstance(previous, dict) else previous
    if current is None or previous is None:
        return None
    value = change("bounce_rate" if metric in RATES else metric, current, previous)
    return None if value is None else round(value, 1)


def stamps(query: StatsQuery) -> list[str]:
    """The first and last second of the query's days, in the site's time."""
    r = query.date_range
    start = local_midnight_utc(r.first, query.tz)
    end = local_midnight_utc(r.last + timedelta(days=1), query.tz) - timedelta(seconds=1)
    return [t.replace(tzinfo=UTC).astimezone(query.tz).isoformat() for t in (start, end)]


def goal_cells(conn: Connection, query: StatsQuery, ctx: Context) -> list[Cell]:
    """One cell per goal with conversions: the query under that goal's filter."""
    goals = ctx.picked if ctx.has_goal_filter else ctx.goals
    cells = []
    for goal in goals:
        m = reports.totals(conn, replace(query, filters=(*ctx.base_filters,
                                                         goal.as_filter()))).metrics
        if m.visitors:
            cells.append(Cell([goal.display_name], m))
    return cells


