"""Per-app state of the beacon: everything the views need, built once by the factory."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from beacon_app.metrics import Metrics
from beacon_app.pipeline import Enrichers
from beacon_app.salt_cache import SaltCache
from beacon_app.writer import Writer
from shared.settings import Settings
from shared.sites import SiteDirectory


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class RateLimiter:
    """Fixed one-minute windows per client IP, in this process's memory only.

    At most `max_tracked` addresses are counted per window, so a flood from many
    (spoofed or real) addresses cannot grow memory without bound; addresses beyond that
    share one counter, which is then limited like a single client.
    """

    OVERFLOW = "*overflow*"

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic,
                 max_tracked: int = 100_000) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._max_tracked = max_tracked
        self._window = 0
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def allow(self, ip: str) -> bool:
        if self.per_minute <= 0:
            return True
        window = int(self._clock() // 60)
        with self._lock:
            if window != self._window:
                self._window, self._counts = window, {}
            if ip not in self._counts and len(self._counts) >= self._max_tracked:
                ip = self.OVERFLOW
            count = self._counts.get(ip, 0) + 1
            self._counts[ip] = count
        return count <= self.per_minute


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
