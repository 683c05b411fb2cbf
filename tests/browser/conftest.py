"""Fixtures for driving Debian's Chromium against a real beacon and a real test site.

- the beacon: `create_app` on its own migrated SQLite file, served by a threaded
  werkzeug server on 127.0.0.1; the site `example.test` is registered;
- the test site: the pages in `site/`, served by a second local server, with the
  snippet from `beacon snippet` put in at serve time;
- Chromium maps the names example.test (registered), unknown.test (not registered),
  elsewhere.test (an outbound target) and beacon.test (the beacon) to 127.0.0.1, so the
  pages have real hostnames, and runs with `navigator.webdriver` false unless a test asks
  for an automated browser.

Set BEACON_CHROMIUM to use another Chromium binary. The tests skip when none is there,
except with CI=true, where they fail.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import Engine
from werkzeug.serving import WSGIRequestHandler, make_server

from shared.core import schema
from shared.core.settings import load_settings
from shared.sites import add_site
from shared.storage import make_engine, migrate
from shared.tracking.snippet import SnippetOptions, pixel_tag, render_snippet

SITE_DIR = Path(__file__).parent / "site"
CHROMIUM = os.environ.get("BEACON_CHROMIUM", "/usr/bin/chromium")
SITE_DOMAIN = "example.test"
HOSTS = ("example.test", "unknown.test", "elsewhere.test", "beacon.test")
# A desktop Chrome user agent: the "HeadlessChrome" one would be dropped as a bot.
USER_AGENT = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/131.0.0.0 Safari/537.36")
LAUNCH_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--disable-default-apps", "--disable-extensions",
    # Set for the whole browser, not per context: beacons sent while a page unloads leave
    # from the browser process, which does not apply a context's user agent override.
    "--user-agent=" + USER_AGENT,
    "--host-resolver-rules=" + ", ".join(f"MAP {h} 127.0.0.1" for h in HOSTS),
]


@dataclass
class Beacon:
    app: Flask
    engine: Engine
    origin: str          # http://beacon.test:PORT, as pages see it

    def flush(self) -> None:
        self.app.extensions["beacon"].writer.flush()

    def rows(self, **where: Any) -> list[dict[str, Any]]:
        """Stored events (after a flush) matching column == value for each keyword."""
        self.flush()
        t = schema.events
        query = sa.select(t).order_by(t.c.id)
        for column, value in where.items():
            query = query.where(t.c[column] == value)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def drops(self) -> dict[str, int]:
        self.flush()
        self.app.extensions["beacon"].metrics.flush_drops(self.engine)
        t = schema.drop_counts
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.c.reason, sa.func.sum(t.c.count))
                                .group_by(t.c.reason)).all()
        return {reason: int(n) for reason, n in rows}

    def wait_rows(self, count: int = 1, timeout: float = 10.0,
                  **where: Any) -> list[dict[str, Any]]:
        """Poll until at least `count` matching rows are stored; fail after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            rows = self.rows(**where)
            if len(rows) >= count or time.monotonic() > deadline:
                assert len(rows) >= count, f"expected {count} rows {where}, got {rows}"
                return rows
            time.sleep(0.1)

    def reset(self) -> None:
        self.flush()
        with self.engine.begin() as conn:
            for table in (schema.events, schema.drop_counts, schema.visitor_sessions,
                          schema.dirty_days):
                conn.execute(table.delete())


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@pytest.fixture(scope="module")
def beacon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Beacon]:
    from beacon_app import create_app

    folder = tmp_path_factory.mktemp("browser-beacon")
    url = f"sqlite:///{folder / 'beacon.db'}"
    migrate(url)
    settings = load_settings({}, data_dir=str(folder / "data"), database_url=url,
                             flush_interval_ms=20)
    app = create_app(settings)
    engine = make_engine(url)
    with engine.begin() as conn:
        add_site(conn, SITE_DOMAIN)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Beacon(app=app, engine=engine, origin=f"http://beacon.test:{server.server_port}")
    server.shutdown()
    app.extensions["beacon"].close()
    engine.dispose()


def _page_html(name: str, host: str, beacon_origin: str, port: int) -> str:
    html = (SITE_DIR / name).read_text()

    def snippet(match: re.Match[str]) -> str:
        kind = match.group(1) or ""
        options = SnippetOptions(domains=(host,), host=beacon_origin, hash=kind == "hash",
                                 track_forms=kind == "forms", not_found=kind == "404")
        text = render_snippet(options)
        if kind == "404":  # the 404 line goes in without the comment that precedes it
            text = text.replace("<!-- on the 404 page only: -->\n", "")
        return text

    html = re.sub(r"<!--SNIPPET ?(\w*)-->", snippet, html)
    pixel = pixel_tag(SnippetOptions(domains=(host,), host=beacon_origin))
    html = html.replace("<!--PIXEL-->", pixel.removeprefix("<noscript>")
                        .removesuffix("</noscript>"))
    return (html.replace("{{PORT}}", str(port)).replace("{{DOMAIN}}", host)
            .replace("{{BEACON}}", beacon_origin))


