"""Notify stage: the numbers of one e-mail report, asked of the query layer.

The same reports the dashboard shows (totals with the previous period, the daily
timeseries, top pages, sources and countries, goal conversions) - so a report and the
dashboard never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.engine import Connection

from shared.reports import (
    BreakdownSpec,
    GoalResult,
    Point,
    Row,
    StatsQuery,
    Totals,
    breakdowns,
    goal_conversions,
    timeseries,
    totals,
)
from shared.sites import Site

TOP = 10


@dataclass(frozen=True)
class ReportData:
    domain: str
    timezone: str
    kind: str                   # "week" or "month"
    first: date
    last: date
    totals: Totals              # with .previous and .changes of the period before
    series: list[Point]         # visitors per local day
    pages: list[Row]
    sources: list[Row]
    countries: list[Row]
    goals: list[GoalResult]


def report_query(site: Site, first: date, last: date, now: datetime) -> StatsQuery:
    return StatsQuery(site_id=site.id, timezone=site.timezone, period="custom", now=now,
                      start=first, end=last, interval="day", comparison="previous_period")


def build_report(conn: Connection, site: Site, kind: str, first: date, last: date,
                 now: datetime) -> ReportData:
    query = report_query(site, first, last, now)
    specs = {d: BreakdownSpec(d, TOP) for d in ("page", "source", "country")}
    tops = breakdowns(conn, query, list(specs.values()))
    return ReportData(
        domain=site.domain, timezone=site.timezone, kind=kind, first=first, last=last,
        totals=totals(conn, query), series=timeseries(conn, query).points,
        pages=tops[specs["page"]].rows, sources=tops[specs["source"]].rows,
        countries=tops[specs["country"]].rows,
        goals=goal_conversions(conn, query),
    )
