"""Report panels the pages share: a breakdown table or bar chart whose rows and bars add a
filter when clicked, with "show more" when the list was cut and a CSV download.

Widget keys carry a digest of the frame: once a click has added its filter the frame
changes, the widget is new and its old selection cannot add the filter again.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

import pandas as pd
import streamlit as st

from dashboard_app import charts, data, formats
from dashboard_app.frame import Frame
from dashboard_app.sidebar import add_filter
from dashboard_app.tables import (
    BREAKDOWN_COLUMNS,
    NONE_LABEL,
    breakdown_frame,
    rounded,
    with_revenue_text,
)
from dashboard_app.ui import download_button
from shared.reports.traffic import BreakdownSpec
from shared.stats.query import Filter, StatsQuery
from shared.stats.results import Breakdown

PAGE = 10
MORE = 40
FIGURE_TTL = 600   # seconds: a drawn list kept this long; the rows themselves decide its key


def frame_digest(frame: Frame) -> str:
    """The part of the frame a breakdown's rows depend on. The comparison and the
    interval are left out: switching them keeps these widgets (and their drawn charts)
    instead of making new ones the browser draws from scratch."""
    lists = replace(frame, comparison="off", interval="auto")
    return hashlib.blake2b(repr(lists).encode(), digest_size=6).hexdigest()


def _limit(key: str) -> int:
    value: int = st.session_state.get(f"limit_{key}", PAGE)
    return value


def _clicked_row(event: Any, df: pd.DataFrame, column: str) -> str | None:
    rows = list(getattr(getattr(event, "selection", None), "rows", []) or [])
    if not rows or rows[0] >= len(df):
        return None
    value = str(df.iloc[rows[0]][column])
    return "" if value == NONE_LABEL else value


def table_config(df: pd.DataFrame, value_label: str, bar_metric: str) -> dict[str, Any]:
    config: dict[str, Any] = {value_label: st.column_config.TextColumn(value_label,
                                                                       width="large")}
    if bar_metric in df and len(df):
        config[bar_metric] = st.column_config.ProgressColumn(
            bar_metric, format="%d", min_value=0, max_value=int(df[bar_metric].max() or 1))
    return config


def table_spec(dimension: str, key: str, order_by: str = "visitors") -> BreakdownSpec:
    """What the table `key` shows: its rows grow by "Show more"."""
    return BreakdownSpec(dimension, _limit(key), order_by)


def breakdown_table(query: StatsQuery, frame: Frame, dimension: str, value_label: str,
                    key: str, columns: tuple[str, ...] = BREAKDOWN_COLUMNS,
                    order_by: str = "visitors", result: Breakdown | None = None
                    ) -> pd.DataFrame:
    """The top values of `dimension` as a table (`result`, when the page asked for it
    with others: its `table_spec`); clicking a row filters by it."""
    if result is None:
        result = data.breakdown(data.url(), query, dimension, _limit(key), order_by)
    df = rounded(breakdown_frame(result, value_label, columns))
    if "revenue" in columns:
        df = with_revenue_text(df, result, _revenue(query, dimension, result))
    if df.empty:
        st.caption("Nothing in this period.")
        return df
    event = st.dataframe(
        df, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
        key=f"tbl_{key}_{frame_digest(frame)}",
        column_config=table_config(df, value_label, df.columns[1]))
    value = _clicked_row(event, df, value_label)
    if value is not None:
        add_filter(Filter(dimension, "is", (value,)))
    _more_and_download(result.has_more, df, key)
    return df


def _revenue(query: StatsQuery, dimension: str,
             result: Breakdown) -> dict[str, dict[str, float]]:
    """Each row's revenue per currency; only rows with revenue are asked for."""
    values = tuple(r.value for r in result.rows if r.metrics.revenue and r.value != "")
    return data.revenue(data.url(), query, dimension, values) if values else {}


def _more_and_download(has_more: bool, df: pd.DataFrame, key: str) -> None:
    left, right = st.columns(2)
    if has_more and left.button("Show more", key=f"more_{key}", icon=":material/expand_more:"):
        st.session_state[f"limit_{key}"] = _limit(key) + MORE
        st.rerun()
    with right:
        download_button(df, key, key=f"dl_{key}")


