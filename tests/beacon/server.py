"""Run the real production server (gunicorn, as in the Procfile) in a subprocess, load it
with events, and cut it off from PostgreSQL - through a TCP proxy, or by stopping a
private PostgreSQL server started for the test - the drills' test tools."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from shared.core import schema
from shared.storage import make_engine
from tests.beacon.helpers import CHROME_UA

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def answers_200(port: int, path: str, timeout: float = 45) -> bool:
    """True once GET `path` on 127.0.0.1:`port` answers 200; False at the timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return True
        except OSError:
            time.sleep(0.2)
        finally:
            conn.close()
    return False


class BeaconServer:
    """The Procfile's `beacon:` process (gunicorn), or with `web=True` its `web:` process
    (`beacon web`: the beacon and the dashboard on one port)."""

    def __init__(self, env: dict[str, str], workers: int = 2, web: bool = False,
                 port: int | None = None) -> None:
        self.port = port or free_port()     # a restarted beacon keeps its predecessor's
        self.env = {**os.environ, **env, "PORT": str(self.port), "WEB_CONCURRENCY": str(workers)}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = Path(env["BEACON_DATA_DIR"]) / f"server-{self.port}.log"
        self.web = web

    def command(self) -> list[str]:
        if self.web:
            return [sys.executable, "-m", "beacon_cli.main", "web", "--host", "127.0.0.1"]
        return [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
                "--bind", f"127.0.0.1:{self.port}", "beacon_app.wsgi:app"]

    def start(self) -> BeaconServer:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            self.command(), cwd=ROOT, env=self.env, stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if self.get("/healthz")[0] == 200:
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("beacon did not start:\n" + self.log.read_text()[-3000:])

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None,
                timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def get(self, path: str) -> tuple[int, bytes]:
        status, _, body = self.request("GET", path)
        return status, body

    def send_event(self, path: str, ua: str) -> tuple[int, dict[str, str]]:
        body = json.dumps({"n": "pageview", "u": f"https://example.com{path}",
                           "d": "example.com"}).encode()
        status, headers, _ = self.request("POST", "/api/event", body,
                                          {"Content-Type": "text/plain", "User-Agent": ua})
        return status, headers

    def kill9(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self, timeout: float = 40) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


def wait_stored(db_url: str, expected: set[str], timeout: float = 60) -> list[str]:
    """The stored event paths, once they include `expected` (or at the timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        paths = stored_paths(db_url)
        if expected <= set(paths) or time.monotonic() > deadline:
            return paths
        time.sleep(0.05)


class EventLoad:
    """Threads sending unique pageviews over keep-alive connections, unthrottled or at
    `per_second` in all; remembers which were acknowledged (202 and not dropped), which
    got no answer (the server died or the connection broke: they may or may not be
    stored) and the drop reasons, and counts every status. Each attempt has its own
    path, so a retry after a lost answer never stores the same page twice."""

    def __init__(self, port: int, threads: int = 4, per_second: float | None = None,
                 user_agent: str = CHROME_UA, domain: str = "example.com",
                 prefix: str | None = None) -> None:
        self.port, self.per_second, self.user_agent = port, per_second, user_agent
        self.domain = domain
        # Paths start with the domain (but for example.com), or with `prefix` if given.
        self.prefix = prefix if prefix is not None else (
            "" if domain == "example.com" else f"/{domain}")
        self.acked: set[str] = set()
        self.unanswered: set[str] = set()
        self.drops: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(i, threads), daemon=True)
                         for i in range(threads)]

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def acked_now(self) -> set[str]:
        """A copy of the acknowledged paths (the load may still be running)."""
        with self._lock:
            return set(self.acked)

    def _run(self, index: int, threads: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        n, started = 0, time.monotonic()
        while not self._stop.is_set():
            path = f"{self.prefix}/t{index}/e{n}"
            n += 1
            body = json.dumps({"n": "pageview", "u": f"https://{self.domain}{path}",
                               "d": self.domain})
            try:
                conn.request("POST", "/api/event", body,
                             {"Content-Type": "text/plain", "User-Agent": self.user_agent})
                resp = conn.getresponse()
                resp.read()
            except (OSError, http.client.HTTPException):
                conn.close()        # the server is gone or closed the connection: not acked
                with self._lock:
                    self.unanswered.add(path)
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                time.sleep(0.05)    # (a restarting server refuses connections for a while)
                continue
            with self._lock:
                self.statuses[resp.status] += 1
                reason = resp.getheader("X-Beacon-Drop")
                if reason:
                    self.drops[reason] += 1
                elif resp.status == 202:
                    self.acked.add(path)
            if self.per_second:
                ahead = n / (self.per_second / threads) - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
        conn.close()

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(15)

    def run(self, seconds: float) -> None:
        self.start()
        time.sleep(seconds)
        self.stop()

    def run_until(self, condition: Callable[[], bool], timeout: float = 30) -> None:
        """Start, and return (still sending) once `condition()` holds or at the timeout."""
        self.start()
        deadline = time.monotonic() + timeout
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.02)


class TcpProxy:
    """Forwards 127.0.0.1:port to a target; `cut()` drops every connection and refuses
    new ones (the database is "down"), `restore()` brings it back."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._server: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    def restore(self) -> None:
        srv = socket.socket()
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", self.port))
        srv.listen(64)
        self._server = srv
        threading.Thread(target=self._accept, args=(srv,), daemon=True).start()

    def _accept(self, srv: socket.socket) -> None:
        while True:
            try:
                client, _ = srv.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        with self._lock:
            conns, self._conns = self._conns, []
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass


def stored_paths(url: str) -> list[str]:
    """The pathname of every stored event (duplicates included)."""
    engine = make_engine(url)
    with engine.connect() as conn:
        paths = [r[0] for r in conn.execute(sa.select(schema.events.c.pathname))]
    engine.dispose()
    return paths


class PrivatePostgres:
    """A PostgreSQL server of its own (initdb in a temporary folder, a free port, run as
    the `postgres` user) that a drill may stop and start - never the shared one."""

    def __init__(self) -> None:
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
        if not bins or shutil.which("runuser") is None:
            raise RuntimeError("no PostgreSQL server binaries (pg_ctl) or runuser")
        self.bin = bins[-1].parent
        # Its own temporary folder (pytest's are private to the test user; the server
        # runs as `postgres`).
        self.dir = Path(tempfile.mkdtemp(prefix="beacon-drill-pg-"))
        self.port = free_port()
        shutil.chown(self.dir, "postgres", "postgres")
        self._as_postgres(["initdb", "-D", str(self.dir / "pgdata"), "-A", "trust",
                           "-U", "postgres", "--no-sync", "-E", "UTF8"])

    def _as_postgres(self, command: list[str]) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", str(self.bin / command[0]),
                        *command[1:]], check=True, capture_output=True, cwd=self.dir)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        self._as_postgres(["pg_ctl", "-D", str(self.dir / "pgdata"), "-w", "-t", "60",
                           "-l", str(self.dir / "server.log"), "-o",
                           f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                           "-c fsync=off -c max_connections=200", "start"])

    def stop(self) -> None:
        """Stop the server process (fast shutdown: every connection is cut)."""
        self._as_postgres(["pg_ctl", "-D", str(self.dir / "pgdata"), "-w", "-m", "fast",
                           "stop"])

    def create_database(self, name: str) -> str:
        admin = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return self.url(name)

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
