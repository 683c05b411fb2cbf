"""Data out, stage "stream": a query's raw events as Arrow record batches.

The statement (`events_select`) carries the period and every filter, visit-level ones
included, so the database returns only the rows wanted; the rows come as Arrow batches
from the driver (`Dialect.arrow_batches`), are cut into batches of exactly
`batch_rows` rows (the last one shorter), whatever the driver's own batch size, and are
typed once to the export schema (`event_schema.conform`). Memory holds about two
batches at a time whatever the number of rows; equal batches make the files written
from them (Parquet row groups above all) the same bytes from every backend and run.

    import shared.dataout.event_stream as es
    for batch in es.event_batches(engine, query):          # pyarrow.RecordBatch
        ...
    polars.from_arrow(es.events_reader(engine, query))     # or pandas, DuckDB
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from shared.core import schema
from shared.dataout.event_schema import EVENT_COLUMNS, conform, events_schema
from shared.reports import traffic as rep
from shared.stats import raw
from shared.stats.dimensions import EVENT_DIMENSIONS, is_prop, prop_key
from shared.stats.filters import condition, split
from shared.stats.query import Filter, QueryError, StatsQuery
from shared.storage import Dialect, dialect_for

EV = schema.events
DEFAULT_BATCH_ROWS = 100_000


def _where(query: StatsQuery, dialect: Dialect) -> list[Any]:
    start, end = query.utc_range
    where: list[Any] = [EV.c.site_id == query.site_id, EV.c.ts >= start, EV.c.ts < end]
    visit_filters, event_filters = split(query.filters)
    for f in event_filters:
        col = (EV.c.props[prop_key(f.dimension)].as_string() if is_prop(f.dimension)
               else EV.c[EVENT_DIMENSIONS[f.dimension]])
        where.append(condition(col, f))
    if visit_filters:
        where.append(EV.c.session_id.in_(_matching_sessions(query, dialect, visit_filters)))
    return where


def events_select(query: StatsQuery, dialect: Dialect,
                  columns: Sequence[str] = EVENT_COLUMNS) -> sa.Select[Any]:
    """Raw events of the query's period in time order. With filters: the events of the
    visits that match the visit filters, and of those only the events that match the
    event filters (the same split the reports make)."""
    unknown = [c for c in columns if c not in EVENT_COLUMNS]
    if unknown:
        raise QueryError(f"unknown event columns: {', '.join(unknown)}")
    return (sa.select(*(EV.c[c] for c in columns)).where(*_where(query, dialect))
            .order_by(EV.c.ts, EV.c.id))


def _matching_sessions(query: StatsQuery, dialect: Dialect,
                       visit_filters: list[Filter]) -> sa.Select[Any]:
    """Sessions with a visit in the period whose attributes pass the visit filters."""
    start, end = query.utc_range
    scope = raw.Scope(query.site_id, start, end, query.tz, tuple(visit_filters))
    dims = sorted({f.dimension for f in visit_filters})
    base = raw.base_events(scope, dialect, visit_dims=dims)
    vis = raw.visits(scope, base, dialect, dims).subquery("matching")
    return sa.select(vis.c.session_id)


def resolved(engine: Engine, query: StatsQuery) -> StatsQuery:
    """The query with "all" starting at the site's first event."""
    with engine.connect() as conn:
        return rep.resolve_all(conn, query)


def count_events(engine: Engine, query: StatsQuery) -> int:
    """How many events `event_batches` will yield (for a progress bar's total)."""
    query = resolved(engine, query)
    dialect = dialect_for(engine)
    stmt = sa.select(sa.func.count()).select_from(EV).where(*_where(query, dialect))
    with engine.connect() as conn:
        return int(conn.scalar(stmt) or 0)


def rebatch(batches: Iterable[pa.RecordBatch], rows: int) -> Iterator[pa.RecordBatch]:
    """The same rows in batches of exactly `rows` rows (the last one shorter)."""
    pending: list[pa.RecordBatch] = []
    held = 0
    for batch in batches:
        if batch.num_rows == 0:
            continue
        pending.append(batch)
        held += batch.num_rows
        while held >= rows:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, rows).combine_chunks().to_batches()[0]
            rest = table.slice(rows)
            pending, held = rest.to_batches(), rest.num_rows
    if held:
        yield pa.Table.from_batches(pending).combine_chunks().to_batches()[0]


def event_batches(engine: Engine, query: StatsQuery, columns: Sequence[str] = EVENT_COLUMNS,
                  batch_rows: int = DEFAULT_BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    """The query's raw events in time order, as record batches of the export schema
    (`event_schema.events_schema(columns)`) of `batch_rows` rows each."""
    if batch_rows < 1:
        raise ValueError("batch_rows must be >= 1")
    query = resolved(engine, query)
    dialect = dialect_for(engine)
    stmt = events_select(query, dialect, columns)
    target = events_schema(columns)
    for batch in rebatch(dialect.arrow_batches(engine, stmt, batch_rows), batch_rows):
        yield conform(batch, target)


def events_reader(engine: Engine, query: StatsQuery, columns: Sequence[str] = EVENT_COLUMNS,
                  batch_rows: int = DEFAULT_BATCH_ROWS) -> pa.RecordBatchReader:
    """`event_batches` as a pyarrow RecordBatchReader (polars.from_arrow, DuckDB, ...)."""
    return pa.RecordBatchReader.from_batches(
        events_schema(columns), event_batches(engine, query, columns, batch_rows))
