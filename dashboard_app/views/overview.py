"""Overview page: KPI cards with deltas, the timeseries, and the breakdown panels
(pages, sources, locations, devices). Every number comes from the query layer."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard_app import charts, data, panels
from dashboard_app.tables import METRIC_LABELS, points_frame
from dashboard_app.ui import (
    PageContext,
    fmt_change,
    fmt_int,
    fmt_seconds,
    no_data_state,
    no_site_state,
    page_context,
)
from shared.queries.query import StatsQuery
from shared.queries.results import Totals

KPIS = (  # metric, label, formatter, lower is better
    ("visitors", "Unique visitors", fmt_int, False),
    ("visits", "Visits", fmt_int, False),
    ("pageviews", "Pageviews", fmt_int, False),
    ("views_per_visit", "Views per visit", lambda v: f"{v:.2f}", False),
    ("bounce_rate", "Bounce rate", lambda v: f"{v:.0f}%", True),
    ("visit_duration", "Visit duration", fmt_seconds, False),
)
SERIES_METRICS = ("visitors", "visits", "pageviews", "views_per_visit", "bounce_rate",
                  "visit_duration")
MULTI_DAY_NOTE = ("Visitors over several days are the sum of each day's unique visitors: "
                  "the anonymous visitor id changes every day (daily salt), so the same "
                  "person on two days counts twice.")


def kpi_cards(totals: Totals) -> None:
    for column, (metric, label, fmt, inverse) in zip(st.columns(len(KPIS)), KPIS,
                                                     strict=True):
        delta = fmt_change(totals.changes.get(metric), points=metric == "bounce_rate")
        column.metric(label, fmt(getattr(totals.metrics, metric)), delta=delta,
                      delta_color="inverse" if inverse else "normal",
                      help=MULTI_DAY_NOTE if metric == "visitors" else None)


def series(query: StatsQuery) -> None:
    metric = st.segmented_control("Metric", SERIES_METRICS, default="visitors",
                                  format_func=METRIC_LABELS.__getitem__, key="series_metric",
                                  label_visibility="collapsed") or "visitors"
    result = data.timeseries(data.url(), query)
    fig = charts.timeseries(points_frame(result.points), metric, METRIC_LABELS[metric],
                            comparison=points_frame(result.previous)
                            if result.previous is not None else None)
    st.plotly_chart(fig, key="timeseries", config={"displayModeBar": False})


def pages_panel(ctx: PageContext, query: StatsQuery) -> None:
    st.subheader("Pages")
    top, entry, exit_ = st.tabs(["Top pages", "Entry pages", "Exit pages"])
    with top:
        panels.breakdown_table(query, ctx.frame, "page", "Page", "pages")
    with entry:
        panels.breakdown_table(query, ctx.frame, "entry_page", "Entry page", "entry")
    with exit_:
        panels.breakdown_table(query, ctx.frame, "exit_page", "Exit page", "exit")


def sources_panel(ctx: PageContext, query: StatsQuery) -> None:
    st.subheader("Sources")
    sources, channels, campaigns = st.tabs(["Sources", "Channels", "Campaigns"])
    with sources:
        panels.breakdown_table(query, ctx.frame, "source", "Source", "sources")
    with channels:
        panels.breakdown_bars(query, ctx.frame, "channel", "Visitors by channel", "channels")
    with campaigns:
        for dim, label in (("utm_campaign", "UTM campaign"), ("utm_source", "UTM source"),
                           ("utm_medium", "UTM medium")):
            panels.breakdown_table(query, ctx.frame, dim, label, dim)


def locations_panel(ctx: PageContext, query: StatsQuery) -> None:
    st.subheader("Locations")
    countries = data.breakdown(data.url(), query, "country", 250)
    df = pd.DataFrame({"value": [r.value for r in countries.rows],
                       "visitors": [r.metrics.visitors for r in countries.rows]})
    panels.clicked_chart(charts.world_map(df, "value", "visitors", "Visitors by country"),
                         "country", f"map_{panels.frame_digest(ctx.frame)}")
    c_tab, r_tab, city_tab = st.tabs(["Countries", "Regions", "Cities"])
    with c_tab:
        panels.breakdown_table(query, ctx.frame, "country", "Country", "countries")
    with r_tab:
        panels.breakdown_table(query, ctx.frame, "region", "Region", "regions")
    with city_tab:
        panels.breakdown_table(query, ctx.frame, "city", "City", "cities")


def devices_panel(ctx: PageContext, query: StatsQuery) -> None:
    st.subheader("Devices")
    dev, browsers, systems = st.tabs(["Device types", "Browsers", "Operating systems"])
    with dev:
        panels.breakdown_bars(query, ctx.frame, "device", "Visitors by device type", "device")
    with browsers:
        panels.breakdown_table(query, ctx.frame, "browser", "Browser", "browsers")
    with systems:
        panels.breakdown_table(query, ctx.frame, "os", "Operating system", "os")


def render() -> None:
    ctx = page_context()
    if ctx.site is None:
        no_site_state(ctx.access)
        return
    query = data.query_for(ctx.frame, ctx.site)
    totals = data.totals(data.url(), query)
    r = query.date_range
    st.caption(f"{r.first:%d %b %Y} – {r.last:%d %b %Y} · time zone {ctx.site.timezone}")
    kpi_cards(totals)
    if totals.metrics.visits == 0 and totals.metrics.pageviews == 0 and not ctx.frame.filters:
        no_data_state(ctx.site)
        return
    st.caption(MULTI_DAY_NOTE)
    series(query)
    left, right = st.columns(2)
    with left:
        pages_panel(ctx, query)
    with right:
        sources_panel(ctx, query)
    left, right = st.columns(2)
    with left:
        locations_panel(ctx, query)
    with right:
        devices_panel(ctx, query)


render()
