"""Ingest benchmark: the production server with the full pipeline vs. the same server
with a bare Flask view answering 204, and the one-port `web` process (`beacon web`, the
Procfile's `web:` line) vs. the `beacon:` process, all driven by wrk on loopback in one run.

    python bench/ingest_bench.py [--seconds 10] [--rounds 3] [--connections 32]
                                 [--database-url URL] [--wsgi-baseline] [--no-web]

The servers run side by side and take turns under wrk for `--rounds` rounds. Prints
requests/s (over all rounds), p50/p99 latency (the median round's), the ratios full/bare
and web/full (throughput and p99), and events stored vs accepted - the servers' own
counts from /metrics, as wrk does not count the answers in flight at its deadline
(every 202 must become a row).
While wrk loads `web`, a dashboard websocket is held open through the same port and
must still answer a ping afterwards. Needs `wrk` (Debian package).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.dashboard_socket import DashboardSocket  # noqa: E402
from shared.core import schema  # noqa: E402
from shared.sites import add_site  # noqa: E402
from shared.storage import make_engine, migrate  # noqa: E402


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server(app: str, env: dict[str, str], workers: int,
            threads: int) -> tuple[subprocess.Popen, int]:
    """`app` is a gunicorn app (module:callable), or "web" for the `beacon web` command."""
    port = _free_port()
    if app == "web":
        cmd = [sys.executable, "-m", "beacon_cli.main", "web", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers), "--threads", str(threads)]
    else:
        cmd = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
               "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
               "--threads", str(threads), app]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    paths = ["/healthz", "/dashboard/_stcore/health"] if app == "web" else ["/healthz"]
    for path in paths:
        _wait_up(port, path)
    return proc, port


def _wait_up(port: int, path: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1)  # noqa: S310
            return
        except Exception as exc:  # 404 from the bare app also means "up"
            if getattr(exc, "code", None) == 404:
                return
            time.sleep(0.2)
    raise RuntimeError(f"nothing answered on :{port}{path}")


def _wrk(port: int, seconds: int, connections: int, threads: int) -> dict[str, float]:
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
                          "--latency", "-s", str(ROOT / "bench" / "ingest.lua"),
                          f"http://127.0.0.1:{port}"], capture_output=True, text=True, check=True)
    m = re.search(r"RESULT (.*)", out.stdout)
    if not m:
        raise RuntimeError(out.stdout + out.stderr)
    values = {k: float(v) for k, v in (kv.split("=") for kv in m.group(1).split())}
    values["rps"] = values["requests"] / values["seconds"]
    return values


def _combined(runs: list[dict[str, float]]) -> dict[str, float]:
    """Rounds of one server: requests/s over all of them, the median round's latencies."""
    def median(key: str) -> float:
        return sorted(r[key] for r in runs)[len(runs) // 2]

    return {"rps": sum(r["requests"] for r in runs) / sum(r["seconds"] for r in runs),
            "p50_ms": median("p50_ms"), "p99_ms": median("p99_ms"),
            "non2xx": sum(r["non2xx"] for r in runs)}


def _server_accepted(port: int) -> int:
    """The server's own count of events answered 2xx (all workers, from /metrics), read
    once it has stopped changing: wrk stops counting at its deadline, the server does not."""
    previous = -1
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        time.sleep(1.5)   # each worker saves its counters at most once a second
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:  # noqa: S310
            text = resp.read().decode()
        m = re.search(r"^beacon_events_accepted_total (\d+)$", text, re.M)
        if not m:
            raise RuntimeError("no beacon_events_accepted_total in /metrics")
        accepted = int(m.group(1))
        if accepted == previous:
            return accepted
        previous = accepted
    raise RuntimeError("the accepted count did not settle within 30 s")


def _count(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(schema.events)).scalar_one()
    engine.dispose()
    return int(n)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seconds", type=int, default=10, help="length of one wrk run")
    ap.add_argument("--rounds", type=int, default=3, help="wrk runs per server, taking turns")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--wrk-threads", type=int, default=1)
    ap.add_argument("--database-url", default="", help="default: a new SQLite file")
    ap.add_argument("--wsgi-baseline", action="store_true",
                    help="also serve a plain WSGI callable answering 204 (no Flask)")
    ap.add_argument("--no-web", action="store_true",
                    help="leave out the one-port `beacon web` process")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        print("wrk is missing: apt-get install wrk", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="beacon-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    migrate(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        for table in reversed(schema.metadata.sorted_tables):
            conn.execute(table.delete())
        add_site(conn, "bench.example.com")
    engine.dispose()
    answered = accepted = 0
    servers = [("bare", "bench.bare_app:app"), ("full", "beacon_app.wsgi:app")]
    if args.wsgi_baseline:
        servers.insert(1, ("wsgi", "bench.bare_app:wsgi"))
    if not args.no_web:
        servers.append(("web", "web"))
    started: dict[str, tuple[subprocess.Popen, int]] = {}
    rounds: dict[str, list[dict[str, float]]] = {name: [] for name, _ in servers}
    dashboard_ok = False
    try:
        for name, app in servers:
            # Each server its own spool folder: /metrics sums the counters found there.
            env = {"DATABASE_URL": url, "BEACON_DATA_DIR": str(tmp / f"data-{name}"),
                   "BEACON_LOG_LEVEL": "ERROR"}
            started[name] = _server(app, env, args.workers, args.threads)
        dashboard = DashboardSocket(started["web"][1]) if "web" in started else None
        warm = {name: _wrk(port, 2, args.connections, args.wrk_threads)
                for name, (_, port) in started.items()}
        # The servers take turns, round after round, in the opposite order every other
        # round: a neighbour's load on a shared machine, or the database still busy
        # with the previous server's writes, then falls on all of them alike.
        for i in range(args.rounds):
            order = list(started.items())
            for name, (_, port) in order[::-1] if i % 2 else order:
                rounds[name].append(_wrk(port, args.seconds, args.connections,
                                         args.wrk_threads))
        if dashboard is not None:
            dashboard_ok = dashboard.ping()
            dashboard.close()
        for name in ("full", "web"):      # every 2xx of these is an accepted event
            if name in started:
                answered += sum(int(r["requests"] - r["non2xx"])
                                for r in [warm[name], *rounds[name]])
                accepted += _server_accepted(started[name][1])
    finally:
        for proc, _ in started.values():
            proc.terminate()            # SIGTERM: the full server writes everything first
        for proc, _ in started.values():
            proc.wait(120)
    results = {name: _combined(runs) for name, runs in rounds.items()}
    stored = _count(url)
    full, bare = results["full"], results["bare"]
    print(f"{'server':<6} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for name, _ in servers:
        r = results[name]
        print(f"{name:<6} {r['rps']:>9.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} "
              f"{int(r['non2xx']):>8}")
    print(f"full/bare throughput ratio: {full['rps'] / bare['rps']:.2f}")
    if "wsgi" in results:
        print(f"full/wsgi throughput ratio: {full['rps'] / results['wsgi']['rps']:.2f}")
    if "web" in results:
        web = results["web"]
        print(f"web/full throughput ratio: {web['rps'] / full['rps']:.2f}; "
              f"web/full p99 ratio: {web['p99_ms'] / full['p99_ms']:.2f}; "
              f"dashboard websocket open through the run: {'OK' if dashboard_ok else 'FAILED'}")
    # wrk stops counting at its deadline, so the requests in flight then were answered
    # (and stored) but not counted by it: at most one per connection and run.
    runs = (1 + args.rounds) * (1 + ("web" in results))
    consistent = answered <= accepted <= answered + runs * args.connections
    verdict = "OK" if stored == accepted and consistent else "MISMATCH"
    print(f"events accepted (servers' counts, warm-ups included): {accepted} "
          f"(wrk counted {answered} 2xx answers); rows stored: {stored}; "
          f"stored == accepted: {verdict}")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
