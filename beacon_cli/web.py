"""`beacon web`: the whole product on ONE port - beacon endpoints at the root, the
dashboard under /dashboard - for a single Heroku-style dyno or a small server.

One ASGI process under uvicorn: Streamlit's own ASGI app (`st.App`) is mounted at
/dashboard (HTTP and its websocket), and the Flask beacon answers every other path
through a WSGI-to-ASGI adapter (a2wsgi, a thread pool like gunicorn's gthread). The
beacon keeps its promises here too: a request is answered only after its event is in
the spool, and on SIGTERM uvicorn stops accepting, finishes the requests in flight,
then the lifespan shutdown runs `Writer.stop()`, which writes everything queued.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from shared.core.settings import Settings, load_settings

DASHBOARD_SCRIPT = Path(__file__).resolve().parent.parent / "dashboard_app" / "app.py"
DASHBOARD_PREFIX = "/dashboard"
# Streamlit reads its options from the environment when it is imported; these make it a
# server (no browser, no usage statistics sent anywhere).
STREAMLIT_ENV = {"STREAMLIT_SERVER_HEADLESS": "true",
                 "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
                 "STREAMLIT_SERVER_RUN_ON_SAVE": "false",
                 "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none",
                 "STREAMLIT_CLIENT_TOOLBAR_MODE": "minimal"}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("web", help="serve beacon and dashboard (/dashboard) on one port")
    p.add_argument("--port", type=int, help="port (default $PORT or 8000)")
    p.add_argument("--host", default="0.0.0.0",  # noqa: S104 - it is a server
                   help="address to listen on (default 0.0.0.0)")
    p.add_argument("--threads", type=int, default=16,
                   help="threads answering beacon requests (default 16)")
    p.set_defaults(func=run_web)


def build_app(settings: Settings, threads: int = 16) -> Any:
    """The one-port ASGI app: /dashboard -> Streamlit, everything else -> the beacon."""
    for key, value in STREAMLIT_ENV.items():
        os.environ.setdefault(key, value)
    import streamlit as st
    from a2wsgi import WSGIMiddleware
    from starlette.applications import Starlette
    from starlette.responses import RedirectResponse
    from starlette.routing import Mount, Route

    from beacon_app import create_app, state_of

    beacon = create_app(settings)
    dashboard = st.App(str(DASHBOARD_SCRIPT))
    dashboard_lifespan = dashboard.lifespan()

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        try:
            async with dashboard_lifespan(app):
                yield
        finally:
            # Runs after uvicorn finished the requests in flight: nothing is lost.
            state_of(beacon).writer.stop()

    async def to_dashboard(_request: Any) -> RedirectResponse:
        return RedirectResponse(DASHBOARD_PREFIX + "/", status_code=308)

    return Starlette(routes=[
        Route(DASHBOARD_PREFIX, to_dashboard),
        Mount(DASHBOARD_PREFIX, app=dashboard),
        Mount("", app=WSGIMiddleware(beacon, workers=threads)),  # type: ignore[arg-type]
    ], lifespan=lifespan)


def run_web(args: argparse.Namespace) -> int:
    import logging

    import uvicorn

    settings = load_settings()
    # uvicorn logs each websocket's client address at INFO: we never log IP addresses.
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
    app = build_app(settings, threads=args.threads)
    uvicorn.run(
        app, host=args.host, port=args.port or settings.port, lifespan="on",
        # The beacon reads X-Forwarded-For itself (BEACON_TRUSTED_PROXIES); uvicorn must
        # not rewrite the client address, and its access log would record IPs.
        proxy_headers=False, access_log=False, server_header=False, log_config=None,
        timeout_graceful_shutdown=20, timeout_keep_alive=5,
        # One process: Streamlit's sessions live in it. uvicorn would otherwise read the
        # platform's WEB_CONCURRENCY (meant for the gunicorn `beacon` process type).
        workers=1,
    )
    return 0
