"""`beacon serve`: run the beacon (gunicorn), the dashboard (Streamlit) and the worker
as child processes of one command, for a single machine or development."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from pathlib import Path

from beacon_cli.common import settings_and_engine
from shared.core.settings import environment

ROOT = Path(__file__).resolve().parent.parent
# Streamlit's welcome banner is plain text, and a headless Streamlit looks up the
# machine's external address for it at a third party (checkip.amazonaws.com): no banner.
# Its own INFO lines come before our JSON logging is set up (dashboard_app/server_logs.py).
STREAMLIT_QUIET = ("--logger.hideWelcomeMessage", "true", "--logger.level", "warning")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run beacon, dashboard and worker in the foreground")
    p.add_argument("--port", type=int, help="beacon port (default $PORT or 8000)")
    p.add_argument("--dashboard-port", type=int,
                   help="dashboard port (default $BEACON_DASHBOARD_PORT or 8501)")
    p.add_argument("--no-dashboard", action="store_true", help="run the beacon only")
    p.add_argument("--no-worker", action="store_true", help="do not run the rollup worker")
    p.set_defaults(func=run_serve)


def _commands(args: argparse.Namespace) -> list[tuple[str, list[str]]]:
    settings, engine = settings_and_engine()
    engine.dispose()
    port = args.port or settings.port
    dash_port = args.dashboard_port or settings.dashboard_port
    py = sys.executable
    cmds = [("beacon", [py, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
                        "--bind", f"{settings.host}:{port}", "beacon_app.wsgi:app"])]
    if not args.no_dashboard:
        cmds.append(("dashboard", [py, "-m", "beacon_cli.main", "dashboard",
                                   "--port", str(dash_port)]))
    if not args.no_worker:
        cmds.append(("worker", [py, "-m", "beacon_cli.main", "worker"]))
    shown = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host  # noqa: S104
    print(f"beacon:    http://{shown}:{port}/  (script: /script.js, events: /api/event)")
    if not args.no_dashboard:
        print(f"dashboard: http://{shown}:{dash_port}/")
    sys.stdout.flush()
    return cmds


def run_serve(args: argparse.Namespace) -> int:
    # The children run in the package folder, not in ours: hand them our .env too.
    env = environment()
    procs = [subprocess.Popen(cmd, cwd=ROOT, env=env) for _, cmd in _commands(args)]
    stopping = False

    def _stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        while not stopping and all(p.poll() is None for p in procs):
            time.sleep(0.5)
    finally:
        _stop(signal.SIGTERM, None)
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
    return max((p.returncode or 0) for p in procs) if not stopping else 0
