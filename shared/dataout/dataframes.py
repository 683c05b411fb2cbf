"""Data out, stage "analysis": the query layer's reports as pandas DataFrames, and raw
events streamed in DataFrame chunks.

The reports (`totals_df`, `timeseries_df`, `breakdown_df`) call the same functions the
dashboard and the Stats API call, so a notebook sees the same numbers; counts are
integers. `events_df_chunks` streams raw events as DataFrames made from the driver's
Arrow batches (`event_stream`): ten million rows pass through a chunk at a time.

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
import pyarrow as pa
from sqlalchemy.engine import Engine

from shared.core.clock import utc_now
from shared.core.settings import normalise_database_url
from shared.dataout.event_schema import EVENT_COLUMNS
from shared.dataout.event_stream import event_batches, events_select
from shared.reports import traffic as rep
from shared.sites import require_site
from shared.stats.query import OPERATORS, Filter, QueryError, StatsQuery
from shared.stats.results import METRICS, Metrics
from shared.storage import make_engine

__all__ = ["EVENT_COLUMNS", "breakdown_df", "connect", "events_df_chunks", "events_select",
           "parse_filter", "stats_query", "timeseries_df", "totals_df"]
# Metrics that count something: integers in every frame (never 721623.0).
COUNTS = ("visitors", "visits", "pageviews", "events")


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


def _with_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Count columns as (nullable) integers, whatever pandas inferred for them."""
    for name in COUNTS:
        if name in frame.columns:
            frame[name] = frame[name].astype("Int64")
    return frame


def totals_df(engine: Engine, query: StatsQuery) -> pd.DataFrame:
    """One row per period ("current", and with a comparison "previous"), one column per
    metric; counts are integers. With a comparison, `attrs["change"]` holds each
    metric's change: percent, or points for bounce_rate (None when undefined)."""
    with engine.connect() as conn:
        t = rep.totals(conn, query)
    rows = {"current": _metric_row(t.metrics)}
    if t.previous is not None:
        rows["previous"] = _metric_row(t.previous)
    frame = _with_counts(pd.DataFrame.from_dict(rows, orient="index", columns=list(METRICS)))
    if t.previous is not None:
        frame.attrs["change"] = {m: t.changes.get(m) for m in METRICS}
    return frame


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
        for name in COUNTS:
            frame["previous_" + name] = frame["previous_" + name].astype("Int64")
    frame = _with_counts(frame)
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
    frame = _with_counts(frame)
    frame.attrs.update(has_more=b.has_more, source=b.source)
    return frame


def events_df_chunks(engine: Engine, query: StatsQuery, chunksize: int = 100_000,
                     columns: Sequence[str] = EVENT_COLUMNS) -> Iterator[pd.DataFrame]:
    """Raw events of the query as DataFrames of `chunksize` rows (the last one fewer),
    streamed from the driver as Arrow batches (`event_stream.event_batches`), so memory
    stays bounded by a chunk or two. Types: integers as nullable Int64, `ts` as
    datetime64[us, UTC], booleans as bool, `props` as the JSON object's text."""
    for batch in event_batches(engine, query, columns, chunksize):
        yield batch.to_pandas(types_mapper=_PANDAS_TYPES.get)


# Integers stay integers where a column holds NULLs too (pandas would make them floats).
_PANDAS_TYPES = {pa.int64(): pd.Int64Dtype()}