def _site_handler(beacon_origin: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            host = (self.headers.get("Host") or SITE_DOMAIN).split(":")[0]
            port = self.server.server_port  # type: ignore[attr-defined]
            path = self.path.split("?")[0].split("#")[0]
            status, ctype, extra = 200, "text/html; charset=utf-8", {}
            if path == "/":
                name = "index.html"
            elif path.startswith("/spa/"):
                name = "spa.html"
            elif path == "/files/report.pdf":
                name, ctype = "files/report.pdf", "application/pdf"
                extra = {"Content-Disposition": 'attachment; filename="report.pdf"'}
            elif re.fullmatch(r"/[a-z0-9]+\.html", path) and (SITE_DIR / path[1:]).is_file():
                name = path[1:]
            else:
                status, name = 404, "404.html"
            if name.endswith(".html"):
                body = _page_html(name, host, beacon_origin, port).encode()
            else:
                body = (SITE_DIR / name).read_bytes()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            for key, value in extra.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@dataclass
class Site:
    port: int

    def url(self, path: str = "/", host: str = SITE_DOMAIN) -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture(scope="module")
def site(beacon: Beacon) -> Iterator[Site]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _site_handler(beacon.origin))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Site(port=int(server.server_address[1]))
    server.shutdown()
    server.server_close()


def _launch(playwright: Any, automated: bool) -> Any:
    args = list(LAUNCH_ARGS)
    if not automated:
        # Without this Chromium sets navigator.webdriver, and the beacon drops the hits.
        args.append("--disable-blink-features=AutomationControlled")
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)


@pytest.fixture(scope="module")
def playwright_instance() -> Iterator[Any]:
    if not Path(CHROMIUM).is_file():
        message = f"no Chromium at {CHROMIUM} (apt-get install chromium, or set BEACON_CHROMIUM)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(playwright_instance: Any) -> Iterator[Any]:
    browser = _launch(playwright_instance, automated=False)
    yield browser
    browser.close()


@pytest.fixture
def new_context(browser: Any, beacon: Beacon) -> Iterator[Callable[..., Any]]:
    """Fresh browser contexts (no storage shared between tests), closed afterwards."""
    beacon.reset()
    contexts: list[Any] = []

    def make(**options: Any) -> Any:
        options.setdefault("user_agent", USER_AGENT)
        context = browser.new_context(**options)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    # Closing pages sends their engagement beacons; let them land before the next
    # test's reset deletes them, so they cannot leak into its assertions.
    time.sleep(0.4)
    beacon.flush()


@pytest.fixture
def page(new_context: Callable[..., Any]) -> Any:
    return new_context().new_page()


class EventLog:
    """The requests a page made to the beacon's /api/event and the answers it got."""

    def __init__(self, page: Any) -> None:
        self.sent: list[dict[str, Any]] = []
        self.answers: list[tuple[int, str]] = []
        page.on("request", self._on_request)
        page.on("response", self._on_response)

    def _on_request(self, request: Any) -> None:
        if request.url.endswith("/api/event") and request.method == "POST":
            import json

            self.sent.append(json.loads(request.post_data or "{}"))

    def _on_response(self, response: Any) -> None:
        if response.url.endswith("/api/event"):
            self.answers.append((response.status, response.headers.get("x-beacon-drop", "")))

    def names(self) -> list[str]:
        return [e.get("n", "") for e in self.sent]

    def wait_sent(self, page: Any, name: str, timeout_ms: int = 10_000) -> dict[str, Any]:
        """The first sent event called `name`. Playwright's sync API delivers events only
        while it is called, so this waits inside the page rather than with time.sleep."""
        self._pump(page, lambda: name in self.names(), timeout_ms)
        return self.sent[self.names().index(name)]

    def wait_answers(self, page: Any, count: int, timeout_ms: int = 10_000) -> None:
        self._pump(page, lambda: len(self.answers) >= count, timeout_ms)

    @staticmethod
    def _pump(page: Any, done: Callable[[], bool], timeout_ms: int) -> None:
        waited = 0
        while not done():
            assert waited < timeout_ms, "the page did not send what was expected in time"
            page.wait_for_timeout(50)
            waited += 50


@pytest.fixture
def automated_browser(playwright_instance: Any) -> Iterator[Any]:
    browser = _launch(playwright_instance, automated=True)
    yield browser
    browser.close()
