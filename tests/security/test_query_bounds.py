"""The Stats API under the attack run's requests: each is a 400 naming the limit (never a
500, never minutes of work), nothing of the request reaches the log, and every read has
a time limit on both databases."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine

from beacon_app import create_app, state_of
from shared.accounts.api_keys import create_key
from shared.core.settings import Settings
from shared.demo.run import DemoSpec, run_demo
from shared.sites import require_site
from shared.storage.read_timeout import QueryTimeout, time_limit

NOW = datetime(2026, 3, 10, 15, 30)
PRIVATE_VALUE = "value-that-must-not-be-logged"


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    flask_app = create_app(settings, clock=lambda: NOW)
    run_demo(state_of(flask_app).engine, DemoSpec("demo.test", days=3, events=300, seed=2),
             now=NOW, rebuild=False)
    yield flask_app
    state_of(flask_app).writer.stop()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    with state_of(app).engine.begin() as conn:
        token, _ = create_key(conn, require_site(conn, "demo.test").id, "test", now=NOW)
    c = app.test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = "Bearer " + token
    return c


def _post(client: FlaskClient, **body: Any) -> Any:
    body.setdefault("site_id", "demo.test")
    body.setdefault("metrics", ["visitors"])
    body.setdefault("date_range", "7d")
    return client.post("/api/v2/query", json=body)


def _filters(n: int) -> list[list[Any]]:
    return [["is_not", "event:page", [f"/{PRIVATE_VALUE}/{i}"]] for i in range(n)]


ATTACKS = [
    ({"dimensions": ["time:minute"], "date_range": ["2025-03-10", "2026-03-10"]},
     "at most 10,000 are allowed"),
    ({"dimensions": ["time:hour"], "date_range": ["2022-01-01", "2026-03-10"]},
     "at most 10,000 are allowed"),
    ({"dimensions": ["time:day", "visit:source"], "date_range": ["2024-01-01", "2026-03-10"]},
     "at most 400 are allowed"),
    ({"date_range": ["0001-01-01", "9999-12-31"]}, "reports start on 2000-01-01"),
    ({"date_range": ["1900-01-01", "2026-03-10"]}, "reports start on 2000-01-01"),
    ({"date_range": ["2026-01-01", "9999-12-31"]}, "2027-03-11 at the latest"),
    ({"filters": _filters(1000)}, "1000 filters; at most 30"),
    ({"filters": ["and", [["and", _filters(20)], ["and", _filters(20)]]]}, "40 filters"),
    ({"filters": ["and", [["and", [["and", [["and", _filters(1)]]]]]]]}, "nested more than 3"),
    ({"filters": [["is", "event:page", [f"/{PRIVATE_VALUE}\x00"]]]}, "NUL characters"),
    ({"filters": [["matches", "event:page", [f"/{PRIVATE_VALUE}/" + "*" * 11]]]},
     "at most 10 are allowed"),
    ({"filters": [["is", "visit:country", [f"{PRIVATE_VALUE}{i}" for i in range(251)]]]},
     "at most 250 are allowed"),
    ({"filters": [["is", "event:props:plan\x00", ["pro"]]]}, "without NUL"),
    ({"dimensions": ["event:props:plan\x00"]}, "without NUL"),
    ({"dimensions": ["event:props:" + "k" * 301]}, "at most 300 characters"),
]


@pytest.mark.parametrize(("body", "reason"), ATTACKS,
                         ids=["minute-year", "hour-years", "day-breakdowns", "year-1-9999",
                              "1900", "far-future", "1000-filters", "nested-count",
                              "nested-depth", "nul", "stars", "values", "nul-prop-filter",
                              "nul-prop-dimension", "long-prop-key"])
def test_attack_queries_get_400_naming_the_limit_and_log_nothing(
        client: FlaskClient, caplog: pytest.LogCaptureFixture, body: dict[str, Any],
        reason: str) -> None:
    caplog.set_level(logging.DEBUG)
    res = _post(client, **body)
    assert res.status_code == 400, res.json
    assert any(reason in r for r in res.json["reasons"]), res.json
    assert len(res.json["reasons"]) <= 2           # one reason, not one per filter
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert PRIVATE_VALUE not in caplog.text


def test_a_body_nested_20000_deep_is_a_400(client: FlaskClient,
                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    body = '{"site_id": "demo.test", "filters": ' + "[" * 20_000 + "]" * 20_000 + "}"
    res = client.post("/api/v2/query", data=body, content_type="application/json")
    assert res.status_code == 400 and res.json["reasons"] == ["the body is nested too deeply"]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "RecursionError" not in caplog.text


def test_bounds_leave_ordinary_queries_alone(client: FlaskClient) -> None:
    for body in ({"dimensions": ["time:minute"], "date_range": "day"},
                 {"dimensions": ["time:hour"], "date_range": "12mo"},
                 {"dimensions": ["time:day", "visit:source"], "date_range": "12mo"},
                 {"date_range": ["2000-01-01", "2026-03-10"], "dimensions": ["time:month"]},
                 {"filters": _filters(30)}):
        res = _post(client, **body)
        assert res.status_code == 200, (body, res.json)


# --- the time limit of every read, on both databases ------------------------------------
def _endless(engine: Engine) -> sa.TextClause:
    """A read that would run for minutes without a limit (the limit is the only exit)."""
    if engine.dialect.name == "postgresql":
        return sa.text("SELECT pg_sleep(600)")
    return sa.text("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n "
                   "WHERE x < 5000000000) SELECT count(*) FROM n")


def test_a_read_past_its_limit_is_stopped_and_the_connection_stays_usable(
        engine: Engine) -> None:
    with engine.connect() as conn:
        with pytest.raises(QueryTimeout, match="longer than 0.2 s"), time_limit(conn, 0.2):
            conn.execute(_endless(engine))
        conn.rollback()
        assert conn.execute(sa.text("SELECT 1")).scalar() == 1
    with engine.connect() as conn:                  # the pooled connection has no limit left
        if engine.dialect.name == "postgresql":
            assert conn.execute(sa.text("SHOW statement_timeout")).scalar() == "0"
        else:
            raw = conn.connection.dbapi_connection
            assert raw is not None
            assert raw.execute("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n "
                               "WHERE x < 300000) SELECT count(*) FROM n").fetchone() == (300000,)


def test_the_stats_api_answers_503_when_a_query_is_stopped(
        app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """The endpoint's wiring: a report that outlives the limit is a 503 with the reason."""
    from beacon_app.stats_api import run as stats_exec

    def slow_report(conn: Any, *_args: Any) -> Any:
        conn.execute(_endless(state_of(app).engine))

    state = state_of(app)
    monkeypatch.setattr(state, "settings", _with_timeout(state.settings, 1))
    monkeypatch.setattr(stats_exec, "run", slow_report)
    res = _post(client)
    assert res.status_code == 503
    assert "longer than 1 s" in json.dumps(res.json)


def _with_timeout(settings: Settings, seconds: int) -> Settings:
    import dataclasses

    return dataclasses.replace(settings, query_timeout_seconds=seconds)