def _selected(frame: Frame, dimension: str) -> frozenset[str]:
    """The values of `dimension` the frame filters on (drawn highlighted)."""
    return frozenset(v for f in frame.filters if f.dimension == dimension
                     and f.operator in ("is", "is_any_of") for v in f.values)


def _display(dimension: str, value: str) -> str:
    if value == "":
        return NONE_LABEL
    return formats.country_name(value) if dimension == "country" else value


@st.cache_resource(ttl=FIGURE_TTL, max_entries=512, show_spinner=False)
def _ranked_list(labels: tuple[str, ...], values: tuple[int, ...], shown: tuple[str, ...],
                 selected: frozenset[str]) -> Any:
    """`charts.ranked_list`, built once per distinct list: a rerun that leaves a list
    as it was (a comparison switched, a tab opened, a fragment rerun) reuses the figure
    instead of building it again. Keyed by everything drawn, so a figure holds nothing
    but its own key's rows; shared unchanged (st.plotly_chart only reads it)."""
    return charts.ranked_list(labels, values, shown, selected=selected)


def ranked_breakdown(query: StatsQuery, frame: Frame, dimension: str, value_label: str,
                     key: str, result: Breakdown | None = None) -> None:
    """The top values of `dimension` as a compact ranked list (name, bar, visitors -
    readable from a phone to a wide screen); clicking a row filters by it. "Details"
    opens the full table: every metric, sorting, search and the CSV download."""
    if result is None:
        result = data.breakdown(data.url(), query, dimension, _limit(key), "visitors")
    rows = result.rows[:PAGE]
    values = [r.metrics.visitors for r in rows]
    names = [r.value for r in rows]
    fig = _ranked_list(tuple(_display(dimension, n) for n in names), tuple(values),
                       tuple(formats.count(v) for v in values),
                       frozenset(_display(dimension, v) for v in _selected(frame, dimension)))
    # The rows' customdata are the shown names: map a click back to the raw value.
    raw_by_shown = {_display(dimension, n): n for n in names}
    event = st.plotly_chart(fig, key=f"list_{key}_{frame_digest(frame)}", on_select="rerun",
                            selection_mode="points", config=charts.PLOT_CONFIG)
    picked = [raw_by_shown[v] for v in charts.selected_values(event) if v in raw_by_shown]
    if picked:
        add_filter(Filter(dimension, "is", (picked[0],)))
    if rows:
        # Lazy: the full table is drawn only while the expander is open.
        details = st.expander("Details", icon=":material/table_rows:", key=f"details_{key}",
                              on_change="rerun")
        if details.open:
            with details:
                breakdown_table(query, frame, dimension, value_label, key, result=result)


def bars_spec(dimension: str, metric: str = "visitors") -> BreakdownSpec:
    return BreakdownSpec(dimension, PAGE, metric)


def breakdown_bars(query: StatsQuery, frame: Frame, dimension: str, title: str,
                   key: str, metric: str = "visitors", result: Breakdown | None = None
                   ) -> None:
    """A bar chart of the top values (`result`: see `breakdown_table`); clicking a bar
    filters by it."""
    if result is None:
        result = data.breakdown(data.url(), query, dimension, PAGE, metric)
    df = pd.DataFrame({"value": [r.value for r in result.rows],
                       metric: [getattr(r.metrics, metric) for r in result.rows]})
    fig = charts.bars(df, "value", metric, title)
    clicked_chart(fig, dimension, f"bars_{key}_{frame_digest(frame)}")


def clicked_chart(fig: Any, dimension: str, key: str) -> None:
    """Draw `fig`; a click on a bar, slice or country adds `dimension is value`."""
    event = st.plotly_chart(fig, key=key, on_select="rerun", selection_mode="points",
                            config=charts.PLOT_CONFIG)
    values = charts.selected_values(event)
    if values:
        add_filter(Filter(dimension, "is" if len(values) == 1 else "is_any_of",
                          tuple(values)))
