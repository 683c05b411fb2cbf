"""Query layer: the values reports return, and metrics computed from additive sums.

Every report first sums the same additive *ingredients* (per local day: unique
visitors, visits, pageviews, bounces, total visit duration, custom events, engaged
time, scroll depth sums, revenue) - from rollup rows or from raw events - and only then
divides. One formula per metric, used by both paths, keeps their answers identical.
See docs/metrics.md, "Metrics (precise definitions)".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

INGREDIENTS: tuple[str, ...] = (
    "visitors", "visits", "pageviews", "bounces", "duration_ms", "events",
    "engaged_ms", "scroll_sum", "scroll_count", "revenue",
)

METRICS: tuple[str, ...] = (
    "visitors", "visits", "pageviews", "views_per_visit", "bounce_rate", "visit_duration",
    "time_on_page", "scroll_depth", "events", "revenue",
)

# Metrics whose change is reported in points (a difference), not in percent.
RATE_METRICS = frozenset({"bounce_rate", "conversion_rate"})


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


@dataclass(frozen=True)
class Metrics:
    """The metrics of one row, bucket or total.

    visitors: sum over local days of the distinct visitors that day (ids rotate daily).
    visits: visits (a session's events within one local day); pageviews, events: counts.
    views_per_visit: pageviews / visits. bounce_rate: percent of visits that bounced.
    visit_duration: mean visit duration in seconds. time_on_page: engaged seconds per
    pageview (None without pageviews). scroll_depth: mean reported scroll depth in
    percent (None when none was reported). revenue: sum of revenue amounts.
    """

    visitors: int = 0
    visits: int = 0
    pageviews: int = 0
    views_per_visit: float = 0.0
    bounce_rate: float = 0.0
    visit_duration: float = 0.0
    time_on_page: float | None = None
    scroll_depth: float | None = None
    events: int = 0
    revenue: float = 0.0

    @classmethod
    def from_sums(cls, sums: Mapping[Any, Any]) -> Metrics:
        """Metrics from summed ingredients (missing ones count as zero)."""
        # PostgreSQL sums BIGINTs into NUMERIC: normalise to int/float before dividing.
        s: dict[str, Any] = {k: int(sums.get(k) or 0) for k in INGREDIENTS}
        s["revenue"] = float(sums.get("revenue") or 0.0)
        visits = int(s["visits"])
        return cls(
            visitors=int(s["visitors"]), visits=visits, pageviews=int(s["pageviews"]),
            views_per_visit=_ratio(s["pageviews"], visits) or 0.0,
            bounce_rate=100.0 * (_ratio(s["bounces"], visits) or 0.0),
            visit_duration=(_ratio(s["duration_ms"], visits) or 0.0) / 1000.0,
            time_on_page=_seconds(_ratio(s["engaged_ms"], s["pageviews"])),
            scroll_depth=_ratio(s["scroll_sum"], s["scroll_count"]),
            events=int(s["events"]), revenue=float(s["revenue"]),
        )

    def as_dict(self) -> dict[str, Any]:
        return {m: getattr(self, m) for m in METRICS}


def _seconds(ms: float | None) -> float | None:
    return None if ms is None else ms / 1000.0


def change(metric: str, current: float | None, previous: float | None) -> float | None:
    """Percent change, or the difference in points for rates; None when undefined."""
    if current is None or previous is None:
        return None
    if metric in RATE_METRICS:
        return current - previous
    if previous == 0:
        return None
    return 100.0 * (current - previous) / previous


def changes_between(current: Metrics, previous: Metrics,
                    metrics: tuple[str, ...] = METRICS) -> dict[str, float | None]:
    """The change of each metric; all None when the earlier period had no visit (a
    rate of an empty period is no baseline: 47 % bounce vs "nothing" is not +47 pt)."""
    if not previous.visits:
        return {m: None for m in metrics}
    return {m: change(m, getattr(current, m), getattr(previous, m)) for m in metrics}


@dataclass(frozen=True)
class Totals:
    """Totals of the period; with a comparison, those of the other period and changes."""

    metrics: Metrics
    previous: Metrics | None = None
    changes: dict[str, float | None] = field(default_factory=dict)
    first_day: date | None = None
    last_day: date | None = None
    source: str = "raw"          # "rollup", "raw" or "mixed": how it was answered


@dataclass(frozen=True)
class Point:
    """One timeseries bucket; `bucket` is its local start (naive, site time)."""

    bucket: datetime
    metrics: Metrics


@dataclass(frozen=True)
class Timeseries:
    interval: str
    points: list[Point]
    previous: list[Point] | None = None   # the comparison period, aligned by position
    source: str = "raw"


@dataclass(frozen=True)
class Row:
    value: str
    metrics: Metrics


@dataclass(frozen=True)
class Breakdown:
    dimension: str
    rows: list[Row]
    has_more: bool
    source: str = "raw"


@dataclass(frozen=True)
class Realtime:
    """Right now: visitors in the last 5 minutes; per minute and top lists of the last 30."""

    visitors: int
    per_minute: list[Point]
    top_pages: list[Row]
    top_sources: list[Row]
