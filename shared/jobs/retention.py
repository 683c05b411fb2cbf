"""Retention: delete a site's data older than it keeps (per-site months) or before a date.

Raw events and daily rollups have separate horizons (`sites.retention_months` and
`sites.rollup_retention_months`, 0 = forever), so a site can keep years of daily
aggregates after its raw events are gone. Two rules make that safe:

- cut-offs fall on the site's local midnight, so a purged day loses its raw events
  whole, never half - its rollup rows, built from the whole day, stay right;
- the day's `dirty_days` mark is deleted with its events, so the worker never rebuilds
  a purged day from nothing (which would wipe the rollups we meant to keep).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shared.core import schema
from shared.core.clock import local_day, local_midnight_utc
from shared.sites import Site, list_sites
from shared.storage import write_transaction

log = logging.getLogger(__name__)
DELETE_CHUNK_DAYS = 31   # one transaction per month of events: short write locks


@dataclass(frozen=True)
class Purged:
    events: int = 0
    rollups: int = 0
    other: int = 0        # drop counts and dirty-day marks

    def __add__(self, other: Purged) -> Purged:
        return Purged(self.events + other.events, self.rollups + other.rollups,
                      self.other + other.other)


def months_before(day: date, months: int) -> date:
    """The same day `months` calendar months earlier (31 March - 1 month = 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def count_before(conn: Connection, site: Site, before: date) -> Purged:
    """What `purge_before` would delete (for a dry run)."""
    cutoff = local_midnight_utc(before, ZoneInfo(site.timezone))
    e, r = schema.events, schema.daily_rollups
    events = conn.execute(sa.select(sa.func.count()).select_from(e)
                          .where(e.c.site_id == site.id, e.c.ts < cutoff)).scalar_one()
    rollups = conn.execute(sa.select(sa.func.count()).select_from(r)
                           .where(r.c.site_id == site.id, r.c.day < before)).scalar_one()
    return Purged(int(events), int(rollups))


def purge_events_before(engine: Engine, site: Site, before: date) -> Purged:
    """Delete the site's raw events of local days before `before` (and their marks)."""
    tz = ZoneInfo(site.timezone)
    cutoff = local_midnight_utc(before, tz)
    e, d = schema.events, schema.dirty_days
    with engine.connect() as conn:
        oldest = conn.execute(sa.select(sa.func.min(e.c.ts))
                              .where(e.c.site_id == site.id, e.c.ts < cutoff)).scalar()
    total = Purged()
    start = local_day(oldest, tz) if oldest is not None else before
    while start < before:
        # Oldest first, a month per transaction: the beacon's writer waits at most for one.
        step = min(start + timedelta(days=DELETE_CHUNK_DAYS), before)
        upto = local_midnight_utc(step, tz)
        with write_transaction(engine) as conn:
            n = conn.execute(sa.delete(e).where(e.c.site_id == site.id, e.c.ts < upto)).rowcount
            m = conn.execute(sa.delete(d).where(d.c.site_id == site.id,
                                                d.c.day < step)).rowcount or 0
            # The stored visits are per-visit detail like the events: they go with them.
            for t in (schema.rollup_visits, schema.rollup_visit_events):
                m += conn.execute(sa.delete(t).where(t.c.site_id == site.id,
                                                     t.c.day < step)).rowcount or 0
        total += Purged(events=n or 0, other=m or 0)
        start = step
    return total


def purge_rollups_before(engine: Engine, site: Site, before: date) -> Purged:
    r, c = schema.daily_rollups, schema.drop_counts
    with write_transaction(engine) as conn:
        n = conn.execute(sa.delete(r).where(r.c.site_id == site.id, r.c.day < before)).rowcount
        m = conn.execute(sa.delete(c).where(c.c.site_id == site.id, c.c.day < before)).rowcount
        b = schema.bot_counts
        m = (m or 0) + (conn.execute(sa.delete(b).where(b.c.site_id == site.id,
                                                          b.c.day < before)).rowcount or 0)
    return Purged(rollups=n or 0, other=m or 0)


def purge_before(engine: Engine, site: Site, before: date) -> Purged:
    """`beacon purge`: everything of the site before local day `before`."""
    return purge_events_before(engine, site, before) + purge_rollups_before(engine, site, before)


def apply_retention(engine: Engine, now: datetime) -> Purged:
    """The worker job: enforce every site's retention months (0 = keep forever)."""
    with engine.connect() as conn:
        sites = list_sites(conn)
    total = Purged()
    for site in sites:
        today = local_day(now, ZoneInfo(site.timezone))
        if site.retention_months > 0:
            total += purge_events_before(engine, site, months_before(today,
                                                                     site.retention_months))
        if site.rollup_retention_months > 0:
            total += purge_rollups_before(engine, site, months_before(
                today, site.rollup_retention_months))
    if total.events or total.rollups:
        log.info("retention: deleted %d events and %d rollup rows", total.events, total.rollups)
    return total
