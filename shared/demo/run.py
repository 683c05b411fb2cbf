"""Demo data, stage "seed": write realistic traffic for a site through the real write path.

`run_demo` creates the site (and optional noise sites) if missing, registers demo goals,
spreads the requested number of events over the last `days` local days (weekday peaks,
a slow upward trend, a partial today), draws each day with `shared.demo.day`, writes it
in 50k-row batches (`shared.demo.rows`; one transaction per day), marks the touched days
dirty and rebuilds their rollups.

Deterministic for a seed: the same seed, size and `now` give the same rows. Event uids
derive from (seed, domain, local day), and a day that already holds demo events of the
seed is skipped: running the demo again adds nothing on the same day, resumes an
interrupted run, and on a later day only fills in the new days.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shared.core import schema
from shared.core.clock import utc_now
from shared.demo import catalog as cat
from shared.demo.day import DAY_SECONDS, day_columns, fraction_of_day
from shared.demo.rows import PAGES, day_rows, uid_stored, write_rows
from shared.rollups.mark import mark_dirty_days
from shared.sites import Site, add_site, get_site
from shared.storage import dialect_for, write_transaction

CHUNK_ROWS = 50_000
GENERATOR_VERSION = 2   # part of the uid prefix: data from another version is not "done"
# uid = prefix (seed, domain) | local day | index within the day. Ascending within a day
# (the unique index appends), and the first uid of a day says whether it was generated.
_PREFIX_BITS, _DAY_BITS, _INDEX_BITS = 22, 15, 26
_EPOCH = date(2000, 1, 1)


def day_uid(prefix: int, day: date) -> int:
    """The uid of the first demo event of `day` (days from 2000 to 2089 fit)."""
    offset = (day - _EPOCH).days % (1 << _DAY_BITS)
    return (prefix << (_DAY_BITS + _INDEX_BITS)) | (offset << _INDEX_BITS)
@dataclass(frozen=True)
class DemoSpec:
    """What to generate. Noise sites each get `noise_share` of the main site's events."""

    domain: str
    days: int = 90
    events: int = 100_000
    seed: int = 1
    noise_sites: int = 0
    noise_share: float = 0.05
    timezone: str = "UTC"


@dataclass
class DemoReport:
    site: Site
    events: dict[str, int] = field(default_factory=dict)   # per domain
    write_seconds: float = 0.0
    rollup_seconds: float = 0.0


def check_spec(spec: DemoSpec) -> None:
    """Raise ValueError with a one-line reason for an unusable spec."""
    if not 1 <= spec.days <= 3650:
        raise ValueError(f"--days must be between 1 and 3650, got {spec.days}")
    if not 0 <= spec.events <= 200_000_000:
        raise ValueError(f"--events must be between 0 and 200000000, got {spec.events}")
    if not 0 <= spec.noise_sites <= 50:
        raise ValueError(f"--noise-sites must be between 0 and 50, got {spec.noise_sites}")
    if spec.events > spec.days * 30_000_000:
        raise ValueError("--events allows at most 30000000 events a day on average")
    if spec.seed < 0:
        raise ValueError("--seed must not be negative")


def run_demo(engine: Engine, spec: DemoSpec, *, now: datetime | None = None,
             progress: Callable[[int], None] | None = None, rebuild: bool = True) -> DemoReport:
    """Generate and store the demo traffic; `progress(n)` is called after each batch."""
    check_spec(spec)
    now = (now or utc_now()).replace(tzinfo=None)
    sites = _ensure_sites(engine, spec, now)
    report = DemoReport(site=sites[0][0])
    started = time.perf_counter()
    plans = [_SitePlan(site, total, spec, index, now)
             for index, (site, total) in enumerate(sites)]
    for day_index in range(spec.days):
        with write_transaction(engine) as conn:
            touched: set[tuple[int, date]] = set()
            for plan in plans:
                written = plan.write_day(conn, day_index, progress)
                touched |= written
                report.events[plan.site.domain] = plan.written
            mark_dirty_days(conn, sorted(touched), now)
    report.write_seconds = time.perf_counter() - started
    analyze(engine)
    if rebuild:
        started = time.perf_counter()
        _rebuild(engine, now)
        report.rollup_seconds = time.perf_counter() - started
        analyze(engine)
    return report


def analyze(engine: Engine) -> None:
    """Refresh the planner's statistics after a bulk load (see the Dialect's
    `refresh_statistics`: PostgreSQL's planner would otherwise believe the tables empty)."""
    dialect_for(engine).refresh_statistics(engine)


