"""Property: every metric of every report is the same from rollups and from raw events.

Random events for two sites in different timezones (one with a DST change inside the
window), sessions that cross local midnight, engagement and custom events, props and
revenue; on SQLite with and without the build's helper process; then each report is
answered three ways - all days rebuilt (rollups), all days
dirty (raw), and half the days dirty (mixed) - and must agree exactly.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from shared.core import schema
from shared.reports import (
    BreakdownSpec,
    Filter,
    StatsQuery,
    breakdown,
    breakdowns,
    rebuild_dirty,
    timeseries,
    totals,
)
from shared.rollups import helper as rollup_helper
from shared.rollups.mark import mark_dirty_days
from tests.queries.factory import event, make_site, store

ZONES = ("America/New_York", "Asia/Kolkata")
START = datetime(2026, 3, 6, 0, 0)      # New York switches to DST on 2026-03-08
NOW = datetime(2026, 3, 12, 0, 0)
PAGES = ("/", "/a", "/a/b", "/blog/x")
SOURCES = ("", "Google", "Bing")
COUNTRIES = ("DE", "US")
SCREENS = ("", "mobile", "desktop")
TERMS = ("", "pricing")       # site search: a raw-only event dimension
# An event dimension, first-event and last-event visit dimensions, event names.
DIMS = ("page", "source", "exit_page", "event", "screen_size")

step = st.tuples(
    st.sampled_from(("pageview", "pageview", "engagement", "signup")),
    st.integers(0, 40 * 60),              # seconds after the previous event
    st.sampled_from(PAGES),
    st.integers(0, 3),                    # revenue in halves (exact in binary floats)
    st.booleans(),                        # interactive
)
session = st.tuples(
    st.integers(0, 1),                    # site
    st.integers(0, 5 * 24 * 3600),        # start, seconds after START
    st.integers(0, 7),                    # visitor (shared across sessions)
    st.sampled_from(SOURCES), st.sampled_from(COUNTRIES), st.sampled_from(SCREENS),
    st.lists(step, min_size=1, max_size=5),
)
a_filter = st.one_of(
    st.builds(lambda v: Filter("source", "is", (v,)), st.sampled_from(SOURCES)),
    st.builds(lambda v: Filter("page", "is", (v,)), st.sampled_from(PAGES)),
    st.builds(lambda v: Filter("country", "is_not", (v,)), st.sampled_from(COUNTRIES)),
    st.builds(lambda v: Filter("entry_page", "contains", (v,)), st.sampled_from(("/a", "b"))),
    st.builds(lambda v: Filter("exit_page", "matches", (v,)), st.sampled_from(("/a*", "/"))),
    st.builds(lambda v: Filter("entry_page", "not_matches", (v,)), st.sampled_from(("/a*", "/"))),
    st.builds(lambda v: Filter("screen_size", "is", (v,)), st.sampled_from(SCREENS)),
    st.builds(lambda v: Filter("search_term", "is", (v,)), st.sampled_from(TERMS)),
    st.builds(lambda v: Filter("source", "is_any_of", v),
              st.lists(st.sampled_from(SOURCES), min_size=1, max_size=2).map(tuple)),
    st.builds(lambda v: Filter("page", "not_matches", (v,)), st.sampled_from(("/a*", "/"))),
    st.builds(lambda a, b: Filter("", "or", (), (Filter("country", "is", (a,)),
                                                  Filter("source", "is", (b,)))),
              st.sampled_from(COUNTRIES), st.sampled_from(SOURCES)),
)
# None, one or two filters: two visit-dimension filters are answered by the stored visits,
# a page filter beside another, and an `or` group, by the raw events.
some_filters = st.lists(a_filter, max_size=2).map(tuple)


def _rows(sites: list[int], sessions: list[Any]) -> list[dict[str, Any]]:
    rows = []
    for n, (site, offset, visitor, source, country, screen, steps) in enumerate(sessions):
        ts = START + timedelta(seconds=offset)
        for name, gap, page, halves, interactive in steps:
            ts += timedelta(seconds=gap, microseconds=n)
            rows.append(event(
                sites[site], ts, name, session=n + 1, visitor=visitor,
                pathname=page, referrer_source=source, country=country,
                screen_size=screen, interactive=interactive,
                search_term=TERMS[len(page) % 2] if name == "pageview" else "",
                engagement_ms=gap * 10 if name == "engagement" else None,
                scroll_depth=gap % 101 if name == "engagement" else None,
                revenue_amount=halves / 2 if name == "signup" else None,
                props={"plan": page} if name == "signup" else {}))
    return rows


def _answers(conn: Any, query: StatsQuery) -> dict[str, Any]:
    # with the previous period: both periods read at once, equal to each read alone
    with_previous = replace(query, comparison="previous_period")
    compared = totals(conn, with_previous)
    previous = with_previous.comparison_query()
    assert previous is not None
    assert compared.previous == totals(conn, previous).metrics
    assert compared.metrics == totals(conn, query).metrics
    series = timeseries(conn, with_previous)
    assert series.points == timeseries(conn, query).points
    assert series.previous == timeseries(conn, previous).points
    out: dict[str, Any] = {"totals": compared.metrics, "previous": compared.previous,
                           "changes": compared.changes,
                           "series": [p.metrics for p in timeseries(conn, query).points]}
    for dim in (*DIMS, "search_term"):
        b = breakdown(conn, query, dim, limit=50)
        out[dim] = [(r.value, r.metrics) for r in b.rows]
    # the same breakdowns asked together (filtered visit dimensions share one read)
    specs = [BreakdownSpec(dim, 50) for dim in (*DIMS, "country", "entry_page")]
    together = breakdowns(conn, query, specs)
    assert [together[s] for s in specs[:len(DIMS)]] == [
        breakdown(conn, query, dim, limit=50) for dim in DIMS]
    return out


def _queries(sites: list[int], first: int, days: int,
             filters: tuple[Filter, ...]) -> list[StatsQuery]:
    d0 = date(2026, 3, 6) + timedelta(days=first)
    return [StatsQuery(s, z, "custom", NOW, start=d0, end=d0 + timedelta(days=days - 1),
                       interval="day", filters=filters)
            for s, z in zip(sites, ZONES, strict=True)]


# Always tried: a filtered page breakdown over two days, one of them dirty in the mixed
# round (the stored groups of a dirty day must not be joined as well as its raw ones).
TWO_DAYS = [(0, d * 86_400 + 10 * 3600, d, "Google", "DE", "mobile",
             [("pageview", 0, "/a", 0, True)]) for d in (0, 1)]


@example(sessions=TWO_DAYS, first=0, days=2, filters=(Filter("source", "is", ("Google",)),),
         helper=True)
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(sessions=st.lists(session, min_size=1, max_size=12), first=st.integers(0, 4),
       days=st.integers(1, 3), filters=some_filters, helper=st.booleans())
def test_rollups_equal_raw(engine, monkeypatch, sessions, first, days, filters, helper):
    # SQLite: every day's visits computed by the build's helper process, or none
    monkeypatch.setattr(rollup_helper, "MIN_EVENTS", 1 if helper else 10**9)
    with engine.begin() as conn:
        for table in (schema.events, schema.daily_rollups, schema.rollup_visits,
                      schema.rollup_visit_events, schema.dirty_days, schema.sites):
            conn.execute(table.delete())
    sites = [make_site(engine, f"s{i}.example", z) for i, z in enumerate(ZONES)]
    touched = store(engine, _rows(sites, sessions), dict(zip(sites, ZONES, strict=True)), NOW)
    assert rebuild_dirty(engine, NOW) == len(touched)
    queries = _queries(sites, first, days, filters)
    with engine.connect() as conn:   # nothing dirty: stored rows wherever they can answer
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.dirty_days)
                            ).scalar() == 0
        rolled = [_answers(conn, q) for q in queries]
        if all(f.dimension not in ("page", "search_term") and not f.is_group for f in filters):
            assert {totals(conn, q).source for q in queries} == {"rollup"}
            assert {breakdown(conn, q, d).source for q in queries for d in DIMS} == {"rollup"}
    with engine.begin() as conn:   # every day dirty again: answered from raw events
        mark_dirty_days(conn, touched, NOW)
    with engine.connect() as conn:
        assert [_answers(conn, q) for q in queries] == rolled
    rebuild_dirty(engine, NOW)
    with engine.begin() as conn:   # every other day dirty: the two paths mixed
        mark_dirty_days(conn, sorted(touched)[::2], NOW)
    with engine.connect() as conn:
        assert [_answers(conn, q) for q in queries] == rolled


def test_stored_visits_have_a_column_per_visit_dimension():
    from shared.stats.dimensions import VISIT_DIMENSIONS

    assert tuple(VISIT_DIMENSIONS) == schema.VISIT_DIMENSION_COLUMNS
    assert all(c in schema.rollup_visits.c for c in VISIT_DIMENSIONS)


def test_a_new_timezone_marks_every_day_and_the_rebuild_moves_the_rows(engine):
    from datetime import UTC

    from shared.sites import update_site

    site = make_site(engine, "tz.example", "UTC")
    # Visits at 20:00 UTC: the same calendar day in UTC, the next day in Kolkata.
    rows = [event(site, datetime(2026, 3, d, 20, 0), "pageview", session=d, visitor=d)
            for d in (6, 7, 8)]
    store(engine, rows, {site: "UTC"}, NOW)
    rebuild_dirty(engine, NOW)
    d = schema.dirty_days
    with engine.begin() as conn:
        update_site(conn, "tz.example", timezone="Asia/Kolkata")
        update_site(conn, "tz.example", honor_dnt=True)     # no new timezone: no marks
        marked = sorted(r.day for r in conn.execute(sa.select(d.c.day)
                                                    .where(d.c.site_id == site)))
    assert marked == [date(2026, 3, 7), date(2026, 3, 8), date(2026, 3, 9)]
    rebuild_dirty(engine, datetime.now(UTC).replace(tzinfo=None))
    query = StatsQuery(site, "Asia/Kolkata", "custom", NOW, start=date(2026, 3, 6),
                       end=date(2026, 3, 9), interval="day")
    with engine.connect() as conn:
        series = timeseries(conn, query)
    assert series.source == "rollup"
    assert [p.metrics.visits for p in series.points] == [0, 1, 1, 1]
