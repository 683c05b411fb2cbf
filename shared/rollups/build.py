"""Rollups: build, mark and read the pre-aggregated rows.

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

The writer calls `mark_dirty_days` in the transaction that inserts the events; the
worker calls `rebuild_dirty`, which locks each dirty row, rebuilds the day and deletes
the row only if nobody marked it again meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from shared.core import schema
from shared.rollups import helper as rollup_helper
from shared.rollups.visit_sums import rows_of_visits, visit_dimension_rows
from shared.stats import filters as flt
from shared.stats import raw
from shared.stats.dimensions import EVENT_DIMENSIONS, VISIT_DIMENSIONS
from shared.stats.query import local_day, local_midnight_utc
from shared.storage import write_transaction

log = logging.getLogger(__name__)
R = schema.daily_rollups
D = schema.dirty_days
TOTAL = ""                      # the dimension (and value) of a day's totals
ROW_COLUMNS = ("day", "value", "visitors", "visits", "bounces", "duration_ms", "pageviews",
               "events", "engaged_ms", "scroll_sum", "scroll_count", "revenue")


def mark_dirty_days(conn: Connection, site_days: Iterable[tuple[int, date]],
                    now: datetime) -> None:
    """Record that these (site, local day)s changed: insert, or set marked_at = now."""
    rows = [{"site_id": s, "day": d, "marked_at": now} for s, d in sorted(set(site_days))]
    if not rows:
        return
    module: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = module.insert(D)
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


VISIT_COLUMNS = ("site_id", "session_id", "day", "visitor", *VISIT_DIMENSIONS, *VISIT_SUMS)


def _day_scope(site_id: int, day: date, tz: ZoneInfo) -> raw.Scope:
    start, end = local_midnight_utc(day, tz), local_midnight_utc(day + timedelta(days=1), tz)
    return raw.Scope(site_id, start, end, tz, fixed_day=day)


def _visits_of(scope: raw.Scope, dialect: str) -> sa.Select[Any]:
    dims = list(VISIT_DIMENSIONS)
    base = raw.base_events(scope, dialect, visit_dims=dims)
    visits = raw.visits(scope, base, dialect, dims).subquery("built")
    return sa.select(sa.literal(scope.site_id, sa.Integer).label("site_id"),
                     *[visits.c[n] for n in VISIT_COLUMNS[1:]])


def day_visit_rows(conn: Connection, site_id: int, day: date,
                   tz: ZoneInfo) -> Sequence[tuple[Any, ...]]:
    """The day's visits as SQLite's driver returns them (columns `VISIT_COLUMNS`): what
    the SQLite build's helper process computes (see `rollup_helper`). The driver's own
    rows, as SQLite stores them: the build inserts them unchanged (SQLAlchemy's result
    processing would cost 0.2 s for nothing)."""
    select = _visits_of(_day_scope(site_id, day, tz), conn.dialect.name)
    rows: Sequence[tuple[Any, ...]] = conn.execute(select).cursor.fetchall()
    return rows


def day_visit_sums(rows: Sequence[tuple[Any, ...]], site_id: int,
                   day: date) -> list[dict[str, Any]]:
    """The totals' and visit dimensions' daily rows of `day_visit_rows`."""
    columns = dict(zip(VISIT_COLUMNS, zip(*rows, strict=True), strict=False))
    return rows_of_visits(columns, site_id, day, TOTAL)


def _store_visits(conn: Connection, site_id: int, day: date, scope: raw.Scope,
                  computed: Sequence[tuple[Any, ...]] | None = None) -> None:
    """Part 1: the day's visits (`rollup_visits`), computed here or handed over
    (`computed`: SQLite driver rows of `day_visit_rows`, from the build's helper process)."""
    conn.execute(V.delete().where(V.c.site_id == site_id, V.c.day == day))
    if computed is None:
        conn.execute(V.insert().from_select(list(VISIT_COLUMNS),
                                            _visits_of(scope, conn.dialect.name)))
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
        ebase = raw.base_events(scope, conn.dialect.name, event_key=dim)
        groups = raw.event_groups(scope, ebase).subquery("groups")
        conn.execute(VE.insert().from_select(
            ["site_id", "dimension", *cols],
            sa.select(sa.literal(site_id, sa.Integer), sa.literal(dim, sa.String),
                      *[groups.c[c] for c in cols])
            .where(groups.c.matched > 0)))   # other groups never count (rows_by_event_groups)


def _sums_read_fresh_rows(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        # The sums read whole days of the rows just written, which the planner's
        # statistics may not know yet (a new site, the first build after an upgrade):
        # a nested loop guessed from "1 row" would compare every visit with every group.
        conn.exec_driver_sql("SET LOCAL enable_nestloop = off")


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
    scope = _day_scope(site_id, day, tz)
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
    if conn.dialect.name != "postgresql":
        conn.exec_driver_sql("PRAGMA cache_size=-65536")   # (with memory_sorts=True)
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
    scope = _day_scope(site_id, day, tz)
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
    if engine.dialect.name == "postgresql":
        # The parts commit one by one: mark the day so queries compute it raw meanwhile.
        with write_transaction(engine) as conn:
            mark_dirty_days(conn, [(site_id, day)], datetime.now(UTC).replace(tzinfo=None))
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
