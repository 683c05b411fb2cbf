"""Stats API: answers equal the query layer's; every refusal is a clear 4xx."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from beacon_app import create_app, state_of
from shared.accounts.api_keys import create_key, revoke_key
from shared.core import schema
from shared.core.settings import Settings
from shared.demo.run import DemoSpec, run_demo
from shared.reports import traffic as reports
from shared.reports.goals import list_goals
from shared.sites import add_site, require_site
from shared.stats.query import Filter, StatsQuery

NOW = datetime(2026, 3, 10, 15, 30)


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


def _post(client: FlaskClient, **body: Any) -> Any:
    body.setdefault("site_id", "demo.test")
    body.setdefault("date_range", "7d")
    return client.post("/api/v2/query", json=body)


def _stats(app: Flask, period: str = "7d", filters: tuple[Filter, ...] = ()) -> StatsQuery:
    with state_of(app).engine.connect() as conn:
        site = require_site(conn, "demo.test")
    return StatsQuery(site.id, site.timezone, period, NOW, filters=filters)


def test_totals_equal_the_query_layer(app: Flask, client: FlaskClient) -> None:
    res = _post(client, metrics=["visitors", "pageviews", "bounce_rate", "events"])
    assert res.status_code == 200, res.json
    with state_of(app).engine.connect() as conn:
        m = reports.totals(conn, _stats(app)).metrics
    # Plausible's `events` counts pageviews and custom events alike.
    assert res.json["results"] == [{"metrics": [m.visitors, m.pageviews,
                                                round(m.bounce_rate, 2), m.pageviews + m.events],
                                    "dimensions": []}]
    assert m.visitors > 0
    q = res.json["query"]
    assert q["date_range"][0].startswith("2026-03-04T00:00:00+01:00")
    assert q["date_range"][1].startswith("2026-03-10T23:59:59+01:00")


def test_breakdown_with_filter_order_and_pagination(app: Flask, client: FlaskClient) -> None:
    body = {"metrics": ["visitors", "pageviews"], "dimensions": ["visit:source"],
            "filters": [["is", "visit:country", ["DE", "US"]]],
            "order_by": [["visitors", "desc"]], "pagination": {"limit": 3, "offset": 1}}
    res = _post(client, **body)
    assert res.status_code == 200, res.json
    query = _stats(app, filters=(Filter("country", "is", ("DE", "US")),))
    with state_of(app).engine.connect() as conn:
        rows = reports.breakdown(conn, query, "source", limit=3, offset=1).rows
    # Direct traffic has no source: the API names it as Plausible does.
    assert res.json["results"] == [{"metrics": [r.metrics.visitors, r.metrics.pageviews],
                                    "dimensions": [r.value or "Direct / None"]} for r in rows]
    assert len(rows) == 3 and "Direct / None" in str(res.json["results"])
    # ...and the name filters it too.
    direct = _post(client, metrics=["visitors"], filters=[["is", "visit:source",
                                                           ["Direct / None"]]])
    query = _stats(app, filters=(Filter("source", "is", ("",)),))
    with state_of(app).engine.connect() as conn:
        expected = reports.totals(conn, query).metrics.visitors
    assert direct.json["results"][0]["metrics"] == [expected] and expected > 0


def test_custom_order_total_rows_and_percentage(client: FlaskClient) -> None:
    res = _post(client, metrics=["visitors", "percentage"], dimensions=["visit:device"],
                order_by=[["visit:device", "asc"]], include={"total_rows": True})
    assert res.status_code == 200, res.json
    devices = [r["dimensions"][0] for r in res.json["results"]]
    assert devices == sorted(devices) == ["desktop", "mobile", "tablet"]
    assert res.json["meta"]["total_rows"] == 3
    assert sum(r["metrics"][1] for r in res.json["results"]) == pytest.approx(100, abs=0.1)


def test_timeseries_and_time_labels(client: FlaskClient) -> None:
    res = _post(client, metrics=["visits"], dimensions=["time:day"],
                include={"time_labels": True})
    assert res.status_code == 200, res.json
    labels = res.json["meta"]["time_labels"]
    assert labels == [date(2026, 3, d).isoformat() for d in range(4, 11)]
    assert [r["dimensions"][0] for r in res.json["results"]] == labels
    assert all(r["metrics"][0] > 0 for r in res.json["results"])


def test_time_and_dimension_and_props(client: FlaskClient) -> None:
    res = _post(client, metrics=["visitors"], dimensions=["time:day", "visit:device"],
                date_range=["2026-03-08", "2026-03-09"])
    assert res.status_code == 200, res.json
    pairs = {tuple(r["dimensions"]) for r in res.json["results"]}
    assert ("2026-03-08", "desktop") in pairs and ("2026-03-09", "mobile") in pairs
    res = _post(client, metrics=["events"], dimensions=["event:props:plan"],
                filters=[["is", "event:name", ["Signup", "Purchase"]]], date_range="all")
    assert res.status_code == 200, res.json
    assert {r["dimensions"][0] for r in res.json["results"]} <= {"free", "pro", "team"}
    assert res.json["results"]


@pytest.mark.parametrize("body,needle", [
    ({"metrics": ["visitors", "bogus", "nope"]}, "unknown metrics: bogus, nope"),
    ({"metrics": []}, "metrics must be a non-empty list"),
    ({"metrics": ["visitors"], "dimensions": ["visit:shoe_size"]}, "unknown dimensions"),
    ({"metrics": ["visitors"], "filters": [["like", "visit:country", ["DE"]]]},
     "unknown filter operator"),
    ({"metrics": ["visitors"], "filters": [["or", []]]}, "must look like"),
    ({"metrics": ["visitors"], "filters": [["is", "visit:country", []]]},
     "non-empty list of values"),
    ({"metrics": ["visitors"], "date_range": "fortnight"}, "date_range must be"),
    ({"metrics": ["visitors"], "date_range": ["2026-03-09", "2026-03-01"]}, "not be after"),
    ({"metrics": ["visitors"], "pagination": {"limit": 0}}, "pagination.limit"),
    ({"metrics": ["visitors"], "order_by": [["pageviews", "desc"]]}, "order_by names"),
    ({"metrics": ["visitors"], "include": {"magic": True}}, "unknown include"),
    ({"metrics": ["visitors"], "colour": "red"}, "unknown fields: colour"),
    ({"metrics": ["percentage"], "dimensions": ["time:day"]}, "percentage needs"),
    ({"metrics": ["visitors"], "dimensions": ["time:hour", "visit:os"]}, "cannot be combined"),
], ids=["metrics", "no-metrics", "dimension", "operator", "or", "values", "period", "range",
        "limit", "order", "include", "field", "percentage", "hour-combo"])
def test_bad_queries_are_400_with_reasons(client: FlaskClient, body: dict, needle: str) -> None:
    res = _post(client, **body)
    assert res.status_code == 400, res.json
    assert needle in res.json["error"]           # Plausible's shape: {"error": "..."}
    assert any(needle in reason for reason in res.json["reasons"]), res.json["reasons"]


def test_every_problem_is_listed_at_once(client: FlaskClient) -> None:
    res = _post(client, metrics=["bogus"], dimensions=["visit:nope"], date_range="x")
    assert res.status_code == 400 and len(res.json["reasons"]) == 3


def test_body_must_be_json(client: FlaskClient) -> None:
    res = client.post("/api/v2/query", data="site_id=demo.test", content_type="text/plain")
    assert res.status_code == 400 and "JSON object" in res.json["reasons"][0]


def test_authentication_and_site_scope(app: Flask, client: FlaskClient) -> None:
    anon = app.test_client()
    body = {"site_id": "demo.test", "metrics": ["visitors"], "date_range": "7d"}
    res = anon.post("/api/v2/query", json=body)
    assert res.status_code == 401 and "Authorization: Bearer" in res.json["error"]
    assert res.headers["WWW-Authenticate"].startswith("Bearer")
    res = anon.post("/api/v2/query", json=body, headers={"Authorization": "Bearer bk_live_x"})
    assert res.status_code == 401
    other = _key(app, "other.test")
    res = anon.post("/api/v2/query", json=body, headers={"Authorization": f"Bearer {other}"})
    assert res.status_code == 403
    res = _post(client, site_id="missing.test", metrics=["visitors"])
    assert res.status_code == 403
    with state_of(app).engine.begin() as conn:
        revoke_key(conn, require_site(conn, "other.test").id, other[:12], now=NOW)
    body["site_id"] = "other.test"
    res = anon.post("/api/v2/query", json=body, headers={"Authorization": f"Bearer {other}"})
    assert res.status_code == 401 and "revoked" in res.json["error"]


def test_keys_are_hashed_at_rest(app: Flask) -> None:
    token = _key(app, "demo.test")
    with state_of(app).engine.connect() as conn:
        rows = conn.execute(sa.select(schema.api_keys)).all()
    stored = repr([tuple(r) for r in rows])
    assert token not in stored and token[12:] not in stored
    assert any(len(r.key_hash) == 64 and token.startswith(r.prefix) for r in rows)


def test_openapi_document_describes_the_endpoint(client: FlaskClient) -> None:
    import jsonschema

    doc = client.get("/api/v2/openapi.json").json
    assert doc["openapi"].startswith("3.1")
    op = doc["paths"]["/api/v2/query"]["post"]
    assert {"200", "400", "401", "403"} <= set(op["responses"])
    schema_ = doc["components"]["schemas"]["Query"]
    body = {"site_id": "demo.test", "metrics": ["visitors", "bounce_rate"], "date_range": "30d",
            "dimensions": ["time:day", "event:props:plan"],
            "filters": [["is", "visit:country", ["DE"]]], "pagination": {"limit": 5}}
    jsonschema.Draft202012Validator(schema_).validate(body)
    assert _post(client, **body).status_code == 200
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema_).validate({**body, "metrics": ["bogus"]})


def test_conversion_rates_per_group(app: Flask, client: FlaskClient) -> None:
    res = _post(client, metrics=["visitors", "conversion_rate", "group_conversion_rate"],
                dimensions=["visit:device"], filters=[["is", "event:goal", ["Signup"]]],
                date_range="all")
    assert res.status_code == 200, res.json
    with state_of(app).engine.connect() as conn:
        site = require_site(conn, "demo.test")
        signup = next(g for g in list_goals(conn, site.id)
                      if g.display_name == "Signup")
        q = StatsQuery(site.id, site.timezone, "all", NOW)
        everyone = reports.totals(conn, q).metrics.visitors
        groups = {r.value: r.metrics.visitors
                  for r in reports.breakdown(conn, q, "device", limit=100).rows}
        converted = {r.value: r.metrics.visitors for r in reports.breakdown(
            conn, q.with_filters(signup.as_filter()), "device", limit=100).rows}
    assert converted
    assert {r["dimensions"][0]: r["metrics"] for r in res.json["results"]} == {
        d: [v, round(100 * v / everyone, 2), round(100 * v / groups[d], 2)]
        for d, v in converted.items()}


def test_realtime_and_minutes(app: Flask, client: FlaskClient) -> None:
    from datetime import timedelta

    from shared.stats import raw
    from shared.storage import dialect_for

    res = _post(client, metrics=["visitors", "pageviews"], date_range="realtime",
                dimensions=["time:minute"], include={"time_labels": True})
    assert res.status_code == 200, res.json
    assert len(res.json["meta"]["time_labels"]) == 30
    with state_of(app).engine.connect() as conn:
        site = require_site(conn, "demo.test")
        q = StatsQuery(site.id, site.timezone, "today", NOW)
        scope = raw.Scope(site.id, NOW - timedelta(minutes=30), NOW, q.tz)
        sub = raw.ingredient_rows(scope, dialect_for(conn)).subquery()
        pageviews = conn.execute(sa.select(sa.func.sum(sub.c.pageviews))).scalar() or 0
    assert sum(r["metrics"][1] for r in res.json["results"]) == pageviews
    total = _post(client, metrics=["pageviews"], date_range="30m")
    assert total.json["results"][0]["metrics"] == [pageviews]
