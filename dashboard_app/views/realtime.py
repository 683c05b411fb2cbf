"""Realtime page: visitors now, the last 30 minutes by minute, live top pages and sources.

The report sits in an `st.fragment(run_every=...)`: only it reruns every few seconds,
not the whole page, and its cache key moves with the refresh period.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard_app import charts, data
from dashboard_app.tables import METRIC_LABELS
from dashboard_app.ui import data_table, site_page
from shared.sites import Site

REFRESH_SECONDS = 10


def _rows_frame(rows: list, label: str) -> pd.DataFrame:
    return pd.DataFrame({label: [r.value for r in rows],
                         METRIC_LABELS["visitors"]: [r.metrics.visitors for r in rows],
                         METRIC_LABELS["pageviews"]: [r.metrics.pageviews for r in rows]})


@st.fragment(run_every=REFRESH_SECONDS)
def live(site: Site) -> None:
    report = data.realtime(data.url(), site.id, site.timezone,
                           data.cache_now(REFRESH_SECONDS))
    st.metric("Visitors in the last 5 minutes", f"{report.visitors:,}")
    minutes = pd.DataFrame({"minute": [p.bucket for p in report.per_minute],
                            "visitors": [p.metrics.visitors for p in report.per_minute]})
    if minutes["visitors"].sum() == 0:
        minutes = minutes.iloc[0:0]
    st.plotly_chart(charts.minutes(minutes, "minute", "visitors",
                                   "Visitors per minute, last 30 minutes"),
                    key="rt_minutes", config=charts.PLOT_CONFIG)
    left, right = st.columns(2)
    with left:
        st.subheader("Top pages", anchor=False)
        data_table(_rows_frame(report.top_pages, "Page"), "realtime-pages", "rt_pages",
                   width="stretch")
    with right:
        st.subheader("Top sources", anchor=False)
        data_table(_rows_frame(report.top_sources, "Source"), "realtime-sources",
                   "rt_sources", width="stretch")
    st.caption(f"Updates every {REFRESH_SECONDS} seconds. Filters and period do not apply "
               "here: this is everything on the site right now.")


def render() -> None:
    page = site_page("Realtime")
    if page is None:
        return
    ctx, site = page
    live(site)


render()
