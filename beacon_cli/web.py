"""`beacon web`: the whole product on ONE port - beacon endpoints at the root, the
dashboard under /dashboard - for a single Heroku-style dyno or a small server.

One gunicorn master (the settings of gunicorn.conf.py, as the `beacon` process type)
owns the port. Its threaded workers answer the beacon's paths on gunicorn's own WSGI
path, exactly as `beacon` does, and pass /dashboard/... (HTTP and the websocket) to the
one Streamlit process the master starts on a loopback port. SIGTERM: the workers stop
accepting, finish the requests in flight and flush their writers (gunicorn.conf.py's
worker_exit); then the master stops Streamlit. See docs/deploy-web.md.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from gunicorn.app.base import Application
from gunicorn.arbiter import Arbiter

from beacon_cli.dashboard_child import DashboardProcess, free_loopback_port
from beacon_cli.dashboard_proxy import PREFIX, DashboardProxy, is_dashboard_path
from shared.logs import configure_logging
from shared.settings import load_settings

GUNICORN_CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"
WORKER_CLASS = "beacon_cli.web_worker.OnePortWorker"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("web", help="serve beacon and dashboard (/dashboard) on one port")
    p.add_argument("--port", type=int, help="port (default $PORT or 8000)")
    p.add_argument("--host", default="0.0.0.0",  # noqa: S104 - it is a server
                   help="address to listen on (default 0.0.0.0)")
    p.add_argument("--workers", type=int,
                   help="beacon processes (default $WEB_CONCURRENCY or 2, as `beacon`)")
    p.add_argument("--threads", type=int,
                   help="threads per beacon process (default $BEACON_THREADS or 8)")
    p.set_defaults(func=run_web)


class OnePortApp:
    """The WSGI app of a `beacon web` worker: /dashboard/... to the dashboard proxy,
    /dashboard redirected there, every other path to the beacon untouched."""

    def __init__(self, beacon: Any, dashboard: DashboardProxy) -> None:
        self.beacon = beacon
        self.dashboard = dashboard
        # gunicorn.conf.py's worker_exit finds the beacon's writer here to flush it.
        self.extensions = beacon.extensions

    def __call__(self, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(PREFIX):
            if is_dashboard_path(path):
                return self.dashboard(environ, start_response)
            if path == PREFIX:
                query = environ.get("QUERY_STRING", "")
                start_response("308 Permanent Redirect", [
                    ("Location", PREFIX + "/" + ("?" + query if query else "")),
                    ("Content-Length", "0")])
                return []
        return self.beacon(environ, start_response)


class OnePortArbiter(Arbiter):
    """gunicorn's master, which also runs the dashboard process: started with the
    master, stopped only once the workers have drained."""

    dashboard: DashboardProcess

    def start(self) -> None:
        super().start()
        self.dashboard.start()

    def stop(self, graceful: bool = True) -> None:
        try:
            super().stop(graceful)
        finally:
            self.dashboard.stop()


class OnePortServer(Application):
    def __init__(self, bind: str, workers: int | None, threads: int | None) -> None:
        self.bind, self.workers, self.threads = bind, workers, threads
        self.dashboard_port = free_loopback_port()
        super().__init__()

    def init(self, parser: Any, opts: Any, args: Any) -> None:
        return None

    def load_config(self) -> None:
        self.load_config_from_file(str(GUNICORN_CONF))
        self.cfg.set("bind", [self.bind])
        self.cfg.set("worker_class", WORKER_CLASS)
        if self.workers:
            self.cfg.set("workers", self.workers)
        if self.threads:
            self.cfg.set("threads", self.threads)

    def load(self) -> OnePortApp:
        from beacon_app import create_app

        return OnePortApp(create_app(load_settings()), DashboardProxy(self.dashboard_port))

    def run(self) -> None:
        arbiter = OnePortArbiter(self)
        arbiter.dashboard = DashboardProcess(self.dashboard_port, PREFIX)
        arbiter.run()


def run_web(args: argparse.Namespace) -> int:
    settings = load_settings()     # a bad setting fails here, with one clear line
    configure_logging(settings.log_level)   # the master's own lines (dashboard restarts)
    port = args.port or settings.port
    OnePortServer(f"{args.host}:{port}", args.workers, args.threads).run()
    return 0
