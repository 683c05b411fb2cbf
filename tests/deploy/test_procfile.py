"""The Procfile, run the way a Procfile runner runs it (honcho), on a fresh PostgreSQL
database: `release`, then `web` (everything on one port) + `worker`, and the larger
layout `beacon` + `dashboard` + `worker`. Hits go in over HTTP; the dashboard answers
and the numbers it shows come out of the query layer it uses, rolled up by the worker."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.core import schema
from shared.dataout.dataframes import stats_query
from shared.reports.traffic import totals
from shared.storage import make_engine
from tests.beacon.helpers import CHROME_UA
from tests.beacon.server import free_port

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
ROOT = Path(__file__).resolve().parents[2]
HONCHO = [sys.executable, "-m", "honcho", "-f", str(ROOT / "Procfile"), "-d", str(ROOT)]


def _request(port: int, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _wait_http(port: int, path: str, timeout: float = 45) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if _request(port, "GET", path)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"nothing answered 200 on :{port}{path}")


@pytest.fixture
def env(pg_url: str, tmp_path: Path) -> dict[str, str]:
    engine = make_engine(pg_url)
    with engine.begin() as conn:
        for table in reversed(schema.metadata.sorted_tables):
            conn.execute(table.delete())
    engine.dispose()
    # The platform's form of the URL: the settings turn postgres:// into the psycopg driver.
    return {**os.environ, "DATABASE_URL": pg_url.replace("postgresql+psycopg://", "postgres://"),
            "BEACON_DATA_DIR": str(tmp_path / "data"), "BEACON_ROLLUP_INTERVAL_SECONDS": "1",
            "BEACON_FLUSH_INTERVAL_MS": "100", "WEB_CONCURRENCY": "2",
            "BEACON_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1",
            # As on a deployed machine, the installed commands are on the PATH.
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def _free_base(count: int) -> int:
    """A port P with P, P+100, ... free: honcho gives process type i the port P + 100 i."""
    for _ in range(200):
        base = free_port() // 100 * 100
        if base + 100 * count > 65000:
            continue
        try:
            for i in range(count):
                with socket.socket() as s:
                    s.bind(("0.0.0.0", base + 100 * i))   # noqa: S104 - where they will bind
            return base
        except OSError:
            continue
    raise RuntimeError("no free port range")


class Formation:
    """`honcho start` of some process types; stopped with SIGTERM like a platform does."""

    def __init__(self, env: dict[str, str], types: list[str], log: Path) -> None:
        self.base = _free_base(len(types))
        self.log = log
        self.proc = subprocess.Popen([*HONCHO, "start", "-p", str(self.base), *types],
                                     env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def port(self, index: int) -> int:
        return self.base + 100 * index          # honcho's port per process type

    def stop(self) -> int:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(40)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            return -9


@pytest.fixture
def formations() -> Iterator[list[Formation]]:
    started: list[Formation] = []
    yield started
    for f in started:
        f.stop()


def _release(env: dict[str, str], domain: str) -> None:
    out = subprocess.run([*HONCHO, "run", "beacon", "migrate"], env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0 and "revision" in out.stdout, out.stderr
    out = subprocess.run([*HONCHO, "run", "beacon", "sites", "add", domain], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


def _send_hits(port: int, domain: str, n: int) -> int:
    ok = 0
    for i in range(n):
        body = json.dumps({"n": "pageview", "u": f"https://{domain}/p{i % 7}",
                           "d": domain}).encode()
        status, _ = _request(port, "POST", "/api/event", body,
                             {"User-Agent": CHROME_UA, "Content-Type": "text/plain",
                              "X-Forwarded-For": f"198.51.100.{i % 50}"})
        ok += status == 202
    return ok


def _shown_pageviews(url: str, domain: str, expected: int, timeout: float = 30, *,
                     rolled_up: bool = True) -> tuple[int, str]:
    """Pageviews of today as the dashboard's query layer reports them: once they reach
    `expected` (and, with `rolled_up`, once the answer comes from the rollups), or
    whatever is shown at the timeout. The answer's own `source` is what is waited for:
    a dirty-days count read next to it could see the worker finish in between."""
    engine = make_engine(url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            with engine.connect() as conn:
                t = totals(conn, stats_query(engine, domain, "today"))
            done = t.metrics.pageviews >= expected and (t.source == "rollup" or not rolled_up)
            if done or time.monotonic() > deadline:
                return t.metrics.pageviews, t.source
            time.sleep(0.5)
    finally:
        engine.dispose()


def test_one_dyno_web_and_worker(env: dict[str, str], pg_url: str, tmp_path: Path,
                                 formations: list[Formation]) -> None:
    _release(env, "one.example")
    started = time.monotonic()
    web = Formation(env, ["web", "worker"], tmp_path / "honcho.log")
    formations.append(web)
    port = web.port(0)
    _wait_http(port, "/healthz")
    _wait_http(port, "/dashboard/_stcore/health")
    print(f"\nweb+worker ready in {time.monotonic() - started:.1f}s")
    status, page = _request(port, "GET", "/dashboard/")
    assert status == 200 and b"<div id=\"root\">" in page or b"streamlit" in page.lower()
    assert _request(port, "GET", "/dashboard")[0] == 308
    # The dashboard's guard is in front here too (docs/access-and-files.md).
    assert _request(port, "POST", "/dashboard/_beacon/session", b"bl_x",
                    {"Origin": "http://evil.example"})[0] == 403
    assert _request(port, "GET", "/dashboard/_stcore/metrics", None,
                    {"X-Forwarded-For": "203.0.113.5"})[0] == 403
    assert _request(port, "GET", "/script.js")[0] == 200
    assert _send_hits(port, "one.example", 300) == 300
    # A browser's image request: the bare endpoint drops hits without the headers every
    # browser sends (docs/bots.md).
    assert _request(port, "GET", "/", None, {"Referer": "https://one.example/bare",
                                             "User-Agent": CHROME_UA, "Accept": "image/*",
                                             "Accept-Encoding": "gzip"})[0] == 204
    shown, source = _shown_pageviews(pg_url, "one.example", 301)
    assert (shown, source) == (301, "rollup")
    # The platform stops the dyno: every acknowledged event is already written, nothing
    # is left in the spool.
    assert _send_hits(port, "one.example", 50) == 50
    assert web.stop() in (0, 143, -15)
    assert _shown_pageviews(pg_url, "one.example", 351, timeout=5, rolled_up=False)[0] == 351
    assert not list((tmp_path / "data" / "spool").glob("*.seg"))
    log = (tmp_path / "honcho.log").read_text()
    assert "Traceback" not in log and "198.51.100." not in log


def test_separate_beacon_dashboard_worker(env: dict[str, str], pg_url: str, tmp_path: Path,
                                          formations: list[Formation]) -> None:
    _release(env, "big.example")
    big = Formation(env, ["beacon", "dashboard", "worker"], tmp_path / "honcho.log")
    formations.append(big)
    beacon, dashboard = big.port(0), big.port(1)
    _wait_http(beacon, "/healthz")
    _wait_http(dashboard, "/_stcore/health")
    status, page = _request(dashboard, "GET", "/")
    assert status == 200 and b"<noscript>" in page
    assert _send_hits(beacon, "big.example", 400) == 400
    assert _shown_pageviews(pg_url, "big.example", 400) == (400, "rollup")
    assert big.stop() in (0, 143, -15)
    log = (tmp_path / "honcho.log").read_text()
    assert "Traceback" not in log and "198.51.100." not in log
