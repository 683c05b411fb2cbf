"""Per-app state of the beacon: everything the views need, built once by the factory."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from beacon_app.metrics import Metrics
from beacon_app.pipeline import Enrichers
from beacon_app.rate_limit import RateLimiter
from beacon_app.writer import Writer
from shared.core.clock import utc_now
from shared.core.settings import Settings
from shared.ingest.salts import create_salts, ensure_salts, read_salts
from shared.sites import SiteDirectory
from shared.storage import write_transaction

log = logging.getLogger(__name__)



class SaltCache:
    """Today's and yesterday's salt, read once per UTC day.

    The request path only reads (tomorrow's salt is made a day ahead by the app
    factory and the worker). If the database cannot be reached and nothing is cached,
    a process-local salt is used until it can: visitors are then counted per process
    for that time, which is logged, rather than refusing the hit.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._day: date | None = None
        self._salts: tuple[bytes, bytes | None] | None = None
        self._fallback: dict[date, bytes] = {}
        self._retry_at = 0.0
        self._lock = threading.Lock()

    def prepare(self, now: datetime) -> None:
        """Create today's and tomorrow's salts; best effort (the database may be down)."""
        try:
            with write_transaction(self._engine) as conn:
                create_salts(conn, now)
        except sa.exc.SQLAlchemyError as exc:
            log.warning("could not prepare salts yet: %s", str(exc).splitlines()[0][:160])

    def get(self, now: datetime) -> tuple[bytes, bytes | None]:
        if self._day == now.date() and self._salts is not None:
            return self._salts
        with self._lock:
            if self._day != now.date() or self._salts is None:
                self._load(now)
        assert self._salts is not None
        return self._salts

    def _load(self, now: datetime) -> None:
        if time.monotonic() >= self._retry_at:
            try:
                with self._engine.connect() as conn:
                    found = read_salts(conn, now.date())
                if found is None:
                    with write_transaction(self._engine) as conn:
                        found = ensure_salts(conn, now)
                self._salts, self._day = found, now.date()
                return
            except sa.exc.SQLAlchemyError as exc:
                log.warning("salts unavailable, using a process-local salt: %s",
                            str(exc).splitlines()[0][:160])
                self._retry_at = time.monotonic() + 5
        salt = self._fallback.setdefault(now.date(), secrets.token_bytes(32))
        self._salts, self._day = (salt, None), None   # _day None: try the database again


@dataclass
class BeaconState:
    settings: Settings
    engine: Engine
    sites: SiteDirectory
    enrichers: Enrichers
    writer: Writer
    metrics: Metrics
    salts: SaltCache
    limiter: RateLimiter
    clock: Callable[[], datetime] = field(default=utc_now)

    @property
    def session_timeout(self) -> timedelta:
        return timedelta(minutes=self.settings.session_timeout_minutes)
