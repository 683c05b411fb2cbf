"""Ingest benchmark: the production server with the full pipeline vs. the same server
with a bare Flask view answering 204, both driven by wrk on loopback in one run.

    python bench/ingest_bench.py [--seconds 20] [--connections 32] [--database-url URL]
                                 [--wsgi-baseline]

Prints requests/s, p50/p99 latency, the ratio full/bare, and events stored vs
accepted - the server's own count from /metrics, as wrk does not count the answers in
flight at its deadline (every 202 must become a row). Needs `wrk` (Debian package).
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
    port = _free_port()
    cmd = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
           "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(threads),
           app]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)  # noqa: S310
            break
        except Exception as exc:  # 404 from the bare app also means "up"
            if getattr(exc, "code", None) == 404:
                break
            time.sleep(0.2)
    return proc, port


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
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--wrk-threads", type=int, default=1)
    ap.add_argument("--database-url", default="", help="default: a new SQLite file")
    ap.add_argument("--wsgi-baseline", action="store_true",
                    help="also serve a plain WSGI callable answering 204 (no Flask)")
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
    env = {"DATABASE_URL": url, "BEACON_DATA_DIR": str(tmp / "data"), "BEACON_LOG_LEVEL": "ERROR"}
    results: dict[str, dict[str, float]] = {}
    answered = accepted = 0
    servers = [("bare", "bench.bare_app:app"), ("full", "beacon_app.wsgi:app")]
    if args.wsgi_baseline:
        servers.insert(1, ("wsgi", "bench.bare_app:wsgi"))
    for name, app in servers:
        proc, port = _server(app, env, args.workers, args.threads)
        try:
            warm = _wrk(port, 2, args.connections, args.wrk_threads)
            results[name] = _wrk(port, args.seconds, args.connections, args.wrk_threads)
            if name == "full":   # every 2xx of the full server is an accepted event
                answered = int(warm["requests"] - warm["non2xx"] + results[name]["requests"]
                               - results[name]["non2xx"])
                accepted = _server_accepted(port)
        finally:
            proc.terminate()            # SIGTERM: the full server writes everything first
            proc.wait(120)
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
    # wrk stops counting at its deadline, so the requests in flight then were answered
    # (and stored) but not counted by it: at most one per connection and run.
    consistent = answered <= accepted <= answered + 2 * args.connections
    verdict = "OK" if stored == accepted and consistent else "MISMATCH"
    print(f"events accepted (server's count, warm-up included): {accepted} "
          f"(wrk counted {answered} 2xx answers); rows stored: {stored}; "
          f"stored == accepted: {verdict}")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
