"""Data out, stage "analysis": the query layer's reports as pandas DataFrames, and raw
events streamed in DataFrame chunks.

The reports (`totals_df`, `timeseries_df`, `breakdown_df`) call the same functions the
dashboard and the Stats API call, so a notebook sees the same numbers. `events_df_chunks`
streams raw events with a server-side cursor (`stream_results`, `yield_per`): ten
million rows pass through in chunks and never sit in memory at once.

    import shared.dataout.dataframes as bdf
    engine = bdf.connect("sqlite:///data/beacon.db")
    q = bdf.stats_query(engine, "example.com", "30d", filters=["country is DE"])
    bdf.breakdown_df(engine, q, "page").head()
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from shared.core import schema
from shared.core.clock import utc_now
from shared.core.settings import normalise_database_url
from shared.reports import traffic as rep
from shared.sites import require_site
from shared.stats import raw
from shared.stats.dimensions import event_column_name, is_prop, prop_key
from shared.stats.filters import condition, split
from shared.stats.query import OPERATORS, Filter, QueryError, StatsQuery
from shared.stats.results import METRICS, Metrics
from shared.storage import Dialect, dialect_for, make_engine

E = schema.events
# Columns of an events export, in order (the internal row id is left out).
EVENT_COLUMNS: tuple[str, ...] = tuple(c.name for c in E.c if c.name != "id")


def connect(database_url: str) -> Engine:
    """An engine for a Beacon database URL (`postgres://...` and `sqlite:///...` work)."""
    return make_engine(normalise_database_url(database_url, "data"))


def parse_filter(text: str) -> Filter:
    """`"country is DE"`, `"page matches /blog/**"`, `"source is Google|Bing"` -> Filter.

    Form: `<dimension> <operator> <value>[|<value>...]`; raises QueryError when invalid.
    """
    parts = text.strip().split(maxsplit=2)
    if len(parts) != 3:
        raise QueryError(f"filter {text!r} must look like 'country is DE' "
                         f"(dimension, operator: {', '.join(OPERATORS)}, value)")
    dimension, operator, values = parts
    return Filter(dimension, operator, tuple(v for v in values.split("|") if v) or ("",))


def stats_query(engine: Engine, site: str | int, period: str = "30d", *,
                filters: Iterable[Filter | str] = (), interval: str | None = None,
                comparison: str = "off", start: date | None = None, end: date | None = None,
                now: datetime | None = None) -> StatsQuery:
    """A StatsQuery for a site given by domain or id (timezone looked up)."""
    with engine.connect() as conn:
        found = require_site(conn, site)
    return StatsQuery(
        site_id=found.id, timezone=found.timezone, period=period,
        now=now or utc_now(), start=start, end=end,
        interval=interval, comparison=comparison,
        filters=tuple(f if isinstance(f, Filter) else parse_filter(f) for f in filters))


def _metric_row(m: Metrics) -> dict[str, Any]:
    return m.as_dict()


def totals_df(engine: Engine, query: StatsQuery) -> pd.DataFrame:
    """One row per period ("current", and with a comparison "previous" and "change"),
    one column per metric. "change" is percent, or points for bounce_rate."""
    with engine.connect() as conn:
        t = rep.totals(conn, query)
    rows = {"current": _metric_row(t.metrics)}
    if t.previous is not None:
        rows["previous"] = _metric_row(t.previous)
        rows["change"] = {m: t.changes.get(m) for m in METRICS}
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(METRICS))


def timeseries_df(engine: Engine, query: StatsQuery) -> pd.DataFrame:
    """Metrics per bucket (index `bucket`: local start, naive); with a comparison, the
    other period's metrics in `previous_<metric>` columns aligned by position."""
    with engine.connect() as conn:
        ts = rep.timeseries(conn, query)
    frame = pd.DataFrame([_metric_row(p.metrics) for p in ts.points], columns=list(METRICS),
                         index=pd.DatetimeIndex([p.bucket for p in ts.points], name="bucket"))
    if ts.previous is not None:
        prev = pd.DataFrame([_metric_row(p.metrics) for p in ts.previous],
                            columns=list(METRICS)).add_prefix("previous_")
        prev.index = frame.index[: len(prev)]
        frame = frame.join(prev)
    frame.attrs.update(interval=ts.interval, source=ts.source)
    return frame


def breakdown_df(engine: Engine, query: StatsQuery, dimension: str, *, limit: int = 100,
                 offset: int = 0, order_by: str = "visitors") -> pd.DataFrame:
    """Top values of `dimension` with their metrics; `attrs["has_more"]` says whether
    rows beyond `limit` exist."""
    with engine.connect() as conn:
        b = rep.breakdown(conn, query, dimension, limit=limit, offset=offset,
                          order_by=order_by)
    frame = pd.DataFrame([{dimension: r.value, **_metric_row(r.metrics)} for r in b.rows],
                         columns=[dimension, *METRICS])
    frame.attrs.update(has_more=b.has_more, source=b.source)
    return frame


def events_select(query: StatsQuery, dialect: Dialect,
                  columns: Sequence[str] = EVENT_COLUMNS) -> sa.Select[Any]:
    """Raw events of the query's period in time order. With filters: the events of the
    visits that match the visit filters, and of those only the events that match the
    event filters (the same split the reports make)."""
    unknown = [c for c in columns if c not in EVENT_COLUMNS]
    if unknown:
        raise QueryError(f"unknown event columns: {', '.join(unknown)}")
    start, end = query.utc_range
    where: list[Any] = [E.c.site_id == query.site_id, E.c.ts >= start, E.c.ts < end]
    visit_filters, event_filters = split(query.filters)
    for f in event_filters:
        col = (E.c.props[prop_key(f.dimension)].as_string() if is_prop(f.dimension)
               else E.c[event_column_name(f.dimension)])
        where.append(condition(col, f))
    if visit_filters:
        where.append(E.c.session_id.in_(_matching_sessions(query, dialect, visit_filters)))
    return sa.select(*(E.c[c] for c in columns)).where(*where).order_by(E.c.ts, E.c.id)


def _matching_sessions(query: StatsQuery, dialect: Dialect,
                       visit_filters: list[Filter]) -> sa.Select[Any]:
    """Sessions with a visit in the period whose attributes pass the visit filters."""
    start, end = query.utc_range
    scope = raw.Scope(query.site_id, start, end, query.tz, tuple(visit_filters))
    dims = sorted({f.dimension for f in visit_filters})
    base = raw.base_events(scope, dialect, visit_dims=dims)
    vis = raw.visits(scope, base, dialect, dims).subquery("matching")
    return sa.select(vis.c.session_id)


def events_df_chunks(engine: Engine, query: StatsQuery, chunksize: int = 100_000,
                     columns: Sequence[str] = EVENT_COLUMNS) -> Iterator[pd.DataFrame]:
    """Raw events of the query as DataFrames of at most `chunksize` rows each, read with
    a server-side cursor so memory stays bounded by one chunk."""
    if chunksize < 1:
        raise ValueError("chunksize must be >= 1")
    with engine.connect() as conn:
        query = rep.resolve_all(conn, query)      # "all" starts at the first event
    stmt = events_select(query, dialect_for(engine), columns)
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=chunksize).execute(stmt)
        for part in result.partitions():
            yield _typed(pd.DataFrame(part, columns=list(columns)))


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Nullable integer columns as Int64 (not float64 with NaN), so 8412 stays 8412."""
    for name in frame.columns:
        if isinstance(E.c[name].type, sa.Integer) and frame[name].dtype != "int64":
            frame[name] = frame[name].astype("Int64")
    return frame
