"""Overview page: KPI cards with deltas, the timeseries, and the breakdown panels
(pages, sources, locations, devices). Every number comes from the query layer."""

from __future__ import annotations

from typing import Literal

import pandas as pd
import streamlit as st

from dashboard_app import charts, data, first_event, formats, incomplete, panels
from dashboard_app.data import chart_notes
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
from shared.stats.results import Breakdown, Timeseries, Totals, changes_between

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

CUT_HELP = ("A period that ends now holds a bucket that is not over (this hour, today, this "
            "month): it is drawn dotted, and the changes on the cards compare only the "
            "buckets before it with the same buckets of the comparison period, so a "
            "half-done day does not read as a drop. The cards' values are the whole "
            "period so far.")


def kpi_cards(totals: Totals, changes: dict[str, float | None]) -> None:
    for column, (metric, label, fmt, inverse) in zip(st.columns(len(KPIS)), KPIS,
                                                     strict=True):
        # No comparison: no delta. A comparison with nothing to compare to: "–", grey.
        change = changes.get(metric)
        delta = ((fmt_change(change, points=metric == "bounce_rate") or formats.NOTHING)
                 if totals.previous is not None else None)
        colour: Literal["off", "inverse", "normal"] = (
            "off" if change is None else "inverse" if inverse else "normal")
        column.metric(label, fmt(getattr(totals.metrics, metric)), delta=delta,
                      delta_color=colour, delta_arrow="off" if change is None else "auto",
                      help=MULTI_DAY_NOTE if metric == "visitors" else None)


def card_changes(query: StatsQuery, totals: Totals,
                 cut: incomplete.Cut | None) -> dict[str, float | None]:
    """The cards' changes: those of the whole periods when this one is over, else those
    of the complete parts of both (the incomplete bucket left out, see incomplete.py)."""
    other = query.comparison_query()
    if totals.previous is None or cut is None or cut.previous is None or other is None:
        return totals.changes
    url = data.url()
    return changes_between(data.window_metrics(url, query, *cut.current),
                           data.window_metrics(url, other, *cut.previous))


def series(query: StatsQuery, result: Timeseries, cut: incomplete.Cut | None) -> None:
    metric = st.segmented_control("Metric", SERIES_METRICS, default="visitors",
                                  format_func=METRIC_LABELS.__getitem__, key="series_metric",
                                  label_visibility="collapsed") or "visitors"
    fig = charts.timeseries(points_frame(result.points), metric, METRIC_LABELS[metric],
                            comparison=points_frame(result.previous)
                            if result.previous is not None else None,
                            notes=chart_notes(query),
                            incomplete=None if cut is None
                            else result.points[cut.index].bucket)
    st.plotly_chart(fig, key="timeseries", config=charts.PLOT_CONFIG)
    if cut is not None:
        st.caption(incomplete.note(result.interval, result.previous is not None),
                   help=CUT_HELP)


# (dimension, widget key) of every breakdown table on the page; the bar charts'
# dimensions; the map's countries. All are asked for in one call (`data.breakdowns`).
MAP = BreakdownSpec("country", 250)
Found = dict[str, Breakdown]   # widget key (bars: dimension; "map") -> its breakdown


def page_breakdowns(query: StatsQuery) -> Found:
    """The open tab's list of every panel and the map, asked for in one call (one read of
    the visits when no rollup answers); another tab is read when it is opened."""
    specs = {}
    for _, key, tabs in PANELS:
        label, dimension, widget = _open_tab(key, tabs)
        specs[widget] = panels.table_spec(dimension, widget)
    specs["map"] = MAP
    found = data.breakdowns(data.url(), query, tuple(specs.values()))
    return {key: found[spec] for key, spec in specs.items()}


# Each panel: its title and tabs, a tab being (label, dimension, widget key). Tabs are
# lazy (only the open one is drawn) and each panel is a fragment: switching a tab
# reruns that panel alone, not the page.
PANELS = (
    ("Pages", "pages", (("Top pages", "page", "pages"), ("Entry pages", "entry_page", "entry"),
                        ("Exit pages", "exit_page", "exit"))),
    ("Sources", "sources", (("Sources", "source", "sources"), ("Channels", "channel", "channel"),
                            ("Campaigns", "utm_campaign", "utm_campaign"),
                            ("UTM sources", "utm_source", "utm_source"),
                            ("UTM media", "utm_medium", "utm_medium"))),
    ("Locations", "locations", (("Countries", "country", "countries"),
                                ("Regions", "region", "regions"), ("Cities", "city", "cities"))),
    ("Devices", "devices", (("Device types", "device", "device"),
                            ("Screen sizes", "screen_size", "screen_size"),
                            ("Browsers", "browser", "browsers"),
                            ("Operating systems", "os", "os"))),
)
LABELS = {"page": "Page", "entry_page": "Entry page", "exit_page": "Exit page",
          "source": "Source", "channel": "Channel", "utm_campaign": "UTM campaign",
          "utm_source": "UTM source", "utm_medium": "UTM medium", "country": "Country",
          "region": "Region", "city": "City", "device": "Device type",
          "screen_size": "Screen size",
          "browser": "Browser", "os": "Operating system"}


def _open_tab(key: str, tabs: tuple[tuple[str, str, str], ...]) -> tuple[str, str, str]:
    opened = st.session_state.get(f"tabs_{key}")
    return next((t for t in tabs if t[0] == opened), tabs[0])


@st.fragment
def panel(ctx: PageContext, query: StatsQuery, found: Found, title: str, key: str,
          tabs: tuple[tuple[str, str, str], ...]) -> None:
    with st.container(key=f"panel_{key}"):
        st.subheader(title)
        if key == "locations":
            world_map(ctx, found)
        containers = st.tabs([label for label, _, _ in tabs], key=f"tabs_{key}",
                             on_change="rerun")
        for container, (_, dimension, widget) in zip(containers, tabs, strict=True):
            if container.open:
                with container:
                    panels.ranked_breakdown(query, ctx.frame, dimension, LABELS[dimension],
                                            widget, result=found.get(widget))


def world_map(ctx: PageContext, found: Found) -> None:
    countries = found["map"]
    df = pd.DataFrame({"value": [r.value for r in countries.rows],
                       "visitors": [r.metrics.visitors for r in countries.rows]})
    panels.clicked_chart(charts.world_map(df, "value", "visitors", "Visitors by country"),
                         "country", f"map_{panels.frame_digest(ctx.frame)}")


def render() -> None:
    page = site_page(None)
    if page is None:
        return
    ctx, site = page
    query = data.query_for(ctx.frame, site)
    totals = data.totals(data.url(), query)
    empty = totals.metrics.visits == 0 and totals.metrics.pageviews == 0
    if empty and not ctx.frame.filters and not first_event.site_has_events(site):
        first_event.waiting_state(site)
        return
    r = query.date_range
    st.caption(f"{r.first:%d %b %Y} – {r.last:%d %b %Y} · time zone {site.timezone}")
    result = data.timeseries(data.url(), query)
    cut = incomplete.series_cut(query, result)
    kpi_cards(totals, card_changes(query, totals, cut))
    if empty and not ctx.frame.filters:
        no_data_state(site)
        return
    st.caption(MULTI_DAY_NOTE)
    series(query, result, cut)
    found = page_breakdowns(query)
    for pair in (PANELS[:2], PANELS[2:]):
        for column, (title, key, tabs) in zip(st.columns(2, gap="large"), pair, strict=True):
            with column:
                panel(ctx, query, found, title, key, tabs)


render()
