"""The current, incomplete bucket: where the complete part of a period ends, the chart's
dotted segment, and the Overview's changes that leave the incomplete bucket out."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from dashboard_app import charts, incomplete
from shared.stats.query import StatsQuery
from shared.stats.results import Metrics, Point, Timeseries

DAY = datetime(2026, 3, 9)


def _points(starts: list[datetime]) -> list[Point]:
    return [Point(s, Metrics(visitors=1, visits=1)) for s in starts]


def _hours(day: datetime) -> list[datetime]:
    return [day + timedelta(hours=h) for h in range(24)]


def test_today_in_hours_is_cut_at_this_hour_on_both_sides() -> None:
    cut = incomplete.cut_of(_points(_hours(DAY)), _points(_hours(DAY - timedelta(days=1))),
                            DAY + timedelta(days=1), DAY, DAY.replace(hour=10, minute=30))
    assert cut is not None and cut.index == 10
    assert cut.current == (DAY, DAY.replace(hour=10))
    assert cut.previous == (DAY - timedelta(days=1), DAY.replace(day=8, hour=10))


def test_days_ending_today_are_cut_at_today() -> None:
    days = [DAY - timedelta(days=6 - i) for i in range(7)]
    before = [d - timedelta(days=7) for d in days]
    cut = incomplete.cut_of(_points(days), _points(before), DAY + timedelta(days=1),
                            DAY - timedelta(days=6), DAY.replace(hour=0, minute=1))
    assert cut is not None and cut.index == 6
    assert cut.current == (days[0], DAY) and cut.previous == (before[0], before[6])


@pytest.mark.parametrize("now", [DAY + timedelta(days=1), DAY - timedelta(days=9)],
                         ids=["period-over", "before-the-period"])
def test_no_cut_when_no_bucket_holds_now(now: datetime) -> None:
    assert incomplete.cut_of(_points(_hours(DAY)), None, DAY + timedelta(days=1), None,
                             now) is None


def test_the_first_bucket_incomplete_leaves_nothing_to_compare() -> None:
    cut = incomplete.cut_of(_points(_hours(DAY)), _points(_hours(DAY - timedelta(days=1))),
                            DAY + timedelta(days=1), DAY, DAY.replace(minute=20))
    assert cut is not None and cut.index == 0 and cut.current == (DAY, DAY)


def test_series_cut_of_a_query_and_a_month_to_date() -> None:
    query = StatsQuery(1, "UTC", "month", datetime(2026, 3, 9, 15),
                       comparison="previous_period")
    days = [datetime(2026, 3, d) for d in range(1, 10)]
    before = [datetime(2026, 2, d) for d in range(20, 29)]
    cut = incomplete.series_cut(query, Timeseries("day", _points(days), _points(before)))
    assert cut is not None and cut.index == 8
    assert cut.current == (datetime(2026, 3, 1), datetime(2026, 3, 9))
    assert cut.previous == (datetime(2026, 2, 20), datetime(2026, 2, 28))
    over = StatsQuery(1, "UTC", "last_month", datetime(2026, 3, 9, 15))
    assert over.date_range.last == date(2026, 2, 28)
    assert incomplete.series_cut(over, Timeseries("day", _points(before))) is None


def test_the_chart_draws_the_incomplete_bucket_dotted_and_not_the_future() -> None:
    hours = _hours(DAY)
    df = pd.DataFrame({"bucket": hours, "visitors": [5] * 10 + [1] + [0] * 13})
    prev = pd.DataFrame({"bucket": _hours(DAY - timedelta(days=1)), "visitors": [4] * 24})
    fig = charts.timeseries(df, "visitors", "Visitors", comparison=prev, incomplete=hours[10])
    done, partial, comparison = fig.data
    assert [done.name, partial.name, comparison.name] == ["This period", "Incomplete",
                                                          "Comparison"]
    assert list(done.x) == hours[:10] and done.line.dash is None
    assert list(partial.x) == hours[9:11] and list(partial.y) == [5, 1]
    assert partial.line.dash == "dot"
    assert comparison.line.dash is None and len(comparison.x) == 24   # the whole day


def test_a_period_that_is_over_is_drawn_solid() -> None:
    df = pd.DataFrame({"bucket": _hours(DAY), "visitors": [3] * 24})
    fig = charts.timeseries(df, "visitors", "Visitors")
    assert [t.name for t in fig.data] == ["This period"] and len(fig.data[0].x) == 24


def test_the_note_says_which_bucket_and_what_the_changes_compare() -> None:
    assert incomplete.note("hour", False) == "Dotted: this hour, not over yet."
    assert "leave it out of both periods" in incomplete.note("day", True)
    assert incomplete.note("day", True).startswith("Dotted: today")
