"""Rollups stage: a day's visits, as the build stores them in `rollup_visits`.

Its own module because two processes compute them: the build (shared.rollups.build) and,
for a big SQLite day, the build's helper process (shared.rollups.helper).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared.core.clock import local_midnight_utc
from shared.rollups.read import TOTAL, VISIT_SUMS
from shared.rollups.visit_sums import rows_of_visits
from shared.stats import raw
from shared.stats.dimensions import VISIT_DIMENSIONS
from shared.storage import Dialect, dialect_for

VISIT_COLUMNS = ("site_id", "session_id", "day", "visitor", *VISIT_DIMENSIONS, *VISIT_SUMS)


def day_scope(site_id: int, day: date, tz: ZoneInfo) -> raw.Scope:
    start, end = local_midnight_utc(day, tz), local_midnight_utc(day + timedelta(days=1), tz)
    return raw.Scope(site_id, start, end, tz, fixed_day=day)


def visits_of(scope: raw.Scope, dialect: Dialect) -> sa.Select[Any]:
    dims = list(VISIT_DIMENSIONS)
    base = raw.base_events(scope, dialect, visit_dims=dims)
    visits = raw.visits(scope, base, dialect, dims).subquery("built")
    return sa.select(sa.literal(scope.site_id, sa.Integer).label("site_id"),
                     *[visits.c[n] for n in VISIT_COLUMNS[1:]])


def day_visit_rows(conn: Connection, site_id: int, day: date,
                   tz: ZoneInfo) -> Sequence[tuple[Any, ...]]:
    """The day's visits as SQLite's driver returns them (columns `VISIT_COLUMNS`): what
    the SQLite build's helper process computes (see shared.rollups.helper). The driver's own
    rows, as SQLite stores them: the build inserts them unchanged (SQLAlchemy's result
    processing would cost 0.2 s for nothing)."""
    select = visits_of(day_scope(site_id, day, tz), dialect_for(conn))
    rows: Sequence[tuple[Any, ...]] = conn.execute(select).cursor.fetchall()
    return rows


def day_visit_sums(rows: Sequence[tuple[Any, ...]], site_id: int,
                   day: date) -> list[dict[str, Any]]:
    """The totals' and visit dimensions' daily rows of `day_visit_rows`."""
    columns = dict(zip(VISIT_COLUMNS, zip(*rows, strict=True), strict=False))
    return rows_of_visits(columns, site_id, day, TOTAL)
