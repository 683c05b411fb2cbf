"""Query layer: StatsQuery + filters -> where clause; metrics; reports; rollups; goals.

The public API the dashboard, the Stats API and the exports use:

    q = StatsQuery(site_id=1, timezone="Europe/Berlin", period="30d", now=utcnow,
                   filters=(Filter("source", "is", ("Google",)),),
                   comparison="previous_period")
    totals(conn, q).metrics.visitors
    timeseries(conn, q).points
    breakdown(conn, q, "page", limit=10, offset=0)
    breakdowns(conn, q, [BreakdownSpec("source"), BreakdownSpec("country", 50)])
    realtime(conn, site_id, timezone, now)
    goal_conversions(conn, q) / funnel_report(conn, q, funnel)

Every report picks rollups or raw events by itself and answers the same either way.
"""

from shared.reports.funnels import (
    Funnel,
    FunnelReport,
    FunnelStep,
    FunnelStepResult,
    add_funnel,
    funnel_report,
    get_funnel,
    list_funnels,
    remove_funnel,
)
from shared.reports.goals import (
    Goal,
    GoalResult,
    add_goal,
    goal_conversions,
    list_goals,
    remove_goal,
)
from shared.reports.realtime import realtime
from shared.reports.traffic import (
    BreakdownSpec,
    breakdown,
    breakdowns,
    rollup_dimension,
    timeseries,
    totals,
)
from shared.rollups.build import rebuild_day, rebuild_dirty, rebuild_site
from shared.rollups.mark import mark_dirty_days
from shared.stats.dimensions import DIMENSIONS, EVENT_DIMENSIONS, VISIT_DIMENSIONS
from shared.stats.query import (
    COMPARISONS,
    INTERVALS,
    OPERATORS,
    DateRange,
    Filter,
    QueryError,
    StatsQuery,
)
from shared.stats.results import (
    INGREDIENTS,
    METRICS,
    Breakdown,
    Metrics,
    Point,
    Realtime,
    Row,
    Timeseries,
    Totals,
)

__all__ = [
    "COMPARISONS", "DIMENSIONS", "EVENT_DIMENSIONS", "INGREDIENTS", "INTERVALS", "METRICS",
    "OPERATORS", "VISIT_DIMENSIONS", "Breakdown", "BreakdownSpec", "DateRange", "Filter", "Funnel",
    "FunnelReport", "FunnelStep", "FunnelStepResult", "Goal", "GoalResult", "Metrics",
    "Point", "QueryError", "Realtime", "Row", "StatsQuery", "Timeseries", "Totals",
    "add_funnel", "add_goal", "breakdown", "breakdowns", "funnel_report", "get_funnel",
    "goal_conversions", "list_funnels", "list_goals", "mark_dirty_days", "realtime",
    "rebuild_day", "rebuild_dirty", "rebuild_site", "remove_funnel", "remove_goal",
    "rollup_dimension", "timeseries", "totals",
]
