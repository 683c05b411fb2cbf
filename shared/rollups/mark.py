"""Rollups stage, job 1 of 3: mark the (site, local day)s whose events changed.

The writer calls `mark_dirty_days` in the transaction that inserts the events; the worker's
build (shared.rollups.build) rebuilds marked days and deletes the marks. This module is all
the beacon's write path needs of the rollups, so it imports nothing of the query model.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection

from shared.core import schema
from shared.core.clock import local_day
from shared.storage import dialect_for

D = schema.dirty_days


def mark_dirty_days(conn: Connection, site_days: Iterable[tuple[int, date]],
                    now: datetime) -> None:
    """Record that these (site, local day)s changed: insert, or set marked_at = now."""
    rows = [{"site_id": s, "day": d, "marked_at": now} for s, d in sorted(set(site_days))]
    if not rows:
        return
    stmt = dialect_for(conn).insert(D)
    stmt = stmt.on_conflict_do_update(index_elements=["site_id", "day"],
                                      set_={"marked_at": stmt.excluded.marked_at})
    conn.execute(stmt, rows)


def mark_dirty_range(conn: Connection, site_id: int, timezone: str, start: datetime,
                     end: datetime, now: datetime) -> None:
    """Mark every local day touched by UTC [start, end] (for bulk loaders)."""
    tz = ZoneInfo(timezone)
    first, last = local_day(start, tz), local_day(end, tz)
    days = [(site_id, first + timedelta(days=i)) for i in range((last - first).days + 1)]
    mark_dirty_days(conn, days, now)
