"""Stats API: saved segments as filters (`["is", "segment", [id]]`) and the screen size
dimension, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from beacon_app import create_app, state_of
from shared.accounts.api_keys import create_key
from shared.core.settings import Settings
from shared.demo.run import DemoSpec, run_demo
from shared.reports.segments import add_segment
from shared.sites import require_site
from shared.stats.query import Filter

NOW = datetime(2026, 3, 10, 15, 30)
METRICS = ["visitors", "visits", "pageviews", "bounce_rate"]


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    flask_app = create_app(settings, clock=lambda: NOW)
    run_demo(state_of(flask_app).engine, DemoSpec("demo.test", days=10, events=3000, seed=3,
                                                  timezone="Europe/Berlin"),
             now=NOW, rebuild=False)
    yield flask_app
    state_of(flask_app).close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    with state_of(app).engine.begin() as conn:
        token, _ = create_key(conn, require_site(conn, "demo.test").id, "test", now=NOW)
    c = app.test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = "Bearer " + token
    return c


def _post(client: FlaskClient, **body: Any) -> Any:
    body.setdefault("site_id", "demo.test")
    body.setdefault("date_range", "7d")
    body.setdefault("metrics", METRICS)
    return client.post("/api/v2/query", json=body)


def _segment(app: Flask, shared: bool, *filters: Filter) -> int:
    with state_of(app).engine.begin() as conn:
        site = require_site(conn, "demo.test")
        return add_segment(conn, site.id, "s", filters, owner_id=7, shared=shared,
                           now=NOW).id


def test_a_shared_segment_filters_as_its_filters(app: Flask, client: FlaskClient) -> None:
    seg = _segment(app, True, Filter("country", "is", ("DE",)),
                   Filter("device", "is", ("mobile",)))
    explicit = _post(client, filters=[["is", "visit:country", ["DE"]],
                                      ["is", "visit:device", ["mobile"]]])
    by_segment = _post(client, filters=[["is", "segment", [seg]]])
    assert by_segment.status_code == 200, by_segment.json
    assert by_segment.json["results"] == explicit.json["results"]
    assert 0 < explicit.json["results"][0]["metrics"][0] < _post(client).json[
        "results"][0]["metrics"][0]
    # with another filter beside it, inside an "and" too: all ANDed
    both = _post(client, filters=["and", [["is", "segment", [seg]],
                                          ["is", "visit:browser", ["Chrome"]]]])
    assert both.status_code == 200, both.json
    assert both.json["results"][0]["metrics"][0] <= by_segment.json["results"][0]["metrics"][0]


@pytest.mark.parametrize(("shape", "reason"), [
    (["is", "segment", ["1"]], "looks like"),
    (["is_not", "segment", [1]], "looks like"),
    (["is", "segment", [1, 2]], "looks like"),
], ids=["text-id", "operator", "two-ids"])
def test_a_bad_segment_filter_is_a_400(client: FlaskClient, shape: list, reason: str) -> None:
    res = _post(client, filters=[shape])
    assert res.status_code == 400
    assert any(reason in r for r in res.json["reasons"])


def test_a_private_or_unknown_segment_is_a_400_naming_it(app: Flask,
                                                         client: FlaskClient) -> None:
    private = _segment(app, False, Filter("country", "is", ("DE",)))
    for seg in (private, 999):
        res = _post(client, filters=[["is", "segment", [seg]]])
        assert res.status_code == 400
        assert res.json["reasons"] == [f"no segment {seg} on this site"]


def test_screen_size_is_a_dimension_and_a_filter(client: FlaskClient) -> None:
    res = _post(client, metrics=["visitors"], dimensions=["visit:screen_size"])
    assert res.status_code == 200, res.json
    sizes = {r["dimensions"][0]: r["metrics"][0] for r in res.json["results"]}
    assert set(sizes) == {"mobile", "tablet", "laptop", "desktop"}
    total = _post(client, metrics=["visitors"]).json["results"][0]["metrics"][0]
    mobile = _post(client, metrics=["visitors"],
                   filters=[["is", "visit:screen_size", ["mobile"]]])
    assert mobile.json["results"][0]["metrics"][0] == sizes["mobile"] < total
