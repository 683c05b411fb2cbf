"""Dropped bots are counted per site, UTC day, category and agent family through the
real beacon, on SQLite and PostgreSQL, and read back through `POST /api/v2/bots`."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa
from flask import Flask

from beacon_app import state_of
from shared.accounts.api_keys import create_key
from shared.core import schema
from shared.core.settings import Settings
from shared.sites import require_site

from .helpers import CHROME_UA, browser_headers, make_app, stored_events

NOW = datetime(2026, 3, 10, 15, 30)
PAGE = "https://example.com/pricing"
HIT = {"n": "pageview", "u": PAGE, "d": "example.com"}
GPTBOT = ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; "
          "+https://openai.com/gptbot)")
CLAUDE_USER = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Claude-User/1.0)"
REQUESTS = "python-requests/2.32.3"


@pytest.fixture
def app(settings: Settings) -> Flask:
    return make_app(settings, clock=lambda: NOW)


def _send(app: Flask, ua: str) -> str:
    resp = app.test_client().post("/api/event", json=HIT,
                                  headers=browser_headers(**{"User-Agent": ua}))
    assert resp.status_code == 202
    return resp.headers.get("X-Beacon-Drop", "")


def _bot_rows(app: Flask) -> dict[tuple[str, str], int]:
    state = state_of(app)
    state.metrics.flush_drops(state.engine)
    with state.engine.connect() as conn:
        rows = conn.execute(sa.select(schema.bot_counts))
        return {(r.category, r.family): int(r.count) for r in rows}


def test_bots_are_counted_by_category_and_family_without_their_agent(app: Flask) -> None:
    for ua in (GPTBOT, GPTBOT, CLAUDE_USER, REQUESTS):
        assert _send(app, ua) == "bot"
    assert _send(app, CHROME_UA) == ""
    assert len(stored_events(app)) == 1
    rows = _bot_rows(app)
    assert rows == {("ai_crawler", "GPTBot"): 2, ("ai_assistant", "Claude-User"): 1,
                    ("http_library", "python-requests"): 1}
    with state_of(app).engine.connect() as conn:
        stored = conn.execute(sa.select(schema.bot_counts)).all()
    assert all(GPTBOT not in str(tuple(r)) for r in stored)   # no agent string kept
    # a second flush adds to the stored counts
    _send(app, GPTBOT)
    assert _bot_rows(app)[("ai_crawler", "GPTBot")] == 3


def test_pixel_without_browser_headers_is_a_bot(app: Flask) -> None:
    bare = {"User-Agent": CHROME_UA, "X-Forwarded-For": "81.2.69.142"}
    resp = app.test_client().get("/p.gif", query_string={"u": PAGE}, headers=bare)
    assert resp.status_code == 200 and resp.headers["X-Beacon-Drop"] == "bot"
    resp = app.test_client().get("/", headers={**bare, "Referer": PAGE})
    assert resp.status_code == 204 and resp.headers["X-Beacon-Drop"] == "bot"
    resp = app.test_client().get("/p.gif", query_string={"u": PAGE}, headers=browser_headers())
    assert "X-Beacon-Drop" not in resp.headers
    assert _bot_rows(app) == {("http_library", "No browser headers"): 2}
    assert len(stored_events(app)) == 1


def test_events_api_does_not_ask_for_browser_headers(app: Flask) -> None:
    resp = app.test_client().post("/api/event", json=HIT,
                                  headers={"User-Agent": CHROME_UA})
    assert resp.status_code == 202 and "X-Beacon-Drop" not in resp.headers


def _key(app: Flask) -> str:
    with state_of(app).engine.begin() as conn:
        token, _ = create_key(conn, require_site(conn, "example.com").id, "test", now=NOW)
    return token


def test_stats_api_reports_bots_per_day_category_and_family(app: Flask) -> None:
    for ua in (GPTBOT, GPTBOT, CLAUDE_USER):
        _send(app, ua)
    _bot_rows(app)
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = "Bearer " + _key(app)
    res = client.post("/api/v2/bots", json={"site_id": "example.com", "date_range": "7d",
                                            "dimensions": ["day", "category", "family"]})
    assert res.status_code == 200, res.json
    assert res.json["results"] == [
        {"dimensions": ["2026-03-10", "ai_crawler", "GPTBot"], "metrics": [2]},
        {"dimensions": ["2026-03-10", "ai_assistant", "Claude-User"], "metrics": [1]}]
    assert res.json["total"] == 3
    assert res.json["query"]["date_range"] == ["2026-03-04", "2026-03-10"]
    only = client.post("/api/v2/bots", json={"site_id": "example.com",
                                             "dimensions": ["category"],
                                             "categories": ["ai_assistant"]})
    assert only.json["results"] == [{"dimensions": ["ai_assistant"], "metrics": [1]}]


@pytest.mark.parametrize(("body", "reason"), [
    ({"site_id": "example.com", "dimensions": ["agent"]}, "dimensions must be"),
    ({"site_id": "example.com", "categories": ["robots"]}, "categories must be"),
    ({"site_id": "example.com", "date_range": "soon"}, "date_range must be"),
    ({"site_id": "example.com", "pagination": {"limit": 0}}, "pagination.limit"),
    ({"site_id": "example.com", "metrics": ["visitors"]}, "unknown fields: metrics"),
    ({}, "site_id is required"),
], ids=["dimension", "category", "date-range", "limit", "unknown-field", "no-site"])
def test_stats_api_bots_refuses_bad_bodies(app: Flask, body: dict[str, object],
                                           reason: str) -> None:
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = "Bearer " + _key(app)
    res = client.post("/api/v2/bots", json=body)
    assert res.status_code == 400
    assert any(reason in r for r in res.json["reasons"]), res.json


def test_stats_api_bots_needs_the_sites_key(app: Flask) -> None:
    res = app.test_client().post("/api/v2/bots", json={"site_id": "example.com"})
    assert res.status_code == 401


def test_openapi_document_describes_the_bots_endpoint(app: Flask) -> None:
    doc = app.test_client().get("/api/v2/openapi.json").json
    bots = doc["paths"]["/api/v2/bots"]["post"]
    assert set(bots["responses"]) == {"200", "400", "401", "403"}
    query = doc["components"]["schemas"]["BotsQuery"]
    assert "ai_assistant" in query["properties"]["categories"]["items"]["enum"]
