"""Parts of a period (the dashboard's complete part of a period that is not over) and
revenue per currency for a breakdown's rows.

Site in UTC. 2026-03-09: visitor 1 at 08:00 and 08:30, visitor 2 at 09:10, visitor 3 at
14:00 (revenue 7,000 EUR and 2.5 USD on "purchase"); 2026-03-10: visitor 1 at 08:00 again
(a new day: counted again), visitor 4 at 12:00 (516 EUR on "purchase").
"""

from __future__ import annotations

from datetime import datetime

import pytest

from shared.reports import StatsQuery, rebuild_dirty, totals
from shared.reports.partial import window_metrics
from shared.reports.revenue import revenue_by_value
from tests.queries.factory import event, make_site, store

TZ = "UTC"
NOW = datetime(2026, 3, 11, 12, 0)


def _rows(site: int) -> list[dict]:
    t = datetime
    return [
        event(site, t(2026, 3, 9, 8, 0), "pageview", 1, 1),
        event(site, t(2026, 3, 9, 8, 30), "pageview", 1, 1, pathname="/pricing"),
        event(site, t(2026, 3, 9, 9, 10), "pageview", 2, 2),
        event(site, t(2026, 3, 9, 14, 0), "pageview", 3, 3),
        event(site, t(2026, 3, 9, 14, 1), "purchase", 3, 3, revenue_amount=7000.0,
              revenue_currency="EUR"),
        event(site, t(2026, 3, 9, 14, 2), "purchase", 3, 3, revenue_amount=2.5,
              revenue_currency="USD"),
        event(site, t(2026, 3, 10, 8, 0), "pageview", 4, 1),
        event(site, t(2026, 3, 10, 12, 0), "pageview", 5, 4),
        event(site, t(2026, 3, 10, 12, 1), "purchase", 5, 4, revenue_amount=516.0,
              revenue_currency="EUR"),
    ]


@pytest.fixture(params=["raw", "rollup"])
def site(request: pytest.FixtureRequest, engine) -> int:
    site_id = make_site(engine, "example.com", TZ)
    store(engine, _rows(site_id), {site_id: TZ}, NOW)
    if request.param == "rollup":
        rebuild_dirty(engine, NOW)
    return site_id


def q(site: int) -> StatsQuery:
    return StatsQuery(site, TZ, "7d", NOW)


def test_a_window_inside_a_day_counts_the_events_before_the_cut(engine, site) -> None:
    with engine.connect() as conn:
        morning = window_metrics(conn, q(site), datetime(2026, 3, 9), datetime(2026, 3, 9, 9))
        to_ten = window_metrics(conn, q(site), datetime(2026, 3, 9), datetime(2026, 3, 9, 10))
        empty = window_metrics(conn, q(site), datetime(2026, 3, 9, 9), datetime(2026, 3, 9, 9))
    assert (morning.visitors, morning.visits, morning.pageviews) == (1, 1, 2)
    assert (to_ten.visitors, to_ten.visits, to_ten.pageviews) == (2, 2, 3)
    assert empty.visits == 0


def test_a_window_of_whole_days_is_the_totals_of_those_days(engine, site) -> None:
    with engine.connect() as conn:
        two_days = window_metrics(conn, q(site), datetime(2026, 3, 9), datetime(2026, 3, 11))
        first = window_metrics(conn, q(site), datetime(2026, 3, 9), datetime(2026, 3, 10))
        whole = totals(conn, q(site)).metrics
    assert (first.visitors, first.visits, first.pageviews) == (3, 3, 4)
    # Visitor 1 on both days counts twice: the sum of daily uniques, as everywhere.
    assert (two_days.visitors, two_days.visits, two_days.pageviews) == (5, 5, 6)
    assert two_days == whole            # no events on the 11th


def test_revenue_of_each_row_is_kept_apart_per_currency(engine, site) -> None:
    with engine.connect() as conn:
        found = revenue_by_value(conn, q(site), "event", ("purchase", "pageview"))
    assert found == {"purchase": {"EUR": 7516.0, "USD": 2.5}, "pageview": {}}
