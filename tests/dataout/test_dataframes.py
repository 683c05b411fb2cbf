"""DataFrame API: the same numbers as the query layer; raw events stream in bounded chunks."""

from __future__ import annotations

import json
from datetime import datetime

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

import shared.dataout.dataframes as bdf
from shared.core import schema
from shared.demo.run import DemoSpec, run_demo
from shared.reports import traffic as reports
from shared.stats.query import QueryError

NOW = datetime(2026, 3, 10, 15, 30)
E = schema.events


@pytest.fixture
def demo(engine: Engine) -> Engine:
    run_demo(engine, DemoSpec("demo.test", days=10, events=3000, seed=11,
                              timezone="America/New_York"), now=NOW, rebuild=False)
    return engine


def test_connect_accepts_heroku_style_urls() -> None:
    engine = bdf.connect("postgres://user@db.invalid:5432/beacon")
    assert engine.dialect.name == "postgresql" and engine.url.drivername == "postgresql+psycopg"


def test_totals_df_equals_query_layer(demo: Engine) -> None:
    q = bdf.stats_query(demo, "demo.test", "7d", comparison="previous_period", now=NOW)
    frame = bdf.totals_df(demo, q)
    with demo.connect() as conn:
        t = reports.totals(conn, q)
    assert list(frame.index) == ["current", "previous"]
    assert frame.loc["current"].to_dict() == pytest.approx(t.metrics.as_dict(), nan_ok=True)
    assert frame.loc["previous", "visitors"] == t.previous.visitors  # type: ignore[union-attr]
    assert frame.loc["current", "visitors"] > 0
    assert frame.attrs["change"] == {m: t.changes.get(m) for m in t.metrics.as_dict()}


def test_counts_are_integers_not_floats(demo: Engine) -> None:
    q = bdf.stats_query(demo, "demo.test", "7d", comparison="previous_period", now=NOW,
                        interval="day")
    frames = [bdf.totals_df(demo, q), bdf.timeseries_df(demo, q),
              bdf.breakdown_df(demo, q, "page", limit=5)]
    for frame in frames:
        for name in ("visitors", "visits", "pageviews", "events"):
            assert str(frame[name].dtype) == "Int64", (name, frame[name].dtype)
    visitors = frames[0].loc["current", "visitors"]
    assert str(visitors) == str(int(visitors))          # 721623, never 721623.0
    assert str(frames[1]["previous_visitors"].dtype) == "Int64"


def test_timeseries_df_equals_query_layer(demo: Engine) -> None:
    q = bdf.stats_query(demo, "demo.test", "7d", interval="day", now=NOW)
    frame = bdf.timeseries_df(demo, q)
    with demo.connect() as conn:
        ts = reports.timeseries(conn, q)
    assert list(frame.index) == [p.bucket for p in ts.points]
    assert frame["pageviews"].tolist() == [p.metrics.pageviews for p in ts.points]
    assert frame.attrs["interval"] == "day"


def test_breakdown_df_equals_query_layer_with_filters(demo: Engine) -> None:
    q = bdf.stats_query(demo, "demo.test", "30d", filters=["device is mobile"], now=NOW)
    frame = bdf.breakdown_df(demo, q, "page", limit=5)
    with demo.connect() as conn:
        b = reports.breakdown(conn, q, "page", limit=5)
    assert frame["page"].tolist() == [r.value for r in b.rows]
    assert frame["visitors"].tolist() == [r.metrics.visitors for r in b.rows]
    assert frame.attrs["has_more"] is True and len(frame) == 5


def _count(engine: Engine, *where: sa.ColumnElement[bool]) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).select_from(E).where(*where)) or 0)


def test_events_stream_in_bounded_chunks(demo: Engine) -> None:
    q = bdf.stats_query(demo, "demo.test", "all", now=NOW)
    chunks = list(bdf.events_df_chunks(demo, q, chunksize=700))
    assert len(chunks) >= 5
    assert all(0 < len(c) <= 700 for c in chunks)
    frame = pd.concat(chunks)
    assert len(frame) == _count(demo) == 3000
    assert frame["ts"].is_monotonic_increasing and str(frame["ts"].dt.tz) == "UTC"
    assert frame["engagement_ms"].dtype == "Int64" and frame["click_id"].dtype == bool
    assert list(frame.columns) == list(bdf.EVENT_COLUMNS)


def test_events_filters_keep_visits_and_events(demo: Engine) -> None:
    q = bdf.stats_query(demo, "demo.test", "all", filters=["country is DE"], now=NOW)
    frame = pd.concat(bdf.events_df_chunks(demo, q, chunksize=1000))
    assert set(frame["country"]) == {"DE"} and len(frame) == _count(demo, E.c.country == "DE")
    q = bdf.stats_query(demo, "demo.test", "all", now=NOW,
                        filters=["event is Signup", "prop:plan is pro|team"])
    frame = pd.concat(bdf.events_df_chunks(demo, q))
    assert set(frame["name"]) == {"Signup"}
    plans = {json.loads(p)["plan"] for p in frame["props"]}
    assert plans <= {"pro", "team"} and len(frame) > 0


@pytest.mark.parametrize("text,needle", [("country DE", "must look like"),
                                         ("country like DE", "operator"),
                                         ("shoe is 42", "unknown dimension")])
def test_parse_filter_errors(text: str, needle: str) -> None:
    with pytest.raises(QueryError, match=needle):
        bdf.parse_filter(text)


def test_parse_filter_values() -> None:
    f = bdf.parse_filter("page matches /blog/** | /docs/*")
    assert f.dimension == "page" and f.values == ("/blog/** ", " /docs/*")
    assert bdf.parse_filter("source is Google|Bing").values == ("Google", "Bing")
