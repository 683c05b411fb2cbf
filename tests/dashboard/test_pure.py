"""The Streamlit-free parts of the dashboard: frame <-> URL, charts, downloads."""

from __future__ import annotations

import io
from datetime import date, datetime

import pandas as pd
import pytest

from dashboard_app import charts
from dashboard_app.downloads import to_csv_bytes, to_parquet_bytes
from dashboard_app.frame import Frame, filter_label, from_params, to_params
from shared.stats.query import Filter

NOW = datetime(2026, 3, 10, 12, 0)


@pytest.mark.parametrize("frame", [
    Frame(),
    Frame(site_domain="a.example", period="7d", interval="hour", comparison="previous_period"),
    Frame(site_domain="a.example", period="custom", start=date(2026, 1, 1),
          end=date(2026, 1, 31), comparison="year_over_year"),
    Frame(filters=(Filter("page", "is", ("/a|b",)), Filter("country", "is_any_of", ("DE", "FR")),
                   Filter("prop:plan", "contains", ("pro",)))),
], ids=["default", "named", "custom", "filters"])
def test_frame_round_trips_through_url(frame: Frame) -> None:
    params = {k: v if isinstance(v, list) else [v] for k, v in to_params(frame).items()}
    assert from_params(params) == frame


@pytest.mark.parametrize("params", [
    {"period": ["bogus"]}, {"period": ["custom"], "from": ["2026-02-01"], "to": ["2026-01-01"]},
    {"interval": ["fortnight"]}, {"compare": ["x"]}, {"f": ["nodim|is|x", "page|eq|x", "junk"]},
], ids=["period", "custom-reversed", "interval", "compare", "filters"])
def test_broken_url_parts_fall_back_to_defaults(params: dict[str, list[str]]) -> None:
    assert from_params(params) == Frame()


def test_frame_builds_stats_query() -> None:
    f = Filter("source", "is", ("Google",))
    q = Frame(period="7d", interval="day", filters=(f,)).query(3, "Europe/Berlin", NOW)
    assert (q.site_id, q.period, q.interval, q.filters) == (3, "7d", "day", (f,))
    assert Frame().query(3, "UTC", NOW).interval is None


def test_with_filter_replaces_is_on_same_dimension() -> None:
    frame = Frame().with_filter(Filter("source", "is", ("Google",)))
    frame = frame.with_filter(Filter("source", "is", ("Bing",)))
    assert frame.filters == (Filter("source", "is", ("Bing",)),)
    assert filter_label(frame.filters[0]) == "Source is Bing"


def test_csv_neutralises_formulas_but_not_numbers() -> None:
    df = pd.DataFrame({"page": ["=HYPERLINK(\"http://x\")", "/ok", "+1", "@SUM(A1)"],
                       "n": [-1, 2, 3, 4]})
    text = to_csv_bytes(df).decode()
    back = pd.read_csv(io.StringIO(text))
    assert list(back["page"]) == ["'=HYPERLINK(\"http://x\")", "/ok", "'+1", "'@SUM(A1)"]
    assert list(back["n"]) == [-1, 2, 3, 4]
    assert pd.read_parquet(io.BytesIO(to_parquet_bytes(df))).equals(df)


def test_bar_labels_are_escaped_and_raw_value_kept() -> None:
    df = pd.DataFrame({"value": ["<img src=x onerror=alert(1)>", "/b"], "visitors": [5, 3]})
    fig = charts.bars(df, "value", "visitors", "Top pages")
    bar = fig.data[0]
    assert "<img" not in "".join(bar.y) and "&lt;img" in bar.y[0]
    assert list(bar.customdata) == ["<img src=x onerror=alert(1)>", "/b"]


def test_world_map_uses_iso3_and_skips_unknown() -> None:
    df = pd.DataFrame({"value": ["DE", "US", "", "ZZ"], "visitors": [4, 3, 2, 1]})
    fig = charts.world_map(df, "value", "visitors", "Countries")
    assert list(fig.data[0].locations) == ["DEU", "USA"]
    assert list(fig.data[0].customdata) == ["DE", "US"]


def test_downsample_caps_points_and_keeps_ends() -> None:
    df = pd.DataFrame({"x": range(10_001)})
    small = charts.downsample(df, 1000)
    assert len(small) <= 1001 and small["x"].iloc[0] == 0 and small["x"].iloc[-1] == 10_000


def test_selected_values_from_plotly_event() -> None:
    event = {"selection": {"points": [{"customdata": "Google", "point_index": 0},
                                      {"customdata": ["DE"], "point_index": 1},
                                      {"customdata": "Google"}]}}
    assert charts.selected_values(event) == ["Google", "DE"]
    assert charts.selected_values(None) == []


def test_timeseries_draws_comparison_beside() -> None:
    cur = pd.DataFrame({"bucket": pd.date_range("2026-03-01", periods=3), "visitors": [1, 2, 3]})
    prev = pd.DataFrame({"bucket": pd.date_range("2026-02-26", periods=3), "visitors": [3, 2, 1]})
    fig = charts.timeseries(cur, "visitors", "Visitors", comparison=prev)
    assert [t.name for t in fig.data] == ["This period", "Comparison"]
    assert list(fig.data[1].x) == list(cur["bucket"]) and list(fig.data[1].y) == [3, 2, 1]