def _ensure_sites(engine: Engine, spec: DemoSpec, now: datetime) -> list[tuple[Site, int]]:
    wanted = [(spec.domain, spec.events)]
    noise_events = int(spec.events * spec.noise_share)
    wanted += [(f"demo-noise-{i}.example", noise_events) for i in range(1, spec.noise_sites + 1)]
    out = []
    with write_transaction(engine) as conn:
        for domain, total in wanted:
            site = get_site(conn, domain) or add_site(conn, domain, timezone=spec.timezone,
                                                      now=now)
            _ensure_goals(conn, site.id, now)
            out.append((site, total))
    return out


def _ensure_goals(conn: Connection, site_id: int, now: datetime) -> None:
    g = schema.goals
    have = set(conn.scalars(sa.select(g.c.display_name).where(g.c.site_id == site_id)))
    rows = [{"site_id": site_id, "kind": kind, "page_path": page, "event_name": event,
             "display_name": name, "created_at": now, "currency": currency}
            for kind, page, event, name, currency in cat.GOALS if name not in have]
    if rows:
        conn.execute(sa.insert(g), rows)


class _SitePlan:
    """One site's share of the run: its days, per-day quotas and uid sequence."""

    def __init__(self, site: Site, total: int, spec: DemoSpec, index: int,
                 now: datetime) -> None:
        self.site, self.seed, self.index, days = site, spec.seed, index, spec.days
        self.tz = ZoneInfo(site.timezone)
        today = now.replace(tzinfo=UTC).astimezone(self.tz)
        self.today_seconds = (today - today.replace(hour=0, minute=0, second=0,
                                                    microsecond=0)).total_seconds()
        self.days = [today.date() - timedelta(days=days - 1 - i) for i in range(days)]
        self.quotas = day_quotas(np.random.default_rng([self.seed, index, 0]), total,
                                 self.days, fraction_of_day(self.today_seconds))
        run = f"{GENERATOR_VERSION}:{self.seed}:{site.domain}"
        digest = hashlib.blake2b(run.encode(), digest_size=8).digest()
        self.prefix = int.from_bytes(digest, "big") >> (64 - _PREFIX_BITS)
        self.page_p = cat.zipf_weights(len(PAGES))
        self.written = 0

    def write_day(self, conn: Connection, day_index: int,
                  progress: Callable[[int], None] | None) -> set[tuple[int, date]]:
        day, quota = self.days[day_index], int(self.quotas[day_index])
        if quota == 0:
            return set()
        last = day_index == len(self.days) - 1
        limit = self.today_seconds if last else float(DAY_SECONDS)
        first_uid = day_uid(self.prefix, day)
        if uid_stored(conn, first_uid):        # this day holds demo data of this seed
            return set()
        rng = np.random.default_rng([self.seed, self.index, day.toordinal()])
        cols = day_columns(rng, quota, limit, self.page_p)
        midnight = datetime.combine(day, datetime.min.time(), self.tz).astimezone(UTC)
        for start in range(0, len(cols), CHUNK_ROWS):
            rows = day_rows(cols, start, start + CHUNK_ROWS, self.site.id, self.site.domain,
                            midnight, first_uid + start, dialect_for(conn))
            write_rows(conn, rows)
            self.written += len(rows)
            if progress:
                progress(len(rows))
        spill = bool((cols.seconds >= DAY_SECONDS).any())
        return {(self.site.id, day)} | ({(self.site.id, day + timedelta(days=1))} if spill
                                        else set())


def day_quotas(rng: np.random.Generator, total: int, days: list[date],
               today_fraction: float) -> np.ndarray:
    """Split `total` over `days` (exact sum): weekday cycle, +30 % trend, daily noise,
    and only the elapsed share of today."""
    n = len(days)
    weights = np.array([cat.WEEKDAY[d.weekday()] for d in days], dtype=np.float64)
    weights *= 1.0 + 0.3 * np.arange(n) / max(n - 1, 1)
    weights *= rng.lognormal(0.0, 0.08, n)
    weights[-1] *= today_fraction
    exact = total * weights / weights.sum()
    quotas = np.floor(exact).astype(np.int64)
    remainder = total - int(quotas.sum())
    quotas[np.argsort(exact - quotas)[::-1][:remainder]] += 1     # largest remainders
    return quotas


def _rebuild(engine: Engine, now: datetime) -> None:
    from shared.rollups.build import rebuild_dirty  # the rollup stage owns the rebuild

    rebuild_dirty(engine, now)
