"""Reports on a small hand-computed fixture, answered from raw events and from rollups.

Site in Europe/Berlin (UTC+1 in early March). Local day 2026-03-09:
  A  visitor 100: 10:00 pageview / (Google), 10:00:30 engagement / 10 s scroll 40,
     10:01 pageview /pricing, 10:02 signup on /pricing (plan=pro, 10.0),
     10:03 engagement /pricing 20 s scroll 80            -> 2 pv, no bounce, 140 s
  B  visitor 200: 11:00 pageview /blog/post-1 (direct, US, Mobile),
     11:00:40 engagement 5 s scroll 100                   -> bounce, 5 s
  C  visitor 100: 16:00 pageview /pricing (Twitter), 16:00:10 non-interactive
     "outbound" event on /pricing                         -> bounce, 10 s
  D  visitor 300: 23:50 pageview / (Google, FR), then 00:10 on 03-10 pageview
     /blog/post-2: one visit on each local day, both bounces of 0 s.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa

from shared.reports import (
    BreakdownSpec,
    Filter,
    FunnelStep,
    QueryError,
    StatsQuery,
    add_funnel,
    add_goal,
    breakdown,
    breakdowns,
    funnel_report,
    goal_conversions,
    realtime,
    rebuild_dirty,
    timeseries,
    totals,
)
from tests.queries.factory import event, make_site, store

TZ = "Europe/Berlin"
NOW = datetime(2026, 3, 11, 12, 0)
DAY9, DAY10 = date(2026, 3, 9), date(2026, 3, 10)


def _fixture_rows(site: int) -> list[dict]:
    t = datetime
    return [
        event(site, t(2026, 3, 9, 9, 0), "pageview", 1, 100, referrer_source="Google"),
        event(site, t(2026, 3, 9, 9, 0, 30), "engagement", 1, 100, engagement_ms=10_000,
              scroll_depth=40),
        event(site, t(2026, 3, 9, 9, 1), "pageview", 1, 100, pathname="/pricing"),
        event(site, t(2026, 3, 9, 9, 2), "signup", 1, 100, pathname="/pricing",
              props={"plan": "pro"}, revenue_amount=10.0, revenue_currency="EUR"),
        event(site, t(2026, 3, 9, 9, 3), "engagement", 1, 100, pathname="/pricing",
              engagement_ms=20_000, scroll_depth=80),
        event(site, t(2026, 3, 9, 10, 0), "pageview", 2, 200, pathname="/blog/post-1",
              country="US", browser="Chrome", device="Mobile"),
        event(site, t(2026, 3, 9, 10, 0, 40), "engagement", 2, 200, pathname="/blog/post-1",
              engagement_ms=5_000, scroll_depth=100, country="US", device="Mobile"),
        event(site, t(2026, 3, 9, 15, 0), "pageview", 3, 100, pathname="/pricing",
              referrer_source="Twitter"),
        event(site, t(2026, 3, 9, 15, 0, 10), "outbound", 3, 100, pathname="/pricing",
              interactive=False),
        event(site, t(2026, 3, 9, 22, 50), "pageview", 4, 300, referrer_source="Google",
              country="FR"),
        event(site, t(2026, 3, 9, 23, 10), "pageview", 4, 300, pathname="/blog/post-2",
              referrer_source="Google", country="FR"),
    ]


@pytest.fixture(params=["raw", "rollup"])
def site(request: pytest.FixtureRequest, engine) -> int:
    """The fixture site; for "rollup" its days are rebuilt, for "raw" they stay dirty."""
    site_id = make_site(engine, "example.com", TZ)
    store(engine, _fixture_rows(site_id), {site_id: TZ}, NOW)
    if request.param == "rollup":
        assert rebuild_dirty(engine, NOW) == 2
    request.node.path_kind = request.param
    return site_id


def q(site: int, first: date = DAY9, last: date = DAY9, **kw) -> StatsQuery:
    return StatsQuery(site, TZ, "custom", NOW, start=first, end=last, **kw)


def test_totals(engine, site, request):
    with engine.connect() as conn:
        t = totals(conn, q(site, comparison="previous_period"))
    m = t.metrics
    assert (m.visitors, m.visits, m.pageviews, m.events) == (3, 4, 5, 2)
    assert m.bounce_rate == 75.0
    assert m.views_per_visit == 1.25
    assert m.visit_duration == 38.75                 # (140 + 5 + 10 + 0) s / 4
    assert m.time_on_page == 7.0                     # 35 s engaged / 5 pageviews
    assert m.scroll_depth == pytest.approx(220 / 3)
    assert m.revenue == 10.0
    assert t.source == request.node.path_kind
    assert t.previous is not None and t.previous.visitors == 0
    # An earlier period without visits is no baseline: no change, not "+75 pt".
    assert t.changes["visitors"] is None and t.changes["bounce_rate"] is None


def test_visitors_are_summed_daily_and_midnight_splits_the_visit(engine, site):
    with engine.connect() as conn:
        m = totals(conn, q(site, DAY9, DAY10)).metrics
        day10 = breakdown(conn, q(site, DAY10, DAY10), "entry_page").rows
    assert (m.visitors, m.visits, m.pageviews, m.bounce_rate) == (4, 5, 6, 80.0)
    assert [(r.value, r.metrics.visits) for r in day10] == [("/blog/post-2", 1)]


def _rows(b) -> list[tuple]:
    return [(r.value, r.metrics.visitors, r.metrics.visits, r.metrics.pageviews,
             r.metrics.bounce_rate) for r in b.rows]


def test_breakdowns(engine, site):
    with engine.connect() as conn:
        pages = breakdown(conn, q(site), "page")
        sources = breakdown(conn, q(site), "source")
        entry = breakdown(conn, q(site), "entry_page")
        exits = breakdown(conn, q(site), "exit_page")
        events = breakdown(conn, q(site), "event")
        plan = breakdown(conn, q(site), "prop:plan")
    assert _rows(pages) == [("/", 2, 2, 2, 50.0), ("/blog/post-1", 1, 1, 1, 100.0),
                            ("/pricing", 1, 2, 2, 50.0)]
    assert pages.rows[0].metrics.time_on_page == 5.0       # 10 s engaged / 2 pageviews
    assert pages.rows[2].metrics.revenue == 10.0 and pages.rows[2].metrics.events == 2
    assert _rows(sources) == [("Google", 2, 2, 3, 50.0), ("", 1, 1, 1, 100.0),
                              ("Twitter", 1, 1, 1, 100.0)]
    assert [(r.value, r.metrics.visits) for r in entry.rows] == [
        ("/", 2), ("/blog/post-1", 1), ("/pricing", 1)]
    assert [(r.value, r.metrics.visits) for r in exits.rows] == [
        ("/", 1), ("/blog/post-1", 1), ("/pricing", 2)]
    assert [(r.value, r.metrics.events) for r in events.rows] == [
        ("pageview", 0), ("outbound", 1), ("signup", 1)]
    assert [(r.value, r.metrics.events, r.metrics.revenue) for r in plan.rows] == [
        ("pro", 1, 10.0)]
    assert plan.source == "raw"


def test_top_n_offset_and_has_more(engine, site):
    with engine.connect() as conn:
        first = breakdown(conn, q(site), "page", limit=2)
        rest = breakdown(conn, q(site), "page", limit=2, offset=2)
    assert [r.value for r in first.rows] == ["/", "/blog/post-1"] and first.has_more
    assert [r.value for r in rest.rows] == ["/pricing"] and not rest.has_more


def test_breakdowns_of_one_query_share_one_read_of_the_visits(engine, site, request):
    # Two filters that keep every visit of day 9 (no visit from Japan or Bing).
    query = q(site, filters=(Filter("country", "is_not", ("JP",)),
                             Filter("source", "is_not", ("Bing",))))
    specs = [BreakdownSpec("entry_page"), BreakdownSpec("exit_page", 1, "visits"),
             BreakdownSpec("source", 5, "pageviews"), BreakdownSpec("country"),
             BreakdownSpec("page")]
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute",
                    lambda conn, cursor, statement, *rest: statements.append(statement))
    with engine.connect() as conn:
        one = {s: breakdown(conn, query, s.dimension, limit=s.limit, order_by=s.order_by)
               for s in specs}
        statements.clear()
        many = breakdowns(conn, query, specs)
    assert many == one
    assert _rows(many[specs[0]]) == [("/", 2, 2, 3, 50.0), ("/blog/post-1", 1, 1, 1, 100.0),
                                     ("/pricing", 1, 1, 1, 100.0)]
    exits = many[specs[1]]
    assert [r.value for r in exits.rows] == ["/pricing"] and exits.has_more   # by visits
    assert [r.value for r in many[specs[2]].rows] == ["Google", "", "Twitter"]
    assert {b.source for b in many.values()} == {request.node.path_kind}
    # the five breakdowns (four by visit dimensions, one by page) in one statement
    reads = [s for s in statements if "dirty_days" not in s]
    assert len(reads) == 1 and "shared_visits" in reads[0]


def test_breakdowns_check_every_spec(engine, site):
    with engine.connect() as conn, pytest.raises(QueryError, match="unknown dimension"):
        breakdowns(conn, q(site), [BreakdownSpec("source"), BreakdownSpec("nope")])
    with engine.connect() as conn, pytest.raises(QueryError, match="cannot order by"):
        breakdowns(conn, q(site), [BreakdownSpec("source", order_by="bounce_rate")])
    with engine.connect() as conn, pytest.raises(QueryError, match="limit"):
        breakdowns(conn, q(site), [BreakdownSpec("source", limit=0)])


def test_filters(engine, site, request):
    def tot(*filters: Filter):
        with engine.connect() as conn:
            return totals(conn, q(site, filters=filters))

    pricing = tot(Filter("page", "is", ("/pricing",)))
    m = pricing.metrics
    assert (m.visitors, m.visits, m.pageviews, m.events, m.bounce_rate) == (1, 2, 2, 2, 50.0)
    assert m.visit_duration == 75.0
    assert pricing.source == request.node.path_kind         # one `is` filter: rollups
    google = tot(Filter("source", "is", ("Google",))).metrics
    assert (google.visitors, google.visits, google.pageviews) == (2, 2, 3)
    both = tot(Filter("source", "is", ("Google",)), Filter("page", "matches", ("/pric*",)))
    assert (both.metrics.visits, both.metrics.pageviews, both.metrics.events) == (1, 1, 1)
    assert both.source == "raw"
    assert tot(Filter("page", "matches", ("/blog/**",))).metrics.visits == 1
    assert tot(Filter("page", "matches", ("/*",))).metrics.visits == 3
    assert tot(Filter("page", "contains", ("BLOG",))).metrics.visits == 1
    assert tot(Filter("source", "is_not", ("Google",))).metrics.visits == 2
    assert tot(Filter("source", "not_contains", ("goo",))).metrics.visits == 2
    assert tot(Filter("source", "not_matches", ("Goo*",))).metrics.visits == 2
    assert tot(Filter("country", "is_any_of", ("US", "FR"))).metrics.visitors == 2
    assert tot(Filter("prop:plan", "is", ("pro",))).metrics.visits == 1
    assert tot(Filter("prop:plan", "is_not", ("pro",))).metrics.visits == 4


def test_breakdown_filtered_on_its_own_dimension(engine, site, request):
    with engine.connect() as conn:
        b = breakdown(conn, q(site, filters=(Filter("page", "matches", ("/*",)),)), "page")
    assert [r.value for r in b.rows] == ["/", "/pricing"]
    assert b.source == request.node.path_kind


def test_timeseries_daily_and_hourly(engine, site, request):
    with engine.connect() as conn:
        daily = timeseries(conn, q(site, DAY9, date(2026, 3, 11)))
        hourly = timeseries(conn, q(site))
    assert daily.interval == "day"
    assert [(p.bucket.day, p.metrics.visitors) for p in daily.points] == [
        (9, 3), (10, 1), (11, 0)]
    # Day 11 was never dirty: with days 9-10 dirty the answer mixes both paths.
    assert daily.source == ("rollup" if request.node.path_kind == "rollup" else "mixed")
    assert hourly.interval == "hour" and len(hourly.points) == 24
    active = {p.bucket.hour: (p.metrics.visitors, p.metrics.pageviews)
              for p in hourly.points if p.metrics.visits}
    assert active == {10: (1, 2), 11: (1, 1), 16: (1, 1), 23: (1, 1)}


def test_week_and_month_buckets_sum_days(engine, site):
    with engine.connect() as conn:
        weekly = timeseries(conn, q(site, date(2026, 3, 1), date(2026, 3, 15),
                                    interval="week"))
    assert [p.bucket.date() for p in weekly.points] == [
        date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 9)]
    assert [p.metrics.visitors for p in weekly.points] == [0, 0, 4]


def test_weekly_series_with_the_previous_period_read_at_once(engine, site):
    # 14 days from 10 March (1 visitor); the previous 14 days end on 9 March (3 visitors).
    query = q(site, DAY10, date(2026, 3, 23), interval="week",
              comparison="previous_period")
    with engine.connect() as conn:
        both = timeseries(conn, query)
        now = timeseries(conn, q(site, DAY10, date(2026, 3, 23), interval="week"))
        before = timeseries(conn, q(site, date(2026, 2, 24), DAY9, interval="week"))
    assert both.points == now.points and both.previous == before.points
    assert [(p.bucket.date(), p.metrics.visitors) for p in both.points] == [
        (DAY10, 1), (date(2026, 3, 16), 0), (date(2026, 3, 23), 0)]
    assert [(p.bucket.date(), p.metrics.visitors) for p in both.previous] == [
        (date(2026, 2, 24), 0), (date(2026, 3, 2), 0), (DAY9, 3)]


def test_goals(engine, site):
    with engine.begin() as conn:
        add_goal(conn, site, event_name="signup", currency="eur", now=NOW)
        add_goal(conn, site, event_name="signup", prop_key="plan", prop_value="free", now=NOW)
        add_goal(conn, site, page_path="/pricing", now=NOW)
        add_goal(conn, site, page_path="/blog/**", now=NOW)
    with engine.connect() as conn:
        results = goal_conversions(conn, q(site))
    got = [(r.conversions, r.completions, round(r.conversion_rate, 2), r.revenue)
           for r in results]
    assert got == [(1, 1, 33.33, 10.0), (0, 0, 0.0, 0.0), (1, 2, 33.33, 0.0),
                   (1, 1, 33.33, 0.0)]
    assert results[0].goal.currency == "EUR" and results[0].other_revenue == {}


def test_goal_revenue_is_kept_apart_per_currency(engine, site):
    """A EUR goal sums EUR amounts only; USD amounts of the same goal are reported apart
    (7,516 EUR + 2,648.7 USD is not 10,164.7 of anything)."""
    rows = [event(site, datetime(2026, 3, 9, 11, n), "purchase", 50 + n, 500 + n,
                  revenue_amount=amount, revenue_currency=code)
            for n, (amount, code) in enumerate([(7000.0, "EUR"), (516.0, "EUR"),
                                                (2648.7, "USD")])]
    store(engine, rows, {site: TZ}, NOW)
    with engine.begin() as conn:
        eur = add_goal(conn, site, event_name="purchase", currency="EUR", now=NOW)
        plain = add_goal(conn, site, event_name="purchase", display_name="No currency",
                         now=NOW)
        with pytest.raises(QueryError, match="ISO 4217"):
            add_goal(conn, site, event_name="purchase", currency="euro", now=NOW)
    with engine.connect() as conn:
        by_goal = {r.goal.id: r for r in goal_conversions(conn, q(site), [eur, plain])}
    assert by_goal[eur.id].revenue == 7516.0
    assert by_goal[eur.id].other_revenue == {"USD": 2648.7}
    assert by_goal[eur.id].conversions == 3
    assert by_goal[plain.id].revenue == 0.0
    assert by_goal[plain.id].other_revenue == {"EUR": 7516.0, "USD": 2648.7}


def test_funnel(engine, site):
    steps = [FunnelStep("page", "/"), FunnelStep("page", "/pricing"),
             FunnelStep("event", "signup")]
    with engine.begin() as conn:
        funnel = add_funnel(conn, site, "Signup", steps, now=NOW)
        backwards = add_funnel(conn, site, "Back", [steps[1], steps[0]], now=NOW)
    with engine.connect() as conn:
        report = funnel_report(conn, q(site), funnel)
        back = funnel_report(conn, q(site), backwards)
    assert [(s.visitors, s.visits, s.dropoff) for s in report.steps] == [
        (2, 2, 0), (1, 1, 1), (1, 1, 0)]
    assert report.steps[2].conversion_rate == 50.0
    assert [s.visits for s in back.steps] == [2, 0]


def test_realtime(engine, site):
    with engine.connect() as conn:
        now = realtime(conn, site, TZ, datetime(2026, 3, 9, 9, 3, 30))
    assert now.visitors == 1
    assert [r.value for r in now.top_pages] == ["/", "/pricing"]
    assert [r.value for r in now.top_sources] == ["Google"]
    assert len(now.per_minute) == 30
    assert sum(p.metrics.pageviews for p in now.per_minute) == 2


def _group(op: str, *children: Filter) -> Filter:
    return Filter("", op, (), children)


@pytest.mark.parametrize("filters, visits, visitors, pageviews", [
    ((_group("or", Filter("country", "is", ("US",)), Filter("source", "is", ("Twitter",))),),
     2, 2, 2),
    ((_group("not", Filter("country", "is", ("DE",))),), 2, 2, 2),
    ((_group("has_done", Filter("page", "is", ("/pricing",))),), 2, 1, 3),
    ((_group("has_not_done", Filter("page", "is", ("/pricing",))),), 2, 2, 2),
    ((Filter("page", "not_matches", ("/blog/**",)),), 3, 2, 4),
    ((_group("or", Filter("page", "is", ("/blog/post-1",)), Filter("event", "is", ("signup",))),),
     2, 2, 1),
    ((_group("has_done", Filter("event", "is", ("signup",))),
      Filter("page", "is", ("/pricing",))), 1, 1, 1),
], ids=["or-visit", "not-visit", "has_done", "has_not_done", "matches_not", "or-event",
        "has_done-and-event"])
def test_filter_groups(engine, site, filters, visits, visitors, pageviews):
    """or / not / has_done groups, by hand on the fixture (always answered raw)."""
    with engine.connect() as conn:
        t = totals(conn, q(site, filters=filters))
    assert (t.metrics.visits, t.metrics.visitors, t.metrics.pageviews) == (
        visits, visitors, pageviews)
    assert t.source == "raw"


def test_filter_groups_refuse_mixed_kinds():
    with pytest.raises(QueryError, match="cannot mix"):
        _group("or", Filter("country", "is", ("US",)), Filter("page", "is", ("/",)))
    with pytest.raises(QueryError, match="event dimensions"):
        _group("has_done", Filter("country", "is", ("US",)))
    with pytest.raises(QueryError, match="needs one filter"):
        _group("not", Filter("page", "is", ("/",)), Filter("page", "is", ("/a",)))
