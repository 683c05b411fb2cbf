"""`beacon web`'s WSGI app: beacon paths reach the beacon untouched, /dashboard/...
reaches the dashboard's port as sent (hop-by-hop headers aside), and a dashboard that
is not running gets a clear 503, never a hang or a traceback. The upstream is a real
HTTP server on loopback; the websocket relay is proven end to end by the drills and
the browser tests, which go through a real `beacon web`."""

from __future__ import annotations

import dataclasses
import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from werkzeug.test import Client

from beacon_cli import dashboard_proxy
from beacon_cli.dashboard_proxy import DashboardProxy
from beacon_cli.web import OnePortApp
from shared.core.settings import Settings
from tests.beacon.helpers import (
    browser_headers,
    make_app,
    stop_created_writers,  # noqa: F401 - an autouse fixture
    stored_events,
)
from tests.beacon.server import free_port


class _Upstream(BaseHTTPRequestHandler):
    """Echoes what it received as JSON, with a hop-by-hop header of its own."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.dumps({"method": self.command, "path": self.path,
                           "headers": {k.lower(): v for k, v in self.headers.items()},
                           "body": self.rfile.read(length).decode()}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Keep-Alive", "timeout=99")
        self.send_header("X-Dashboard", "yes")
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer  # noqa: N815 - the names http.server calls

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def upstream() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


@pytest.fixture
def client(settings: Settings, upstream: int) -> Client:
    beacon = make_app(dataclasses.replace(settings, trusted_proxies=1))
    return Client(OnePortApp(beacon, DashboardProxy(upstream)), use_cookies=False)


def test_beacon_paths_reach_the_beacon(client: Client) -> None:
    body = json.dumps({"n": "pageview", "u": "https://example.com/one-port",
                       "d": "example.com"})
    resp = client.post("/api/event", data=body, headers=browser_headers(
        **{"Content-Type": "text/plain"}))
    assert resp.status_code == 202
    app = client.application
    assert isinstance(app, OnePortApp)
    assert [e["pathname"] for e in stored_events(app.beacon)] == ["/one-port"]
    # Only /dashboard and /dashboard/... are the dashboard's.
    assert client.get("/dashboards").status_code == 404
    assert "X-Dashboard" not in client.get("/dashboards").headers


def test_dashboard_without_slash_redirects_keeping_the_query(client: Client) -> None:
    resp = client.get("/dashboard?site=example.com&period=7d")
    assert resp.status_code == 308
    assert resp.headers["Location"] == "/dashboard/?site=example.com&period=7d"


def test_dashboard_requests_arrive_as_sent(client: Client) -> None:
    resp = client.post("/dashboard/_stcore/upload?x=1&y=%2F", data=b"file bytes",
                       headers={"Content-Type": "application/octet-stream",
                                "Cookie": "beacon_login=bl_x", "Connection": "keep-alive",
                                "Keep-Alive": "timeout=5", "TE": "trailers"})
    assert resp.status_code == 201 and resp.headers["X-Dashboard"] == "yes"
    assert "Keep-Alive" not in resp.headers      # the dashboard's connection, not ours
    seen = resp.get_json()
    assert seen["method"] == "POST" and seen["path"] == "/dashboard/_stcore/upload?x=1&y=%2F"
    assert seen["body"] == "file bytes"
    assert seen["headers"]["cookie"] == "beacon_login=bl_x"
    assert seen["headers"]["content-type"] == "application/octet-stream"
    assert "te" not in seen["headers"] and "keep-alive" not in seen["headers"]


def test_a_chunked_body_is_forwarded_whole(client: Client) -> None:
    resp = client.post("/dashboard/_stcore/upload", input_stream=io.BytesIO(b"streamed"),
                       headers={"Transfer-Encoding": "chunked"})
    seen = resp.get_json()
    assert seen["body"] == "streamed" and seen["headers"]["content-length"] == "8"
    assert "transfer-encoding" not in seen["headers"]


def test_dashboard_not_running_is_503_with_a_reason(settings: Settings,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dashboard_proxy, "CONNECT_PATIENCE_SECONDS", 0.5)
    beacon = make_app(settings)
    client = Client(OnePortApp(beacon, DashboardProxy(free_port())))   # nothing listens
    resp = client.get("/dashboard/")
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "5"
    assert b"dashboard is not running" in resp.data
