"""Export page: any report, or the raw events of the current frame, as CSV or Parquet.

CSV cells that a spreadsheet would run as a formula are neutralised. Raw events are read
in chunks and capped, so an export cannot take the dashboard process's memory.
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from dashboard_app import data
from dashboard_app.downloads import to_csv_bytes, to_parquet_bytes
from dashboard_app.frame import dimension_label, filter_label
from dashboard_app.tables import breakdown_frame, points_frame, rounded
from dashboard_app.ui import no_site_state, page_context
from shared.stats.dimensions import DIMENSIONS
from shared.stats.query import StatsQuery
from shared.stats.results import METRICS

MAX_RAW_ROWS = 1_000_000
REPORTS = ("totals", "timeseries", *DIMENSIONS)


def report_frame(query: StatsQuery, report: str) -> pd.DataFrame:
    if report == "totals":
        totals = data.totals(data.url(), query)
        return pd.DataFrame([{"period_start": totals.first_day, "period_end": totals.last_day,
                              **totals.metrics.as_dict()}])
    if report == "timeseries":
        return points_frame(data.timeseries(data.url(), query).points)
    return breakdown_frame(data.breakdown(data.url(), query, report, 1000), report, METRICS)


def raw_events(query: StatsQuery) -> pd.DataFrame:
    from shared.dataout.dataframes import events_df_chunks

    parts, total = [], 0
    for chunk in events_df_chunks(data.current_engine(), query, chunksize=100_000):
        parts.append(chunk)
        total += len(chunk)
        if total >= MAX_RAW_ROWS:
            break
    df = pd.concat(parts, ignore_index=True).head(MAX_RAW_ROWS) if parts else pd.DataFrame()
    if "props" in df:  # JSON text: one column type for CSV and Parquet alike
        df["props"] = df["props"].map(lambda p: json.dumps(p or {}, ensure_ascii=False))
    return df


def offer(df: pd.DataFrame, name: str, fmt: str) -> None:
    if fmt == "CSV":
        payload, mime, ext = to_csv_bytes(df), "text/csv", "csv"
    else:
        payload, mime, ext = to_parquet_bytes(df), "application/vnd.apache.parquet", "parquet"
    st.download_button(f"Download {name}.{ext} ({len(df):,} rows)", payload,
                       file_name=f"{name}.{ext}", mime=mime, type="primary", key=f"dl_{name}",
                       on_click="ignore")


def render() -> None:
    ctx = page_context()
    st.title("Export")
    if ctx.site is None:
        no_site_state(ctx.access)
        return
    query = data.query_for(ctx.frame, ctx.site)
    r = query.date_range
    st.caption(f"Current frame: {r.first} to {r.last}")
    for f in ctx.frame.filters:
        st.text(filter_label(f))
    fmt = st.segmented_control("Format", ["CSV", "Parquet"], default="CSV", key="exp_fmt")
    report = st.selectbox("Report", REPORTS, key="exp_report",
                          format_func=lambda x: x.title() if x in ("totals", "timeseries")
                          else f"Breakdown by {dimension_label(x)}")
    df = rounded(report_frame(query, report))
    st.dataframe(df.head(20), hide_index=True, width="stretch")
    offer(df, f"{ctx.site.domain}-{report}-{r.first}-{r.last}", fmt or "CSV")
    st.subheader("Raw events", anchor=False)
    st.caption(f"Every stored event of the frame, up to {MAX_RAW_ROWS:,} rows.")
    if st.button("Prepare raw events", key="exp_raw"):
        offer(raw_events(query), f"{ctx.site.domain}-events-{r.first}-{r.last}", fmt or "CSV")


render()
