"""Per-app state of the beacon: everything the views need, built once by the factory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from beacon_app.metrics import Metrics
from beacon_app.pipeline import Enrichers
from beacon_app.rate_limit import RateLimiter
from beacon_app.salt_cache import SaltCache
from beacon_app.writer import Writer
from shared.core.clock import utc_now
from shared.core.settings import Settings
from shared.sites import SiteDirectory


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

    def close(self) -> None:
        """Write what is queued and stop the background threads (process exit, tests)."""
        self.writer.stop()
        self.sites.close()
        self.salts.close()

    @property
    def session_timeout(self) -> timedelta:
        return timedelta(minutes=self.settings.session_timeout_minutes)
