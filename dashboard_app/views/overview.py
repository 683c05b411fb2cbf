"""Overview page: KPI cards with deltas, the timeseries, and the breakdown panels
(pages, sources, locations, devices). Every number comes from the query layer."""

from __future__ import annotations

from typing import Literal

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
    site_page,
)
from shared.reports.traffic import BreakdownSpec
from shared.stats.query import StatsQuery
from shared.stats.results import Breakdown, Totals

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
        # No comparison: no delta. A comparison with nothing to compare to: "–", grey.
        change = totals.changes.get(metric)
        delta = (fmt_change(change, points=metric == "bounce_rate")
                 if totals.previous is not None else None)
        colour: Literal["off", "inverse", "normal"] = (
            "off" if change is None else "inverse" if inverse else "normal")
        column.metric(label, fmt(getattr(totals.metrics, metric)), delta=delta,
                      delta_color=colour, delta_arrow="off" if change is None else "auto",
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


# (dimension, widget key) of every breakdown table on the page; the bar charts'
# dimensions; the map's countries. All are asked for in one call (`data.breakdowns`).
TABLES = (("page", "pages"), ("entry_page", "entry"), ("exit_page", "exit"),
          ("source", "sources"), ("utm_campaign", "utm_campaign"),
          ("utm_source", "utm_source"), ("utm_medium", "utm_medium"),
          ("country", "countries"), ("region", "regions"), ("city", "cities"),
          ("browser", "browsers"), ("os", "os"))
BARS = ("channel", "device")
MAP = BreakdownSpec("country", 250)
Found = dict[str, Breakdown]   # widget key (bars: dimension; "map") -> its breakdown


def page_breakdowns(query: StatsQuery) -> Found:
    specs = {key: panels.table_spec(dim, key) for dim, key in TABLES}
    specs |= {dim: panels.bars_spec(dim) for dim in BARS}
    specs["map"] = MAP
    found = data.breakdowns(data.url(), query, tuple(specs.values()))
    return {key: found[spec] for key, spec in specs.items()}


def _table(ctx: PageContext, query: StatsQuery, found: Found, dimension: str, label: str,
           key: str) -> None:
    panels.breakdown_table(query, ctx.frame, dimension, label, key, result=found[key])


def pages_panel(ctx: PageContext, query: StatsQuery, found: Found) -> None:
    st.subheader("Pages")
    top, entry, exit_ = st.tabs(["Top pages", "Entry pages", "Exit pages"])
    with top:
        _table(ctx, query, found, "page", "Page", "pages")
    with entry:
        _table(ctx, query, found, "entry_page", "Entry page", "entry")
    with exit_:
        _table(ctx, query, found, "exit_page", "Exit page", "exit")


def sources_panel(ctx: PageContext, query: StatsQuery, found: Found) -> None:
    st.subheader("Sources")
    sources, channels, campaigns = st.tabs(["Sources", "Channels", "Campaigns"])
    with sources:
        _table(ctx, query, found, "source", "Source", "sources")
    with channels:
        panels.breakdown_bars(query, ctx.frame, "channel", "Visitors by channel", "channels",
                              result=found["channel"])
    with campaigns:
        for dim, label in (("utm_campaign", "UTM campaign"), ("utm_source", "UTM source"),
                           ("utm_medium", "UTM medium")):
            _table(ctx, query, found, dim, label, dim)


def locations_panel(ctx: PageContext, query: StatsQuery, found: Found) -> None:
    st.subheader("Locations")
    countries = found["map"]
    df = pd.DataFrame({"value": [r.value for r in countries.rows],
                       "visitors": [r.metrics.visitors for r in countries.rows]})
    panels.clicked_chart(charts.world_map(df, "value", "visitors", "Visitors by country"),
                         "country", f"map_{panels.frame_digest(ctx.frame)}")
    c_tab, r_tab, city_tab = st.tabs(["Countries", "Regions", "Cities"])
    with c_tab:
        _table(ctx, query, found, "country", "Country", "countries")
    with r_tab:
        _table(ctx, query, found, "region", "Region", "regions")
    with city_tab:
        _table(ctx, query, found, "city", "City", "cities")


def devices_panel(ctx: PageContext, query: StatsQuery, found: Found) -> None:
    st.subheader("Devices")
    dev, browsers, systems = st.tabs(["Device types", "Browsers", "Operating systems"])
    with dev:
        panels.breakdown_bars(query, ctx.frame, "device", "Visitors by device type", "device",
                              result=found["device"])
    with browsers:
        _table(ctx, query, found, "browser", "Browser", "browsers")
    with systems:
        _table(ctx, query, found, "os", "Operating system", "os")


def render() -> None:
    page = site_page(None)
    if page is None:
        return
    ctx, site = page
    query = data.query_for(ctx.frame, site)
    totals = data.totals(data.url(), query)
    r = query.date_range
    st.caption(f"{r.first:%d %b %Y} – {r.last:%d %b %Y} · time zone {site.timezone}")
    kpi_cards(totals)
    if totals.metrics.visits == 0 and totals.metrics.pageviews == 0 and not ctx.frame.filters:
        no_data_state(site)
        return
    st.caption(MULTI_DAY_NOTE)
    series(query)
    found = page_breakdowns(query)
    left, right = st.columns(2)
    with left:
        pages_panel(ctx, query, found)
    with right:
        sources_panel(ctx, query, found)
    left, right = st.columns(2)
    with left:
        locations_panel(ctx, query, found)
    with right:
        devices_panel(ctx, query, found)


render()
