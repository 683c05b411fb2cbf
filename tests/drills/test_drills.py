"""Reliability drills against the production server (gunicorn, as in the Procfile):
a spool that cannot be used, several beacon processes plus the worker on one SQLite
file, a soak run, and a fuzz run of >= 100,000 generated requests. Each is bounded in
time, sends loopback traffic only, and prints what it measured."""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from bench.dashboard_socket import DashboardSocket
from shared.storage import make_engine
from tests.beacon.helpers import CHROME_UA
from tests.beacon.server import ROOT, BeaconServer, EventLoad, stored_paths

pytestmark = pytest.mark.slow


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _worker_pids(server: BeaconServer) -> list[int]:
    assert server.proc is not None
    out = subprocess.run(["pgrep", "-P", str(server.proc.pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def test_unusable_spool_keeps_answering_and_says_so(sqlite_env: dict[str, str],
                                                    servers: list[BeaconServer]) -> None:
    server = BeaconServer({**sqlite_env, "BEACON_SPOOL_MAX_BYTES": "1"}).start()
    servers.append(server)
    sender = EventLoad(server.port, threads=4)
    sender.run(5)
    answered = sum(sender.statuses.values())
    print(f"\nspool full: {answered} requests, {sender.statuses}, drops {dict(sender.drops)}")
    # Never a plain 2xx for an event that is not on disk: each answer names the reason.
    assert set(sender.statuses) == {202} and not sender.acked
    assert sender.drops == {"spool_full": answered} and answered > 200
    metrics = server.get("/metrics")[1].decode()
    spool_errors = int(re.search(r"^beacon_spool_errors_total (\d+)", metrics, re.M)[1])
    assert spool_errors > answered // 2     # other workers report each second
    assert server.terminate() == 0
    assert not stored_paths(sqlite_env["DATABASE_URL"])
    log = server.log.read_text()
    assert "spool cannot take events" in log and "Traceback" not in log
    assert log.count("spool cannot take events") <= 4     # one line a minute per process


def test_three_beacons_worker_and_reader_share_one_sqlite_file(
        sqlite_env: dict[str, str], servers: list[BeaconServer], tmp_path: Path) -> None:
    server = BeaconServer(sqlite_env, workers=3).start()
    servers.append(server)
    worker_log = tmp_path / "worker.log"
    worker = subprocess.Popen([sys.executable, "-m", "beacon_cli.main", "worker"], cwd=ROOT,
                              env={**server.env}, stdout=worker_log.open("wb"),
                              stderr=subprocess.STDOUT)
    reads = Counter[str]()
    stop = threading.Event()

    def dashboard_reader() -> None:      # what the dashboard process does: read reports
        from shared.dataout.dataframes import stats_query
        from shared.reports.traffic import totals

        engine = make_engine(sqlite_env["DATABASE_URL"])
        while not stop.is_set():
            with engine.connect() as conn:
                totals(conn, stats_query(engine, "example.com", "today"))
            reads["ok"] += 1
        engine.dispose()

    reader = threading.Thread(target=dashboard_reader, daemon=True)
    reader.start()
    started = time.monotonic()
    sender = EventLoad(server.port, threads=6)
    sender.run(20)
    stop.set()
    reader.join(15)
    assert server.terminate() == 0
    worker.terminate()
    worker.wait(30)
    paths = stored_paths(sqlite_env["DATABASE_URL"])
    print(f"\nshared sqlite: {len(sender.acked)} events acked in 20 s by 3 workers, "
          f"{len(paths)} stored, {reads['ok']} report reads, "
          f"{time.monotonic() - started:.1f} s")
    assert set(sender.statuses) == {202}
    assert sender.acked <= set(paths) and len(paths) == len(set(paths))
    logs = server.log.read_text() + worker_log.read_text()
    assert "database is locked" not in logs and "Traceback" not in logs
    assert reads["ok"] > 10


def test_soak_memory_stays_flat(sqlite_env: dict[str, str],
                                servers: list[BeaconServer]) -> None:
    server = BeaconServer(sqlite_env, workers=2).start()
    servers.append(server)
    burst = EventLoad(server.port, threads=8)     # unthrottled: this machine's capacity
    burst.run(10)
    capacity = sum(burst.statuses.values()) / 10
    rate = capacity / 2                            # the soak runs at half of it
    sender = EventLoad(server.port, threads=4, per_second=rate)
    soak = threading.Thread(target=sender.run, args=(70,))
    soak.start()
    # The baseline after 10 s of the soak: a worker the burst's connections did not
    # reach warms up (parser caches, lookup tables) on the soak's own keep-alive
    # connections, which stay with it to the end.
    time.sleep(10)
    before = {pid: _rss_kb(pid) for pid in _worker_pids(server)}
    soak.join()
    after = {pid: _rss_kb(pid) for pid in _worker_pids(server)}
    sent = sum(sender.statuses.values())
    print(f"\nsoak: capacity {capacity:.0f}/s, soak {sent} requests in 70 s "
          f"({sent / 70:.0f}/s, target {rate:.0f}/s), RSS kB after 10 s {before}, "
          f"at the end {after}")
    assert set(sender.statuses) == {202} and sent > 70 * rate * 0.7
    for pid, rss in before.items():
        assert after.get(pid, 0) - rss < 40_000, f"worker {pid} grew {after.get(pid)} - {rss}"
    assert server.terminate() == 0
    assert "Traceback" not in server.log.read_text()


def _fuzz_request(rng: random.Random) -> tuple[str, str, bytes | None, dict[str, bytes]]:
    junk = ["", "null", "[]", "{}", '{"n":1}', '{"n":"pageview"}', "\x00\xff", "{" * 50,
            '{"n":"pageview","u":"javascript:alert(1)","d":"example.com"}',
            '{"n":"x","u":"https://example.com/' + "a" * 3000 + '","d":"example.com"}',
            '{"n":"pageview","u":"https://example.com/","d":"example.com","p":{"k":[1,2]}}',
            '{"n":"pageview","u":"https://example.com/","d":"example.com","r":"\\ud800"}',
            json.dumps({"n": "click", "u": "https://example.com/", "d": "example.com",
                        "p": {str(i): "v" * 40 for i in range(40)}, "$": 99})]
    path = rng.choice(["/api/event", "/api/events", "/p.gif", "/", "/script.js",
                       "/js/script.x.y.js", "/healthz", "/api/v2/query", "/nope",
                       "/api/event?x=%ff%fe", "/p.gif?u=%00&d=example.com",
                       "/?u=https://example.com/q&r=" + "%41" * rng.randint(0, 500)])
    method = rng.choice(["GET", "POST", "POST", "OPTIONS", "PUT", "HEAD"])
    body = rng.choice(junk).encode("utf-8", "surrogatepass") if method in ("POST", "PUT") else None
    headers = {"User-Agent": rng.choice([CHROME_UA, "", "curl/8", "x" * 600, "Mozilla/5.0 ☃"]),
               "Referer": rng.choice(["", "https://example.com/r", "not a url", "https://é.example/"]),
               "X-Forwarded-For": rng.choice(["", "1.2.3.4", "bad, 999.1.1.1", "::1"]),
               "Content-Type": rng.choice(["text/plain", "application/json", "x/y"]),
               "Authorization": rng.choice(["", "Bearer nope", "Basic x"])}
    # Raw UTF-8 bytes on the wire, as a hostile client would send them.
    return method, path, body, {k: v.encode() for k, v in headers.items() if v}


def test_fuzz_100k_requests_no_5xx(sqlite_env: dict[str, str],
                                   servers: list[BeaconServer]) -> None:
    server = BeaconServer({**sqlite_env, "BEACON_LOG_LEVEL": "WARNING"}, workers=2).start()
    servers.append(server)
    total, threads = 100_000, 8
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def run(seed: int) -> None:
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        local: Counter[int] = Counter()
        for _ in range(total // threads):
            method, path, body, headers = _fuzz_request(rng)
            try:
                conn.request(method, path, body, headers)
                resp = conn.getresponse()
                resp.read()
                local[resp.status] += 1
                if resp.getheader("Connection", "").lower() == "close":
                    raise ConnectionResetError
            except (OSError, http.client.HTTPException):
                local[0] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        with lock:
            statuses.update(local)

    started = time.monotonic()
    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(300)
    seconds = time.monotonic() - started
    print(f"\nfuzz: {sum(statuses.values())} requests in {seconds:.1f} s, statuses {statuses}")
    assert sum(statuses.values()) >= total
    assert not [s for s in statuses if s >= 500], statuses
    assert statuses[0] < total * 0.001, "connections dropped"
    assert server.terminate() == 0
    log = server.log.read_text()
    assert "Traceback" not in log


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def test_sigterm_mid_load_on_the_one_port_web_process(sqlite_env: dict[str, str],
                                                      servers: list[BeaconServer]) -> None:
    """`beacon web` (the Procfile's web: line) stopped by SIGTERM while hits pour in and
    a dashboard session is open on the same port: every acknowledged event is stored,
    none twice, no spool left, and the dashboard process goes with it."""
    env = {**sqlite_env, "BEACON_FLUSH_INTERVAL_MS": "5000", "BEACON_LOG_LEVEL": "WARNING"}
    server = BeaconServer(env, workers=2, web=True).start()
    servers.append(server)
    assert server.proc is not None
    dashboard = _open_dashboard(server.port)
    assert dashboard.ping()
    dashboard_pid = _dashboard_pid(server.proc.pid, not_in=[])
    load = EventLoad(server.port, threads=6)
    load.run_until(lambda: len(load.acked) >= 1500)
    assert server.terminate(60) == 0          # SIGTERM while the load is still running
    load.stop()
    paths = stored_paths(sqlite_env["DATABASE_URL"])
    print(f"\nweb SIGTERM mid-load: {len(load.acked)} acked, {len(paths)} stored, "
          f"statuses {dict(load.statuses)}")
    assert len(load.acked) >= 1500 and not load.server_errors
    assert set(paths) == load.acked and len(paths) == len(set(paths))
    assert not list((Path(env["BEACON_DATA_DIR"]) / "spool").glob("*.seg"))
    assert dashboard.closed.wait(10)          # the relay ended with the process
    assert not Path(f"/proc/{dashboard_pid}").exists()
    log = server.log.read_text()
    assert "Traceback" not in log, log[-3000:]


def test_web_restarts_a_killed_dashboard_while_hits_go_on(sqlite_env: dict[str, str],
                                                          servers: list[BeaconServer]) -> None:
    """kill -9 of the dashboard process under `beacon web`, twice, while hits pour in:
    every hit is still answered 202, the dashboard comes back (a new process) on the
    same port, and SIGTERM still stores every acknowledged event."""
    server = BeaconServer({**sqlite_env, "BEACON_LOG_LEVEL": "WARNING"}, web=True).start()
    servers.append(server)
    assert server.proc is not None
    _open_dashboard(server.port).close()
    load = EventLoad(server.port, threads=4)
    load.start()
    killed: list[int] = []
    for _ in range(2):
        pid = _dashboard_pid(server.proc.pid, not_in=killed)
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)
        dashboard = _open_dashboard(server.port)     # waits through the restart
        assert dashboard.ping()
        dashboard.close()
    assert _dashboard_pid(server.proc.pid, not_in=killed) not in killed
    load.stop()
    assert server.terminate(60) == 0
    paths = stored_paths(sqlite_env["DATABASE_URL"])
    print(f"\ndashboard killed twice: {len(load.acked)} hits acked meanwhile, "
          f"statuses {dict(load.statuses)}")
    assert set(load.statuses) == {202} and len(load.acked) > 100
    assert set(paths) == load.acked
    assert "restarting it" in server.log.read_text()


def _dashboard_pid(master: int, not_in: list[int], timeout: float = 60) -> int:
    """The pid of the master's dashboard child, `beacon dashboard` (a new one, not in
    `not_in`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid in _children(master):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"\0dashboard\0" in cmdline and pid not in not_in:
                return pid
        time.sleep(0.2)
    raise AssertionError("no dashboard process under the web master")


def _open_dashboard(port: int) -> DashboardSocket:
    """A dashboard websocket through the web port, once Streamlit is up (it starts
    next to the beacon, which answers first)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return DashboardSocket(port)
        except (OSError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
