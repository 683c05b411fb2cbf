"""Rollups stage, job 3 of 3: read the stored rows (what the reports ask of the rollups).

Stored rows answer a day only when it is not marked dirty (`dirty_days_between`); the
reports compute marked days from the raw events.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared.core import schema
from shared.stats import filters as flt
from shared.stats import raw
from shared.stats.dimensions import EVENT_DIMENSIONS, VISIT_DIMENSIONS

R = schema.daily_rollups
D = schema.dirty_days
TOTAL = ""                      # the dimension (and value) of a day's totals
ROW_COLUMNS = ("day", "value", "visitors", "visits", "bounces", "duration_ms", "pageviews",
               "events", "engaged_ms", "scroll_sum", "scroll_count", "revenue")


def dirty_days_between(conn: Connection, site_id: int, first: date, last: date) -> list[date]:
    """The site's days in [first, last] whose rollups are stale (answer them raw)."""
    rows = conn.execute(sa.select(D.c.day).where(
        D.c.site_id == site_id, D.c.day >= first, D.c.day <= last).order_by(D.c.day))
    return [r.day for r in rows]


def read_rows(site_id: int, dimension: str, first: date, last: date,
              skip_days: Sequence[date], value_condition: Any = None) -> sa.Select[Any]:
    """Stored rows (ROW_COLUMNS) of one dimension over [first, last] minus `skip_days`."""
    conds = [R.c.site_id == site_id, R.c.dimension == dimension, R.c.day >= first,
             R.c.day <= last]
    if skip_days:
        conds.append(R.c.day.not_in(list(skip_days)))
    if value_condition is not None:
        conds.append(value_condition)
    return sa.select(*[R.c[c] for c in ROW_COLUMNS]).where(*conds)


# --- visit rows: what queries with several filtered visit dimensions read --------------
V = schema.rollup_visits
VE = schema.rollup_visit_events
VISIT_SUMS = ("bounce", "duration_ms", "pageviews", "events", "engaged_ms", "scroll_sum",
               "scroll_count", "revenue")


def visit_rows_answer(filters: Sequence[Any], key: str | None) -> bool:
    """Can the stored visits answer this (day-level) query? Every filter must be on a
    visit dimension; the grouping must be none, a visit or an event dimension."""
    if any(f.dimension not in VISIT_DIMENSIONS for f in filters):
        return False
    return key is None or key in VISIT_DIMENSIONS or key in EVENT_DIMENSIONS


def stored_visits(site_id: int, first: date, last: date, skip_days: Sequence[date],
                  filters: Sequence[Any] = (), *, opaque_day: bool = False) -> sa.Subquery:
    """The stored visits of [first, last] minus `skip_days` that pass the visit filters,
    shaped like `raw.visits` (every stored visit has matching events: matched = 1).

    `opaque_day` exposes `day` as an expression: SQLite then does not copy the day range
    onto a table joined on it and looks that table up by (day, session) instead."""
    conds = [V.c.site_id == site_id, V.c.day >= first, V.c.day <= last]
    if skip_days:
        conds.append(V.c.day.not_in(list(skip_days)))
    conds += [flt.condition(V.c[f.dimension], f) for f in filters]
    day: Any = sa.func.coalesce(V.c.day, V.c.day) if opaque_day else V.c.day
    cols = [V.c.session_id, day.label("day"), V.c.visitor,
            *[V.c[d] for d in VISIT_DIMENSIONS], *[V.c[c] for c in VISIT_SUMS],
            sa.literal(1, sa.Integer).label("matched")]
    return sa.select(*cols).where(*conds).subquery("visits")


def stored_event_groups(site_id: int, dimension: str, first: date | None = None,
                        last: date | None = None,
                        skip_days: Sequence[date] = ()) -> sa.Subquery:
    """The stored `raw.event_groups` rows of one event dimension (all days, when the
    join to the visits is what picks them)."""
    conds = [VE.c.site_id == site_id, VE.c.dimension == dimension]
    if first is not None and last is not None:
        conds += [VE.c.day >= first, VE.c.day <= last]
    if skip_days:
        conds.append(VE.c.day.not_in(list(skip_days)))
    cols = [VE.c[c] for c in ("session_id", "day", "value", *raw.EVENT_SUM_COLUMNS)]
    return sa.select(*cols).where(*conds).subquery("ek")


def visit_rows(site_id: int, key: str | None, first: date, last: date,
               skip_days: Sequence[date], filters: Sequence[Any]) -> sa.Select[Any]:
    """Ingredient rows (ROW_COLUMNS) from the stored visits, grouped by `key`."""
    if key is not None and key in EVENT_DIMENSIONS:
        if filters:
            # Walk the few visits the filters keep and look up each one's groups by
            # (dimension, day, session) - not every group of the period, each looked up.
            vis = stored_visits(site_id, first, last, skip_days, filters, opaque_day=True)
            return raw.rows_by_event_groups(stored_event_groups(site_id, key), vis)
        vis = stored_visits(site_id, first, last, skip_days)
        ek = stored_event_groups(site_id, key, first, last, skip_days)
        return raw.rows_by_event_groups(ek, vis)
    return raw.rows_by_visit(stored_visits(site_id, first, last, skip_days, filters), key)
