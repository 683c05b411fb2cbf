"""The beacon: a Flask app that receives hits, enriches them and hands them to the writer.

`create_app(settings=None)` is the factory: every resource (engine, writer, lookups)
is bound here, not at import time, so tests can build many independent apps.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask

from beacon_app.hits import HitEndpoints, request_limit
from beacon_app.metrics import Metrics
from beacon_app.pipeline import Enrichers
from beacon_app.rate_limit import RateLimiter
from beacon_app.salt_cache import SaltCache
from beacon_app.security import ResponseHeaders
from beacon_app.spool import Spool
from beacon_app.state import BeaconState
from beacon_app.writer import Writer
from shared.core.clock import utc_now
from shared.core.logs import configure_logging
from shared.core.settings import Settings, load_settings
from shared.sites import SiteDirectory
from shared.storage import make_engine
from shared.storage.private_files import secure_start

# Blueprints registered by the factory: (module, attribute).
BLUEPRINTS = (
    ("beacon_app.routes", "bp"),
    ("beacon_app.health", "bp"),
    ("beacon_app.tracker", "bp"),
    ("beacon_app.stats_api.http", "bp"),
    ("beacon_app.stats_api.bots", "bp"),
    ("beacon_app.stats_api.v1", "bp"),
    ("beacon_app.stats_api.sites_v1", "bp"),
    ("beacon_app.security", "bp"),
    ("beacon_app.unsubscribe", "bp"),
)


def create_app(settings: Settings | None = None, *,
               clock: Callable[[], datetime] | None = None) -> Flask:
    settings = settings or load_settings()
    configure_logging(settings.log_level)
    secure_start(settings)
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = request_limit(settings)
    engine = make_engine(settings.resolved_database_url, pool_size=4)
    clock = clock or utc_now
    # Sites and salts are served from memory (and a copy on disk), never read from the
    # database on the request path: a database outage must not touch the answers.
    data_dir = Path(settings.data_dir)
    sites = SiteDirectory(engine, file=data_dir / "sites.json")
    spool_dir = settings.resolved_spool_dir
    metrics = Metrics(spool_dir)
    writer = Writer(
        engine, Spool(spool_dir, fsync=settings.spool_fsync, max_bytes=settings.spool_max_bytes),
        metrics, timezone_of=lambda site_id: (s.timezone if (s := sites.by_id(site_id)) else "UTC"),
        batch_size=settings.batch_size, flush_interval=settings.flush_interval_ms / 1000,
        session_timeout=timedelta(minutes=settings.session_timeout_minutes), clock=clock,
    )
    salts = SaltCache(engine, clock, data_dir=data_dir)
    salts.prepare()     # today's and tomorrow's, made now if the worker has not yet
    state = app.extensions["beacon"] = BeaconState(
        settings=settings, engine=engine, sites=sites, enrichers=Enrichers.load(settings),
        writer=writer, metrics=metrics, salts=salts,
        limiter=RateLimiter(settings.rate_limit_per_minute, spool_dir), clock=clock,
    )
    # Start now so a restarted process replays what a crashed one left in the spool.
    writer.start()
    for module, attr in BLUEPRINTS:
        app.register_blueprint(getattr(importlib.import_module(module), attr))
    # Hits skip Flask's request machinery (hits.py says why); the headers wrap both.
    app.wsgi_app = ResponseHeaders(HitEndpoints(app.wsgi_app, state))  # type: ignore[method-assign]
    logging.getLogger(__name__).debug("beacon app created")
    return app


def state_of(app: Flask) -> BeaconState:
    state: BeaconState = app.extensions["beacon"]
    return state
