"""The installation check of a new site, through the real beacon on SQLite and
PostgreSQL: no event yet, the hits it dropped per reason ("2 hits dropped: bot"), then
the first event; and the snippet check against a real HTTP server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask

from beacon_app import state_of
from shared.core.settings import Settings
from shared.reports.installation import DroppedHits, has_events, recent_drops
from shared.sites import require_site
from shared.tracking.snippet import SnippetOptions, render_snippet
from shared.tracking.snippet_check import check_page, find_snippet, page_url_allowed

from .helpers import CHROME_UA, browser_headers, make_app, stored_events

NOW = datetime(2026, 3, 10, 15, 30)
HIT = {"n": "pageview", "u": "https://example.com/pricing", "d": "example.com"}
GPTBOT = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2)"


@pytest.fixture
def app(settings: Settings) -> Flask:
    return make_app(settings, clock=lambda: NOW)


def _send(app: Flask, **headers: str) -> None:
    resp = app.test_client().post("/api/event", json=HIT, headers=browser_headers(**headers))
    assert resp.status_code == 202


def test_drops_are_listed_until_the_first_event_arrives(app: Flask) -> None:
    state = state_of(app)
    with state.engine.connect() as conn:
        site = require_site(conn, "example.com")
        assert not has_events(conn, site.id)
        assert recent_drops(conn, site.id, NOW.date()) == []
    _send(app, **{"User-Agent": GPTBOT})
    _send(app, **{"User-Agent": GPTBOT})
    _send(app, **{"User-Agent": ""})
    stored_events(app)
    state.metrics.flush_drops(state.engine)
    with state.engine.connect() as conn:
        drops = recent_drops(conn, site.id, NOW.date())
        assert not has_events(conn, site.id)
        # Another day's window no longer holds them.
        assert recent_drops(conn, site.id, NOW.date() + timedelta(days=8)) == []
    assert drops == [DroppedHits("bot", 2), DroppedHits("empty_user_agent", 1)]
    assert "bot" in drops[0].hint and "no user agent" in drops[1].hint
    _send(app, **{"User-Agent": CHROME_UA})
    assert len(stored_events(app)) == 1
    with state.engine.connect() as conn:
        assert has_events(conn, site.id)


SNIPPET = render_snippet(SnippetOptions(domains=("localhost",), host="https://stats.test"))
PAGES = {"/": f"<html><head>{SNIPPET}</head><body>hi</body></html>",
         "/other": '<html><head><script defer data-domain="other.test" '
                   'src="https://stats.test/js/script.js"></script></head></html>',
         "/none": "<html><head><title>x</title></head></html>"}


class _Pages(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        body = PAGES.get(self.path)
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write((body or "missing").encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def site_server() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


def test_snippet_check_fetches_the_sites_page(site_server: int) -> None:
    base = f"http://localhost:{site_server}"
    found = check_page(base + "/", "localhost")
    assert found.ok and "stats.test/js/script.js" in found.message
    other = check_page(base + "/other", "localhost")
    assert not other.ok and "other.test" in other.message
    assert not check_page(base + "/none", "localhost").ok
    assert "HTTP 404" in check_page(base + "/gone", "localhost").message


def test_snippet_check_fetches_only_the_sites_own_domain() -> None:
    assert page_url_allowed("https://www.example.com/a", "example.com")
    for url in ("http://127.0.0.1/", "file:///etc/passwd", "https://example.com.evil.test/",
                "https://evilexample.com/", "gopher://example.com/"):
        assert not page_url_allowed(url, "example.com"), url
        assert "Give an http(s) address" in check_page(url, "example.com").message


def test_find_snippet_reads_a_domain_list() -> None:
    html = '<script defer data-domain="a.test, example.com" src="/js/script.js?v=2"></script>'
    assert find_snippet(html, "example.com").ok
