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
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from gunicorn.app.base import Application
from gunicorn.arbiter import Arbiter

from beacon_cli.dashboard_child import DashboardProcess, free_loopback_port
from beacon_cli.dashboard_proxy import PREFIX, DashboardProxy, is_dashboard_path
from shared.core.logs import configure_logging
from shared.core.settings import load_settings

GUNICORN_CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"
WORKER_CLASS = "beacon_cli.web_worker.OnePortWorker"
# beacon_app.root_page.DASHBOARD_PATH_KEY: the beacon's root page links the dashboard there.
DASHBOARD_PATH_KEY = "beacon.dashboard_path"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("web", help="serve beacon and dashboard (/dashboard) on one port")
    p.add_argument("--port", type=int, help="port (default $PORT or 8000)")
    p.add_argument("--host", help="address to listen on (default $BEACON_HOST or 127.0.0.1)")
    p.add_argument("--workers", type=int,
                   help="beacon processes (default $WEB_CONCURRENCY or 2, as `beacon`)")
    p.add_argument("--threads", type=int,
                   help="threads per beacon process (default $BEACON_THREADS or 8)")
    p.set_defaults(func=run_web)
    d = sub.add_parser("dashboard", help="serve the dashboard alone (behind its guard)")
    d.add_argument("--port", type=int, help="port (default $BEACON_DASHBOARD_PORT or 8501)")
    d.add_argument("--host", help="address to listen on (default $BEACON_HOST or 127.0.0.1)")
    d.add_argument("--base-path", default="",
                   help="URL prefix it answers under (`beacon web` uses /dashboard)")
    d.set_defaults(func=run_dashboard)


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
        environ[DASHBOARD_PATH_KEY] = PREFIX + "/"    # for the beacon's root page
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
    OnePortServer(f"{args.host or settings.host}:{port}", args.workers, args.threads).run()
    return 0


def run_dashboard(args: argparse.Namespace) -> int:
    """The dashboard alone (the Procfile's `dashboard`, `beacon serve`, and the child of
    `beacon web`): Streamlit's app behind the guard that sets frame headers, checks
    websocket origins, guards metrics and exports, and sets the sign-in cookie."""
    import uvicorn

    from beacon_cli.streamlit_options import load_streamlit_options
    from dashboard_app.guard import guarded_dashboard
    from dashboard_app.server_logs import use_json_logs

    settings = load_settings()
    use_json_logs(settings.log_level)   # uvicorn's and Streamlit's lines as JSON
    dashboard, guard = guarded_dashboard(settings)
    # After st.App has named the script, so its own .streamlit/config.toml is read too.
    load_streamlit_options(os.environ)
    app: Any = guard
    prefix = "/" + args.base_path.strip("/") if args.base_path.strip("/") else ""
    if prefix:
        from starlette.applications import Starlette
        from starlette.routing import Mount

        app = Starlette(routes=[Mount(prefix, app=guard)], lifespan=dashboard.lifespan())
    uvicorn.run(
        app, host=args.host or settings.host, port=args.port or settings.dashboard_port,
        lifespan="on",
        # The guard reads X-Forwarded-For itself (BEACON_TRUSTED_PROXIES); uvicorn must
        # not rewrite the client address, and its access log would record IPs.
        proxy_headers=False, access_log=False, server_header=False, log_config=None,
        timeout_graceful_shutdown=20, timeout_keep_alive=5,
        # One process: Streamlit's sessions live in it. uvicorn would otherwise read the
        # platform's WEB_CONCURRENCY (meant for the gunicorn `beacon` process type).
        workers=1,
    )
    return 0
