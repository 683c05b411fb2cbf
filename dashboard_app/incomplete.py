"""The current, incomplete bucket of a time chart (this hour, today, this month) and the
comparison that leaves it out.

A period that ends today holds a bucket that is not over: today's visitors at 10:00 are
a fraction of a day's. Drawn like the others it looks like a drop, and compared as a
whole it drags every change down. So the chart draws it dotted, and the changes on the
Overview's cards compare the complete buckets only: the incomplete bucket, and those
after it, are left out of both periods (bucket i of the comparison stands beside bucket i
of this period, as in the chart). No Streamlit here: unit-tested alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from shared.core.clock import to_local
from shared.stats.query import StatsQuery
from shared.stats.results import Point, Timeseries

# What the incomplete bucket of each interval is called in the page's note.
NAMES = {"minute": "this minute", "hour": "this hour", "day": "today", "week": "this week",
         "month": "this month"}


def incomplete_index(starts: Sequence[datetime], period_end: datetime,
                     local_now: datetime) -> int | None:
    """The position of the bucket holding `local_now` (each bucket ends where the next
    starts, the last at `period_end`); None when none does (the period is over)."""
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else period_end
        if start <= local_now < end:
            return i
    return None


@dataclass(frozen=True)
class Cut:
    """Where the complete part ends: the incomplete bucket's position, and the local
    [start, end) windows of the complete part of this period and of the comparison."""

    index: int
    current: tuple[datetime, datetime]
    previous: tuple[datetime, datetime] | None


def cut_of(points: Sequence[Point], previous: Sequence[Point] | None,
           period_end: datetime, previous_end: datetime | None,
           local_now: datetime) -> Cut | None:
    """The cut of a timeseries (both periods' points), None when every bucket is over."""
    starts = [p.bucket for p in points]
    index = incomplete_index(starts, period_end, local_now)
    if index is None:
        return None
    other = None
    if previous and previous_end is not None:
        end = previous[index].bucket if index < len(previous) else previous_end
        other = (previous[0].bucket, end)
    return Cut(index, (starts[0], starts[index]), other)


def day_after(last_day: date) -> datetime:
    """Local midnight after a period's last day: where its last bucket ends."""
    return datetime(last_day.year, last_day.month, last_day.day) + timedelta(days=1)


def series_cut(query: StatsQuery, series: Timeseries) -> Cut | None:
    """The cut of the query's timeseries at the query's `now` (None: the period is over)."""
    other = query.comparison_query()
    return cut_of(series.points, series.previous, day_after(query.date_range.last),
                  day_after(other.date_range.last) if other else None,
                  to_local(query.now, query.tz))


def note(interval: str, comparing: bool) -> str:
    """What the page says about the incomplete bucket."""
    name = NAMES.get(interval, "the last bucket")
    if not comparing:
        return f"Dotted: {name}, not over yet."
    return (f"Dotted: {name}, not over yet. The changes on the cards leave it out of both "
            f"periods: they compare the complete part of this period with the same "
            f"buckets of the comparison period.")
