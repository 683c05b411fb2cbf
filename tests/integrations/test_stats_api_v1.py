"""Stats API v1: Plausible's reference examples against Beacon; every number equals the
query layer's, every refusal is v1's `{"error": ...}` with a 4xx."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from beacon_app import create_app, state_of
from shared.accounts.api_keys import create_key, revoke_key
from shared.core.settings import Settings
from shared.demo.run import DemoSpec, run_demo
from shared.reports import traffic as reports
from shared.reports.goals import goal_conversions, list_goals
from shared.reports.realtime import current_visitors
from shared.sites import add_site, require_site
from shared.stats.query import Filter, StatsQuery

NOW = datetime(2026, 3, 10, 15, 30)
TODAY = date(2026, 3, 10)        # the site's local day at NOW (Europe/Berlin)


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    flask_app = create_app(settings, clock=lambda: NOW)
    engine = state_of(flask_app).engine
    run_demo(engine, DemoSpec("demo.test", days=10, events=3000, seed=3,
                              timezone="Europe/Berlin"), now=NOW, rebuild=False)
    with engine.begin() as conn:
        add_site(conn, "other.test", now=NOW)
    yield flask_app
    state_of(flask_app).close()


def _key(app: Flask, domain: str) -> str:
    with state_of(app).engine.begin() as conn:
        token, _ = create_key(conn, require_site(conn, domain).id, "test", now=NOW)
    return token


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    c = app.test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = "Bearer " + _key(app, "demo.test")
    return c


def _get(client: FlaskClient, endpoint: str, **params: Any) -> Any:
    params.setdefault("site_id", "demo.test")
    return client.get(f"/api/v1/stats/{endpoint}", query_string=params)


def _query(app: Flask, first: date, last: date, *filters: Filter,
           interval: str | None = None) -> StatsQuery:
    with state_of(app).engine.connect() as conn:
        site = require_site(conn, "demo.test")
    return StatsQuery(site.id, site.timezone, "custom", NOW, start=first, end=last,
                      filters=filters, interval=interval)


def _ok(res: Any) -> Any:
    assert res.status_code == 200, res.json
    return res.json


def test_realtime_visitors_is_a_bare_number(app: Flask, client: FlaskClient) -> None:
    body = _ok(_get(client, "realtime/visitors"))
    with state_of(app).engine.connect() as conn:
        expected = current_visitors(conn, require_site(conn, "demo.test").id, NOW)
    assert body == expected and isinstance(body, int)


def test_aggregate_6mo_reference_example(app: Flask, client: FlaskClient) -> None:
    body = _ok(_get(client, "aggregate", period="6mo",
                    metrics="visitors,pageviews,bounce_rate,visit_duration"))
    with state_of(app).engine.connect() as conn:
        m = reports.totals(conn, _query(app, date(2025, 10, 1), date(2026, 3, 31))).metrics
    assert m.visitors > 0
    assert body == {"results": {"visitors": {"value": m.visitors},
                                "pageviews": {"value": m.pageviews},
                                "bounce_rate": {"value": round(m.bounce_rate)},
                                "visit_duration": {"value": round(m.visit_duration)}}}


def test_aggregate_defaults_to_30d_and_visitors(app: Flask, client: FlaskClient) -> None:
    body = _ok(_get(client, "aggregate"))
    with state_of(app).engine.connect() as conn:
        m = reports.totals(conn, _query(app, date(2026, 2, 9), TODAY)).metrics
    assert body == {"results": {"visitors": {"value": m.visitors}}}


def test_aggregate_compare_previous_period(app: Flask, client: FlaskClient) -> None:
    body = _ok(_get(client, "aggregate", period="7d", date="2026-03-08",
                    metrics="visitors,bounce_rate", compare="previous_period"))
    with state_of(app).engine.connect() as conn:
        now = reports.totals(conn, _query(app, date(2026, 3, 2), date(2026, 3, 8))).metrics
        old = reports.totals(conn, _query(app, date(2026, 2, 23), date(2026, 3, 1))).metrics
    v = body["results"]["visitors"]
    assert v["value"] == now.visitors and v["comparison_value"] == old.visitors
    assert v["change"] == (100 if old.visitors == 0 and now.visitors else
                           round((now.visitors - old.visitors) / old.visitors * 100))
    b = body["results"]["bounce_rate"]
    assert b["value"] == round(now.bounce_rate)
    assert b["change"] == (None if not old.visits else round(now.bounce_rate)
                           - round(old.bounce_rate))


def test_aggregate_page_filter_example(app: Flask, client: FlaskClient) -> None:
    body = _ok(_get(client, "aggregate", period="6mo", filters="event:page==/pricing",
                    metrics="visitors,time_on_page"))
    q = _query(app, date(2025, 10, 1), date(2026, 3, 31), Filter("page", "is", ("/pricing",)))
    with state_of(app).engine.connect() as conn:
        m = reports.totals(conn, q).metrics
    assert m.visitors > 0
    top = None if m.time_on_page is None else round(m.time_on_page)
    assert body["results"] == {"visitors": {"value": m.visitors}, "time_on_page": {"value": top}}


def test_timeseries_6mo_monthly_from_google(app: Flask, client: FlaskClient) -> None:
    body = _ok(_get(client, "timeseries", period="6mo", filters="visit:source==Google"))
    q = _query(app, date(2025, 10, 1), date(2026, 3, 31), Filter("source", "is", ("Google",)),
               interval="month")
    with state_of(app).engine.connect() as conn:
        points = reports.timeseries(conn, q).points
    assert [r["date"] for r in body["results"]] == ["2025-10-01", "2025-11-01", "2025-12-01",
                                                     "2026-01-01", "2026-02-01", "2026-03-01"]
    assert [r["visitors"] for r in body["results"]] == [p.metrics.visitors for p in points]
    assert body["results"][-1]["visitors"] > 0


def test_timeseries_custom_connector_request(app: Flask, client: FlaskClient) -> None:
    """What data pipeline connectors ask: a custom range, five metrics, daily rows."""
    metrics = "visitors,pageviews,bounce_rate,visit_duration,visits"
    body = _ok(_get(client, "timeseries", period="custom", date="2026-03-01,2026-03-10",
                    metrics=metrics))
    with state_of(app).engine.connect() as conn:
        points = reports.timeseries(conn, _query(app, date(2026, 3, 1), TODAY,
                                                 interval="day")).points
    assert len(body["results"]) == 10
    for row, p in zip(body["results"], points, strict=True):
        assert row == {"date": p.bucket.date().isoformat(), "visitors": p.metrics.visitors,
                       "pageviews": p.metrics.pageviews, "visits": p.metrics.visits,
                       "bounce_rate": round(p.metrics.bounce_rate),
                       "visit_duration": round(p.metrics.visit_duration)}


def test_timeseries_day_is_hourly_and_interval_date_is_daily(client: FlaskClient) -> None:
    hours = _ok(_get(client, "timeseries", period="day"))["results"]
    assert len(hours) == 24 and hours[0]["date"] == "2026-03-10 00:00:00"
    days = _ok(_get(client, "timeseries", period="month", interval="date"))["results"]
    assert [r["date"] for r in days][:2] == ["2026-03-01", "2026-03-02"] and len(days) == 31
    months = _ok(_get(client, "timeseries", period="12mo", interval="month"))["results"]
    assert months[0]["date"] == "2025-04-01" and len(months) == 12


def test_breakdown_sources_reference_example(app: Flask, client: FlaskClient) -> None:
    body = _ok(_get(client, "breakdown", period="6mo", property="visit:source",
                    metrics="visitors,bounce_rate", limit="5"))
    with state_of(app).engine.connect() as conn:
        rows = reports.breakdown(conn, _query(app, date(2025, 10, 1), date(2026, 3, 31)),
                                 "source", limit=5).rows
    assert body == {"results": [{"source": r.value or "Direct / None",
                                 "visitors": r.metrics.visitors,
                                 "bounce_rate": round(r.metrics.bounce_rate)} for r in rows]}
    assert len(rows) == 5 and "" in [r.value for r in rows]      # direct traffic
    direct = _ok(_get(client, "aggregate", period="6mo", filters="visit:source==Direct / None"))
    assert direct["results"]["visitors"]["value"] == next(
        r.metrics.visitors for r in rows if r.value == "")


def test_breakdown_top_pages_pagination(app: Flask, client: FlaskClient) -> None:
    first = _ok(_get(client, "breakdown", property="event:page", limit="3"))["results"]
    second = _ok(_get(client, "breakdown", property="event:page", limit="3",
                      page="2"))["results"]
    with state_of(app).engine.connect() as conn:
        rows = reports.breakdown(conn, _query(app, date(2026, 2, 9), TODAY), "page",
                                 limit=6).rows
    assert first + second == [{"page": r.value, "visitors": r.metrics.visitors} for r in rows]


def test_breakdown_custom_property_under_a_goal_filter(app: Flask, client: FlaskClient) -> None:
    body = _ok(_get(client, "breakdown", period="6mo", property="event:props:file",
                    filters="event:goal==Download"))
    q = _query(app, date(2025, 10, 1), date(2026, 3, 31), Filter("event", "is", ("Download",)))
    with state_of(app).engine.connect() as conn:
        rows = reports.breakdown(conn, q, "prop:file", limit=100).rows
    assert body["results"] == [{"file": r.value, "visitors": r.metrics.visitors} for r in rows]
    assert rows


def test_goal_breakdown_and_conversion_rate(app: Flask, client: FlaskClient) -> None:
    body = _ok(_get(client, "breakdown", property="event:goal",
                    metrics="visitors,events,conversion_rate"))
    q = _query(app, date(2026, 2, 9), TODAY)
    with state_of(app).engine.connect() as conn:
        results = goal_conversions(conn, q, list_goals(conn, q.site_id))
    expected = sorted(({"goal": r.goal.display_name, "visitors": r.conversions,
                        "events": r.completions,
                        "conversion_rate": round(r.conversion_rate, 2)} for r in results
                       if r.conversions), key=lambda r: (-r["visitors"], r["goal"]))
    assert body["results"] == expected and len(expected) >= 3
    signup = next(r for r in expected if r["goal"] == "Signup")
    agg = _ok(_get(client, "aggregate", filters="event:goal==Signup",
                   metrics="visitors,conversion_rate"))["results"]
    assert agg == {"visitors": {"value": signup["visitors"]},
                   "conversion_rate": {"value": signup["conversion_rate"]}}
    page_goal = _ok(_get(client, "aggregate", filters="event:goal==Visit /pricing"))
    pricing = next(r for r in expected if r["goal"] == "Visit /pricing")
    assert page_goal["results"]["visitors"]["value"] == pricing["visitors"]


@pytest.mark.parametrize(("filters", "expected"), [
    ("visit:source==Google|Bing", (Filter("source", "is", ("Google", "Bing")),)),
    ("visit:country!=DE", (Filter("country", "is_not", ("DE",)),)),
    ("event:page==/blog*", (Filter("page", "matches", ("/blog*",)),)),
    ("event:page!=/pricing*;visit:device==Desktop",
     (Filter("page", "not_matches", ("/pricing*",)), Filter("device", "is", ("Desktop",)))),
    ("visit:utm_campaign==camp\\|one", (Filter("utm_campaign", "is", ("camp|one",)),)),
], ids=["or", "not", "wildcard", "not-wildcard-and", "escaped-bar"])
def test_filter_syntax(app: Flask, client: FlaskClient, filters: str,
                       expected: tuple[Filter, ...]) -> None:
    body = _ok(_get(client, "aggregate", filters=filters, metrics="visitors,pageviews"))
    with state_of(app).engine.connect() as conn:
        m = reports.totals(conn, _query(app, date(2026, 2, 9), TODAY, *expected)).metrics
    assert body["results"] == {"visitors": {"value": m.visitors},
                               "pageviews": {"value": m.pageviews}}


@pytest.mark.parametrize(("params", "status", "message"), [
    ({"period": "year"}, 400, "invalid period `year`"),
    ({"period": "custom"}, 400, "The `date` parameter is required"),
    ({"period": "custom", "date": "2026-03-01"}, 400, "two ISO-8601 formatted dates"),
    ({"date": "2026-13-01"}, 400, "Error parsing `date` parameter"),
    ({"metrics": "visitors,visitors"}, 400, "Metrics cannot be queried multiple times."),
    ({"metrics": "hits"}, 400, "The metric `hits` is not recognized"),
    ({"metrics": "conversion_rate"}, 400, "can only be queried in a goal breakdown"),
    ({"metrics": "time_on_page"}, 400, "page breakdown or with a page filter"),
    ({"filters": "visit:planet==Mars"}, 400, "Invalid filter property 'visit:planet'"),
    ({"filters": "visit:source"}, 400, "Invalid filter"),
    ({"filters": "event:goal==Nope"}, 400, "The goal `Nope` is not configured"),
    ({"compare": "yesterday"}, 400, "invalid value `yesterday`"),
    ({"site_id": ""}, 400, "Missing site ID"),
    ({"site_id": "other.test"}, 401, "Invalid API key or site ID"),
    ({"site_id": "nowhere.test"}, 401, "Invalid API key or site ID"),
], ids=lambda v: str(v)[:30])
def test_aggregate_refusals(client: FlaskClient, params: dict[str, str], status: int,
                            message: str) -> None:
    res = _get(client, "aggregate", **params)
    assert res.status_code == status and message in res.json["error"], res.json
    assert set(res.json) == {"error"}


@pytest.mark.parametrize(("endpoint", "params", "message"), [
    ("breakdown", {}, "The `property` parameter is required"),
    ("breakdown", {"property": "visit:planet"}, "Invalid property 'visit:planet'"),
    ("breakdown", {"property": "event:hostname"}, "not supported for breakdowns"),
    ("breakdown", {"property": "event:page", "limit": "1001"}, "between 1 and 1000"),
    ("breakdown", {"property": "event:page", "page": "0"}, "page as a positive number"),
    ("breakdown", {"property": "event:goal", "metrics": "bounce_rate"}, "goal breakdown"),
    ("timeseries", {"interval": "week"}, "invalid interval `week`"),
    ("breakdown", {"property": "event:props:" + "k" * 400}, "unknown dimension"),
    ("aggregate", {"filters": ";".join(["visit:os==Mac"] * 31)}, "At most 30 filters"),
    ("aggregate", {"period": "custom", "date": "1990-01-01,1990-01-31"}, "the period starts"),
    ("aggregate", {"filters": "event:page==" + "|".join(f"/p{i}*" for i in range(40))},
     "at most"),
    ("breakdown", {"property": "event:page", "limit": "ten"}, "between 1 and 1000"),
], ids=lambda v: str(v)[:30])
def test_endpoint_refusals(client: FlaskClient, endpoint: str, params: dict[str, str],
                           message: str) -> None:
    res = _get(client, endpoint, **params)
    assert res.status_code == 400 and message in res.json["error"], res.json


def test_keys_missing_unknown_and_revoked(app: Flask) -> None:
    c = app.test_client()
    res = c.get("/api/v1/stats/aggregate?site_id=demo.test")
    assert res.status_code == 401 and res.json == {"error": "Missing API key. Please use a "
                                                   "valid Plausible API key as a Bearer Token."}
    res = c.get("/api/v1/stats/aggregate?site_id=demo.test",
                headers={"Authorization": "Bearer bk_live_nope"})
    assert res.status_code == 401 and "Invalid API key" in res.json["error"]
    token = _key(app, "demo.test")
    with state_of(app).engine.begin() as conn:
        revoke_key(conn, require_site(conn, "demo.test").id, token[:12], now=NOW)
    res = c.get("/api/v1/stats/realtime/visitors?site_id=demo.test",
                headers={"Authorization": f"Bearer {token}"})
    assert res.status_code == 401
