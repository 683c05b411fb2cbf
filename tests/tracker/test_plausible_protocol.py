"""The exact request bodies Plausible's own tracker sends (current and older versions)
are accepted by /api/event and stored, on SQLite and PostgreSQL. This is what lets a
site point Plausible's script at the beacon unchanged.

The bodies are copied from what tracker/src of plausible/analytics builds: JSON posted
as text/plain; props as an object (older versions: a JSON string, plus `m` for meta and
`w` for the window width); revenue as `$`; `h: 1` in hash mode; `i: false` for
non-interactive events; engagement events with `sd` and `e`; `v` the script version.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from flask import Flask

from beacon_app import state_of
from shared.core.settings import Settings
from tests.beacon.helpers import browser_headers, make_app, stored_events

PAGE = "https://example.com/blog/post-1?utm_source=newsletter"

def _body(raw: str) -> str:
    return raw.replace("@PAGE@", PAGE)


CASES = [
    pytest.param('{"n":"pageview","v":27,"u":"https://example.com/blog/post-1","d":'
                 '"example.com","r":"https://news.ycombinator.com/item?id=1"}',
                 {"name": "pageview", "pathname": "/blog/post-1", "props": {},
                  "referrer_source": "Hacker News"}, id="current-pageview"),
    pytest.param('{"n":"pageview","u":"@PAGE@","d":"example.com","r":null,"w":1280}',
                 {"name": "pageview", "pathname": "/blog/post-1", "screen_size": "laptop"},
                 id="pageview-w"),
    pytest.param('{"n":"pageview","u":"https://example.com/app#/settings","d":"example.com",'
                 '"r":null,"h":1}',
                 {"name": "pageview", "pathname": "/app#/settings"}, id="hash-mode"),
    pytest.param('{"n":"Signup","u":"@PAGE@","d":"example.com","r":null,"p":{"plan":"pro plan",'
                 '"seats":3}}',
                 {"name": "Signup", "props": {"plan": "pro plan", "seats": "3"}},
                 id="props-object"),
    pytest.param('{"n":"Signup","u":"@PAGE@","d":"example.com","r":null,"p":"{\\"plan\\":'
                 '\\"pro\\"}"}',
                 {"name": "Signup", "props": {"plan": "pro"}}, id="legacy-props-string"),
    pytest.param('{"n":"Download","u":"@PAGE@","d":"example.com","r":null,"m":"{\\"file\\":'
                 '\\"a.pdf\\"}"}',
                 {"name": "Download", "props": {"file": "a.pdf"}}, id="legacy-meta-m"),
    pytest.param('{"n":"Purchase","u":"@PAGE@","d":"example.com","r":null,"$":{"amount":"29.90",'
                 '"currency":"EUR"}}',
                 {"name": "Purchase", "revenue_amount": 29.9, "revenue_currency": "EUR"},
                 id="revenue-from-class-names"),
    pytest.param('{"n":"Purchase","u":"@PAGE@","d":"example.com","r":null,"$":{"amount":12.5,'
                 '"currency":"usd"}}',
                 {"name": "Purchase", "revenue_amount": 12.5, "revenue_currency": "USD"},
                 id="revenue-number"),
    pytest.param('{"n":"Outbound Link: Click","u":"@PAGE@","d":"example.com","r":null,"p":{"url":'
                 '"https://github.com/x"}}',
                 {"name": "Outbound Link: Click", "props": {"url": "https://github.com/x"}},
                 id="outbound-link"),
    pytest.param('{"n":"Video Play","u":"@PAGE@","d":"example.com","r":null,"i":false}',
                 {"name": "Video Play", "interactive": False}, id="non-interactive"),
    pytest.param('{"n":"engagement","sd":57,"d":"example.com","u":"@PAGE@","p":{},"e":4200,'
                 '"v":27}',
                 {"name": "engagement", "scroll_depth": 57, "engagement_ms": 4200},
                 id="engagement"),
    pytest.param('{"n":"404","u":"https://example.com/nope","d":"example.com","r":null,'
                 '"p":{"path":"/nope"}}',
                 {"name": "404", "props": {"path": "/nope"}}, id="404"),
]


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    app = make_app(settings)
    yield app
    # Stop the writer thread before the test database goes away.
    state_of(app).writer.stop()


@pytest.mark.parametrize(("body", "expected"), CASES)
def test_plausible_bodies_are_stored(app: Flask, body: str, expected: dict) -> None:
    body = _body(body)
    json.loads(body)  # the case itself must be valid JSON, as the tracker's would be
    resp = app.test_client().post("/api/event", data=body,
                                  headers=browser_headers(**{"Content-Type": "text/plain"}))
    assert resp.status_code == 202, resp.get_data(as_text=True)
    assert "X-Beacon-Drop" not in resp.headers
    rows = stored_events(app)
    assert len(rows) == 1
    for column, value in expected.items():
        assert rows[0][column] == value, column


def test_several_domains_store_one_row_per_registered_site(app: Flask) -> None:
    """data-domain="example.com,other.org" sends both; only registered sites get a row."""
    body = _body('{"n":"pageview","u":"@PAGE@","d":"example.com,not-registered.org",'
                 '"r":null}')
    resp = app.test_client().post("/api/event", data=body,
                                  headers=browser_headers(**{"Content-Type": "text/plain"}))
    assert resp.status_code == 202
    assert resp.headers["X-Beacon-Drop"] == "unknown_site"
    assert [r["pathname"] for r in stored_events(app)] == ["/blog/post-1"]


def test_our_tracker_flags_automation(app: Flask) -> None:
    body = _body('{"n":"pageview","u":"@PAGE@","d":"example.com","r":null,"wd":true}')
    resp = app.test_client().post("/api/event", data=body,
                                  headers=browser_headers(**{"Content-Type": "text/plain"}))
    assert resp.status_code == 202
    assert resp.headers["X-Beacon-Drop"] == "automation"
    assert stored_events(app) == []
