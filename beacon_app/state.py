"""Per-app state of the beacon: everything the views need, built once by the factory."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.engine import Engine

from beacon_app.metrics import Metrics
from beacon_app.pipeline import Enrichers
from beacon_app.writer import Writer
from shared.salts import ensure_salts
from shared.settings import Settings
from shared.sites import SiteDirectory
from shared.storage import write_transaction


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class SaltCache:
    """Today's and yesterday's salt, fetched (or created) once per UTC day."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._day: date | None = None
        self._salts: tuple[bytes, bytes | None] | None = None
        self._lock = threading.Lock()

    def get(self, now: datetime) -> tuple[bytes, bytes | None]:
        if self._day == now.date() and self._salts is not None:
            return self._salts
        with self._lock:
            if self._day != now.date() or self._salts is None:
                with write_transaction(self._engine) as conn:
                    self._salts = ensure_salts(conn, now)
                self._day = now.date()
        return self._salts


class RateLimiter:
    """Fixed one-minute windows per client IP, in this process's memory only."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._window = 0
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def allow(self, ip: str) -> bool:
        if self.per_minute <= 0:
            return True
        window = int(time.monotonic() // 60)
        with self._lock:
            if window != self._window:
                self._window, self._counts = window, {}
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

    @property
    def session_timeout(self) -> timedelta:
        return timedelta(minutes=self.settings.session_timeout_minutes)
