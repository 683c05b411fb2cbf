"""Rollups stage, job 2 of 3: build the pre-aggregated rows of the days marked dirty.

Per (site, local day) the build stores three things:

* `rollup_visits`: the day's visits exactly as `raw.visits` computes them;
* `rollup_visit_events`: per visit and value of an event dimension, the sums of
  `raw.event_groups` (groups with a matching non-engagement event only);
* `daily_rollups`: per dimension and value, the sums of those stored rows - for event
  dimensions by `visit_rows`, the same function that answers filtered queries from them;
  for the totals and visit dimensions in memory from one read (`visit_sums`).

A day's rows are rebuilt whole (delete + INSERT ... SELECT), so a rebuild is idempotent.
SQLite builds a day in one transaction; PostgreSQL runs independent parts side by side
in their own transactions while the day stays marked dirty (see `_build`).
Visits are cut at local midnight, so a day's rows depend only on that day's events and
marking the days of written events is enough.

The writer marks days (shared.rollups.mark) in the transaction that inserts the events;
the worker calls `rebuild_dirty`, which locks each dirty row, rebuilds the day and deletes
the row only if nobody marked it again meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shared.core import schema
from shared.core.clock import local_day, local_midnight_utc, utc_now
from shared.rollups import helper as rollup_helper
from shared.rollups.day_visits import VISIT_COLUMNS, day_scope, visits_of
from shared.rollups.mark import mark_dirty_days
from shared.rollups.read import ROW_COLUMNS, TOTAL, visit_rows
from shared.rollups.visit_sums import visit_dimension_rows
from shared.stats import raw
from shared.stats.dimensions import EVENT_DIMENSIONS, VISIT_DIMENSIONS
from shared.storage import dialect_for, write_transaction

log = logging.getLogger(__name__)
R = schema.daily_rollups
D = schema.dirty_days
V = schema.rollup_visits
VE = schema.rollup_visit_events


# --- the build ------------------------------------------------------------------------
def _site_timezone(conn: Connection, site_id: int) -> ZoneInfo | None:
    tz = conn.execute(sa.select(schema.sites.c.timezone)
                      .where(schema.sites.c.id == site_id)).scalar()
    return ZoneInfo(tz) if tz else None


def _insert_rows(conn: Connection, site_id: int, dimension: str, rows: sa.Select[Any]) -> None:
    sub = rows.subquery()
    select = sa.select(sa.literal(site_id, sa.Integer), sa.literal(dimension, sa.String),
                       *[sub.c[c] for c in ROW_COLUMNS])
    conn.execute(R.insert().from_select(["site_id", "dimension", *ROW_COLUMNS], select))


def _store_visits(conn: Connection, site_id: int, day: date, scope: raw.Scope,
                  computed: Sequence[tuple[Any, ...]] | None = None) -> None:
    """Part 1: the day's visits (`rollup_visits`), computed here or handed over
    (`computed`: SQLite driver rows of `day_visit_rows`, from the build's helper process)."""
    conn.execute(V.delete().where(V.c.site_id == site_id, V.c.day == day))
    if computed is None:
        conn.execute(V.insert().from_select(list(VISIT_COLUMNS),
                                            visits_of(scope, dialect_for(conn))))
    elif computed:
        # The driver's rows, straight back to the driver: 30k visits in ~0.1 s, where
        # SQLAlchemy's per-row parameter processing took 0.6-0.9 s.
        names = ", ".join(VISIT_COLUMNS)
        marks = ", ".join("?" * len(VISIT_COLUMNS))
        cursor = conn.connection.dbapi_connection.cursor()   # type: ignore[union-attr]
        try:
            cursor.executemany(f"INSERT INTO {V.name} ({names}) VALUES ({marks})", computed)
        finally:
            cursor.close()


def _store_groups(conn: Connection, site_id: int, day: date, scope: raw.Scope) -> None:
    """Part 1: the day's (visit, event value) groups (`rollup_visit_events`)."""
    # With the dimensions named, the delete seeks the (site, dimension, day) index
    # instead of walking every day of the site.
    conn.execute(VE.delete().where(VE.c.site_id == site_id,
                                   VE.c.dimension.in_(list(EVENT_DIMENSIONS)),
                                   VE.c.day == day))
    cols = ["session_id", "day", "value", *raw.EVENT_SUM_COLUMNS]
    for dim in EVENT_DIMENSIONS:
        ebase = raw.base_events(scope, dialect_for(conn), event_key=dim)
        groups = raw.event_groups(scope, ebase).subquery("groups")
        conn.execute(VE.insert().from_select(
            ["site_id", "dimension", *cols],
            sa.select(sa.literal(site_id, sa.Integer), sa.literal(dim, sa.String),
                      *[groups.c[c] for c in cols])
            .where(groups.c.matched > 0)))   # other groups never count (rows_by_event_groups)


def _sums_read_fresh_rows(conn: Connection) -> None:
    # The sums read whole days of the rows just written, which a planner's statistics
    # may not know yet (a new site, the first build after an upgrade).
    dialect_for(conn).before_reading_fresh_rows(conn)


def _store_visit_dimension_rows(conn: Connection, site_id: int, day: date,
                                summed: list[dict[str, Any]] | None = None) -> None:
    """Part 2: the totals' and visit dimensions' daily rows, from the stored visits
    (or `summed` from them already, by the SQLite build's helper process)."""
    conn.execute(R.delete().where(R.c.site_id == site_id,
                                  R.c.dimension.in_([TOTAL, *VISIT_DIMENSIONS]),
                                  R.c.day == day))
    if summed is None:
        _sums_read_fresh_rows(conn)
        summed = visit_dimension_rows(conn, site_id, day, TOTAL)
    if summed:
        conn.execute(R.insert(), summed)


def _store_event_dimension_rows(conn: Connection, site_id: int, day: date) -> None:
    """Part 2: the event dimensions' daily rows, from the stored visits and groups."""
    conn.execute(R.delete().where(R.c.site_id == site_id,
                                  R.c.dimension.in_(list(EVENT_DIMENSIONS)),
                                  R.c.day == day))
    _sums_read_fresh_rows(conn)
    for key in EVENT_DIMENSIONS:
        _insert_rows(conn, site_id, key, visit_rows(site_id, key, day, day, (), ()))


Part = Callable[[Connection], None]


class _Parts(NamedTuple):
    """The build of one (site, local day): the visits and the groups (each from the
    events), then the visit-dimension rows (from the visits) and the event-dimension
    rows (from both)."""

    visits: Part
    groups: Part
    visit_rows: Part
    event_rows: Part


def _parts(site_id: int, day: date, tz: ZoneInfo) -> _Parts:
    scope = day_scope(site_id, day, tz)
    return _Parts(lambda c: _store_visits(c, site_id, day, scope),
                  lambda c: _store_groups(c, site_id, day, scope),
                  lambda c: _store_visit_dimension_rows(c, site_id, day),
                  lambda c: _store_event_dimension_rows(c, site_id, day))


def _build(engine: Engine, conn: Connection, site_id: int, day: date, tz: ZoneInfo) -> None:
    """Replace the rollup rows of one day while `conn` holds the day's dirty mark.

    SQLite: every part in `conn`'s transaction, one after the other (one writer).
    PostgreSQL: two parts at a time, each in its own connection and transaction, every
    part started as soon as what it reads has committed. The day's rows are then
    written part by part, which no reader sees: while the day is marked dirty, queries
    compute it from the raw events, and the mark is deleted only after every part has
    committed (a failed part leaves it)."""
    parts = _parts(site_id, day, tz)
    dialect = dialect_for(conn)
    if not dialect.concurrent_writers:
        dialect.grow_page_cache(conn)   # (with memory_sorts=True)
        _build_sqlite(engine, conn, site_id, day, tz, parts)
        return
    with ThreadPoolExecutor(max_workers=2) as pool:
        def run(part: Part) -> Future[None]:
            return pool.submit(_in_transaction, engine, part)

        visits, groups = run(parts.visits), run(parts.groups)
        visits.result()
        visit_rows = run(parts.visit_rows)
        groups.result()
        event_rows = run(parts.event_rows)
        visit_rows.result()
        event_rows.result()


def _event_count(conn: Connection, scope: raw.Scope) -> int:
    """How many events the scope's site has in its UTC range (an index range count)."""
    E = schema.events
    return int(conn.execute(sa.select(sa.func.count()).select_from(E).where(
        E.c.site_id == scope.site_id, E.c.ts >= scope.start, E.c.ts < scope.end)).scalar() or 0)


def _build_sqlite(engine: Engine, conn: Connection, site_id: int, day: date, tz: ZoneInfo,
                  parts: _Parts) -> None:
    """One writer: the parts one after the other in `conn`'s transaction - except a big
    day's visits and their sums, which a helper process computes while this one writes
    the groups (then the event rows while it sums)."""
    pending = None
    scope = day_scope(site_id, day, tz)
    if rollup_helper.usable(engine) and _event_count(conn, scope) >= rollup_helper.MIN_EVENTS:
        pending = rollup_helper.visits_elsewhere(engine, site_id, day, str(tz))
    if pending is None:
        for part in parts:
            part(conn)
        return
    try:
        parts.groups(conn)
        visits = pending.next()
        if visits is None:
            parts.visits(conn)
        else:
            _store_visits(conn, site_id, day, scope, visits)
        parts.event_rows(conn)
        # the helper's sums if it is still answering, else summed here from the visits
        summed = pending.next() if pending.left else None
        _store_visit_dimension_rows(conn, site_id, day, summed)
    finally:
        pending.close()


def _in_transaction(engine: Engine, part: Part) -> None:
    with write_transaction(engine) as conn:
        part(conn)


def rebuild_day(engine: Engine, site_id: int, day: date) -> bool:
    """Rebuild one day now, marked or not; False when the site is gone."""
    if dialect_for(engine).concurrent_writers:
        # The parts commit one by one: mark the day so queries compute it raw meanwhile.
        with write_transaction(engine) as conn:
            mark_dirty_days(conn, [(site_id, day)], utc_now())
    return _rebuild_marked(engine, site_id, day, unmarked_too=True)


def _rebuild_marked(engine: Engine, site_id: int, day: date, *,
                    unmarked_too: bool = False) -> bool:
    with write_transaction(engine, memory_sorts=True) as conn:
        # Lock the mark: a writer marking this day again waits for our commit, so its
        # events are either seen here or leave the row marked for the next round.
        # Another worker skips a locked mark; `unmarked_too` waits for it instead.
        mark = sa.select(D.c.marked_at).where(D.c.site_id == site_id, D.c.day == day)
        marked = conn.execute(mark.with_for_update(skip_locked=not unmarked_too)).scalar()
        if marked is None and not unmarked_too:
            return True
        tz = _site_timezone(conn, site_id)
        if tz is None:
            conn.execute(D.delete().where(D.c.site_id == site_id))
            return False
        _build(engine, conn, site_id, day, tz)
        if marked is not None:
            conn.execute(D.delete().where(D.c.site_id == site_id, D.c.day == day,
                                          D.c.marked_at <= marked))
    return True


def rebuild_dirty(engine: Engine, now: datetime, *, limit: int | None = None) -> int:
    """Rebuild the days marked dirty at or before `now`; returns how many were handled."""
    with engine.connect() as conn:
        todo = conn.execute(sa.select(D.c.site_id, D.c.day).where(D.c.marked_at <= now)
                            .order_by(D.c.marked_at).limit(limit)).all()
    for site_id, day in todo:
        _rebuild_marked(engine, site_id, day)
    if todo:
        log.info("rebuilt rollups of %d day(s)", len(todo))
    return len(todo)


def event_days(conn: Connection, site_id: int, since: date | None = None) -> list[date]:
    """The local days on which the site has events (since `since`, included)."""
    tz = _site_timezone(conn, site_id)
    if tz is None:
        return []
    E = schema.events
    cond = [E.c.site_id == site_id]
    if since is not None:
        cond.append(E.c.ts >= local_midnight_utc(since, tz))
    lo, hi = conn.execute(sa.select(sa.func.min(E.c.ts), sa.func.max(E.c.ts)).where(*cond)).one()
    if lo is None:
        return []
    first, last = local_day(lo, tz), local_day(hi, tz)
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def rebuild_site(engine: Engine, site_id: int, since: date | None = None) -> int:
    """Rebuild every day of a site that has events (from `since`); returns the day count."""
    with engine.connect() as conn:
        days = event_days(conn, site_id, since)
    for day in days:
        rebuild_day(engine, site_id, day)
    return len(days)
