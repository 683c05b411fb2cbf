"""Visit duration to the millisecond, the same on every database, from raw events and
from rollups.

The rule: a visit's duration is the exact time from its first to its last event
(timestamps keep microseconds), rounded to the nearest millisecond, halves up. Rounding
each timestamp to the millisecond first (SQLite's date functions do) makes it 1 ms off.

Site in Asia/Tokyo, local day 2026-03-09; one visitor per visit, two pageviews each:
  A  /a at 12:00:00.000600, /b at 12:00:20.991400   -> 20 990.8 ms -> 20 991 ms
  B  /c at 13:00:00.999600, /d at 13:00:01.000400   ->       0.8 ms ->      1 ms
  C  /e at 14:00:00.000000, /f at 14:00:00.002500   ->       2.5 ms ->      3 ms
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy.engine import Engine

from shared.reports import StatsQuery, breakdown, rebuild_dirty, totals
from tests.queries.factory import event, make_site, store

TZ = "Asia/Tokyo"
NOW = datetime(2026, 3, 10, 12, 0)
DAY = date(2026, 3, 9)
VISITS = {   # session: (entry page, its time, exit page, its time), times UTC
    1: ("/a", datetime(2026, 3, 9, 3, 0, 0, 600), "/b", datetime(2026, 3, 9, 3, 0, 20, 991400)),
    2: ("/c", datetime(2026, 3, 9, 4, 0, 0, 999600), "/d", datetime(2026, 3, 9, 4, 0, 1, 400)),
    3: ("/e", datetime(2026, 3, 9, 5, 0, 0), "/f", datetime(2026, 3, 9, 5, 0, 0, 2500)),
}
SECONDS = {1: 20.991, 2: 0.001, 3: 0.003}


def _query(site: int) -> StatsQuery:
    return StatsQuery(site, TZ, "custom", NOW, start=DAY, end=DAY)


@pytest.fixture(params=["raw", "rollup"])
def site(request: pytest.FixtureRequest, engine: Engine) -> int:
    site_id = make_site(engine, "duration.test", TZ)
    rows = [event(site_id, ts, "pageview", session, 100 + session, pathname=page)
            for session, (entry, t0, exit_, t1) in VISITS.items()
            for page, ts in ((entry, t0), (exit_, t1))]
    store(engine, rows, {site_id: TZ}, NOW)
    if request.param == "rollup":
        assert rebuild_dirty(engine, NOW) == 1
    return site_id


def _durations(engine: Engine, site: int, dimension: str) -> dict[str, float]:
    with engine.connect() as conn:
        rows = breakdown(conn, _query(site), dimension).rows
    return {r.value: r.metrics.visit_duration for r in rows}


def test_visit_duration_is_the_exact_time_rounded_to_the_millisecond(
        engine: Engine, site: int) -> None:
    assert _durations(engine, site, "entry_page") == {
        VISITS[s][0]: seconds for s, seconds in SECONDS.items()}
    assert _durations(engine, site, "exit_page") == {
        VISITS[s][2]: seconds for s, seconds in SECONDS.items()}
    assert _durations(engine, site, "page") == {
        VISITS[s][i]: seconds for s, seconds in SECONDS.items() for i in (0, 2)}
    with engine.connect() as conn:
        m = totals(conn, _query(site)).metrics
    assert m.visits == 3
    assert m.visit_duration == pytest.approx((20_991 + 1 + 3) / 3 / 1000, rel=1e-12)
