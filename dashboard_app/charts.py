"""Charts: pandas DataFrame -> plotly Figure. Never imports streamlit, so it is unit-tested alone.

Every label that comes from visitors (paths, referrers, props) is HTML-escaped before it
reaches Plotly: Plotly renders a subset of HTML in text (`<a href>`, `<b>`, `<br>`), and
escaped entities are shown literally. The raw value travels in `customdata`, so a click
on a bar gives back exactly the value to filter on.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from functools import cache
from typing import Any

import pandas as pd
import plotly.graph_objects as go

# Plotly's config for every chart: no mode bar, and the world map's outlines from the
# dashboard's own static files (dashboard_app/static/maps/, built by
# scripts/build_world_map.py) instead of Plotly's CDN. Relative, so it resolves under
# any base path (`beacon web` serves the dashboard under /dashboard).
PLOT_CONFIG: dict[str, Any] = {"displayModeBar": False, "topojsonURL": "app/static/maps/"}
MAX_BARS = 15
COUNTS = frozenset({"visitors", "visits", "pageviews", "events"})
MAX_POINTS = 2000
_MARGIN = {"l": 8, "r": 8, "t": 32, "b": 8}
PRIMARY = "#4f6bed"
MUTED = "#b8bfd6"


def safe_label(value: Any, limit: int = 80) -> str:
    """A visitor-supplied value as inert Plotly text, cut to `limit` characters."""
    text = "(none)" if value is None or value == "" else str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    # Only < > & matter: Plotly decodes those entities and shows the rest (&quot;) as is.
    return html.escape(text, quote=False)


def _layout(fig: go.Figure, title: str, height: int, legend: bool = True) -> go.Figure:
    fig.update_layout(title={"text": html.escape(title, quote=False), "font": {"size": 14}},
                      margin=_MARGIN, height=height, showlegend=legend,
                      # Above the plot, right of the title: below it, the legend sat on
                      # the axis' second line of labels (the year).
                      legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.0,
                              "yanchor": "bottom"},
                      hoverlabel={"namelength": -1})
    return fig


def empty_figure(message: str, height: int = 260) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=html.escape(message, quote=False), showarrow=False,
                       font={"size": 14})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, "", height)


def downsample(df: pd.DataFrame, max_points: int = MAX_POINTS) -> pd.DataFrame:
    """At most `max_points` rows, evenly spaced, first and last kept: the browser draws
    thousands of points slowly and nobody can tell them apart."""
    if len(df) <= max_points:
        return df
    step = -(-len(df) // max_points)
    picked = df.iloc[::step]
    if picked.index[-1] != df.index[-1]:
        picked = pd.concat([picked, df.iloc[[-1]]])
    return picked


ANNOTATION = "#e8a33d"


def annotate(fig: go.Figure, notes: Sequence[tuple[Any, Any, str]]) -> go.Figure:
    """Draw notes (first day, last day, text) on a time chart: a line on a day, a band over
    a range, and a marker at the top whose hover shows the text (escaped: it is shown to
    every user of the site and in shared dashboards)."""
    if not notes:
        return fig
    for first, last, _ in notes:
        if first == last:
            fig.add_vline(x=first, line={"color": ANNOTATION, "width": 1, "dash": "dot"})
        else:
            fig.add_vrect(x0=first, x1=last, fillcolor=ANNOTATION, opacity=0.12,
                          line_width=0, layer="below")
    texts = [safe_label(text, 200) for _, _, text in notes]
    fig.add_trace(go.Scatter(
        x=[first for first, _, _ in notes], y=[1.0] * len(notes), yaxis="y2", mode="markers",
        name="Annotations", marker={"symbol": "triangle-down", "size": 10,
                                    "color": ANNOTATION},
        customdata=texts, hovertemplate="%{x|%d %b %Y}: %{customdata}<extra></extra>"))
    fig.update_layout(yaxis2={"overlaying": "y", "range": [0, 1.05], "visible": False,
                              "fixedrange": True})
    return fig


def timeseries(df: pd.DataFrame, metric: str, label: str, *, x: str = "bucket",
               comparison: pd.DataFrame | None = None, height: int = 320,
               notes: Sequence[tuple[Any, Any, str]] = (),
               incomplete: Any = None) -> go.Figure:
    """The metric over time; the comparison period is drawn beside it, aligned by position
    (bucket i of the previous period next to bucket i of this one); `notes` are the
    annotations (first day, last day, text) drawn on it. `incomplete` is the start of the
    bucket that is not over (this hour, today): the line into it is dotted, and the
    buckets after it (the rest of today's hours) are not drawn - they have not happened."""
    if df.empty or metric not in df:
        return empty_figure("No data in this period")
    done, partial = _split(df, x, incomplete)
    done = downsample(done)
    fig = go.Figure(go.Scatter(x=done[x], y=done[metric], mode="lines+markers",
                               name="This period", line={"color": PRIMARY, "width": 2},
                               marker={"size": 4}))
    if not partial.empty:
        fig.add_trace(go.Scatter(
            x=partial[x], y=partial[metric], mode="lines+markers", name="Incomplete",
            line={"color": PRIMARY, "width": 2, "dash": "dot"}, marker={"size": 4},
            hovertemplate="%{x}: %{y} (so far)<extra>Incomplete</extra>"))
    if comparison is not None and not comparison.empty and metric in comparison:
        comp = downsample(comparison).iloc[: len(df)]
        labels = [str(v) for v in comp[x]]
        # Solid and light: dotted means "not over yet" on this chart.
        fig.add_trace(go.Scatter(
            x=list(df[x].iloc[: len(comp)]), y=comp[metric], mode="lines", name="Comparison",
            line={"color": MUTED, "width": 2},
            customdata=labels, hovertemplate="%{customdata}: %{y}<extra>Comparison</extra>"))
    fig.update_yaxes(rangemode="tozero")
    if metric in COUNTS:   # no "0.2 visitors" on the axis
        fig.update_yaxes(tickformat=",d", dtick=None if df[metric].max() > 5 else 1)
    return _layout(annotate(fig, notes), label, height)


def _split(df: pd.DataFrame, x: str, incomplete: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the complete buckets, the dotted segment: the last complete bucket and the
    incomplete one); with no incomplete bucket, everything is complete."""
    if incomplete is None:
        return df, df.iloc[0:0]
    done = df[df[x] < incomplete]
    now = df[df[x] == incomplete]
    if now.empty:
        return df, df.iloc[0:0]
    return done, pd.concat([done.iloc[-1:], now])


def bars(df: pd.DataFrame, label_col: str, value_col: str, title: str, *,
         max_bars: int = MAX_BARS, height: int | None = None) -> go.Figure:
    """Horizontal bars, biggest on top; click a bar to filter by its value."""
    if df.empty:
        return empty_figure("Nothing to show")
    top = df.head(max_bars)
    labels = [safe_label(v) for v in top[label_col]]
    fig = go.Figure(go.Bar(
        x=top[value_col], y=labels, orientation="h", marker={"color": PRIMARY},
        customdata=[str(v) for v in top[label_col]], name=html.escape(value_col),
        hovertemplate="%{y}: %{x}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", type="category")
    return _layout(fig, title, height or 80 + 28 * len(top), legend=False)


def stacked_days(df: pd.DataFrame, day_col: str, group_col: str, value_col: str,
                 title: str, height: int = 320) -> go.Figure:
    """One bar per day, stacked by `group_col` (e.g. bot hits per day by category)."""
    if df.empty:
        return empty_figure("No data in this period")
    fig = go.Figure()
    for group, part in df.groupby(group_col, sort=False):
        fig.add_trace(go.Bar(x=part[day_col], y=part[value_col], name=safe_label(group),
                             hovertemplate="%{x}: %{y}<extra>%{fullData.name}</extra>"))
    fig.update_layout(barmode="stack")
    fig.update_xaxes(type="category", categoryorder="category ascending")
    return _layout(fig, title, height)


@cache
def _iso3_by_iso2() -> dict[str, str]:
    import pycountry

    return {c.alpha_2: c.alpha_3 for c in pycountry.countries}


def iso3(code: str) -> str | None:
    """ISO 3166 alpha-3 for an alpha-2 country code (Plotly's maps want alpha-3)."""
    return _iso3_by_iso2().get((code or "").upper())


def country_name(code: str) -> str:
    import pycountry

    found = pycountry.countries.get(alpha_2=(code or "").upper())
    return found.name if found else (code or "Unknown")


def world_map(df: pd.DataFrame, country_col: str, value_col: str, title: str,
              height: int = 380) -> go.Figure:
    """A choropleth of `value_col` by country; click a country to filter by it."""
    if df.empty:
        return empty_figure("No locations in this period")
    codes = [str(c) for c in df[country_col]]
    known = [(c, v) for c, v in zip(codes, df[value_col], strict=True) if iso3(c)]
    if not known:
        return empty_figure("No known countries in this period")
    fig = go.Figure(go.Choropleth(
        locations=[iso3(c) for c, _ in known], z=[v for _, v in known],
        text=[safe_label(country_name(c)) for c, _ in known],
        customdata=[c for c, _ in known], colorscale="Blues", marker_line_color="white",
        hovertemplate="%{text}: %{z}<extra></extra>", colorbar={"thickness": 10}))
    # Only the layers our outlines hold (countries, land): no coastlines, lakes, rivers.
    fig.update_geos(showframe=False, showcoastlines=False, showland=True,
                    landcolor="#eef0f6", showcountries=True, countrycolor="white",
                    showocean=False, showlakes=False, showrivers=False,
                    projection_type="natural earth", lataxis_range=[-58, 85])
    return _layout(fig, title, height, legend=False)


def funnel(steps: Sequence[str], visitors: Sequence[int], title: str,
           height: int = 320) -> go.Figure:
    """Visitors reaching each step, with the share of the first step and the drop-off."""
    if not steps:
        return empty_figure("This funnel has no steps")
    fig = go.Figure(go.Funnel(
        y=[safe_label(s) for s in steps], x=list(visitors),
        textinfo="value+percent initial+percent previous", marker={"color": PRIMARY}))
    return _layout(fig, title, height, legend=False)


def minutes(df: pd.DataFrame, x: str, y: str, title: str, height: int = 220) -> go.Figure:
    """Visitors per minute for the realtime page."""
    if df.empty:
        return empty_figure("Nobody in the last 30 minutes", height)
    fig = go.Figure(go.Bar(x=df[x], y=df[y], marker={"color": PRIMARY}, name="visitors",
                           hovertemplate="%{x|%H:%M}: %{y}<extra></extra>"))
    fig.update_layout(bargap=0.1)
    return _layout(fig, title, height, legend=False)


def selected_values(selection: Any) -> list[str]:
    """The raw values (customdata) of the points a user clicked in a bar chart or map."""
    points = (selection or {}).get("selection", {}).get("points", []) if selection else []
    values = []
    for point in points:
        value = point.get("customdata")
        if isinstance(value, list):
            value = value[0] if value else None
        if value is not None and str(value) not in values:
            values.append(str(value))
    return values


LIST_ROW_PX = 30
LIST_LABEL_CHARS = 40       # fits beside the numbers at 390 px wide
LIST_BAR = "#dfe5fb"
LIST_SELECTED = "#9fb0f5"
LIST_TRACK = "rgba(0,0,0,0)"
LIST_BAR_SHARE = 0.8        # the longest bar ends here; the numbers sit to its right


def ranked_list(labels: Sequence[Any], values: Sequence[float], shown: Sequence[str], *,
                selected: frozenset[str] = frozenset(), title: str = "") -> go.Figure:
    """A ranked list as Plausible draws one: each row a name over a bar proportional to
    its value, the number (`shown`, already formatted) always visible at the right.
    The names are the y axis's labels drawn inside the plot, so a short bar never cuts
    them; the numbers are the text of an invisible full-width bar under each row, which
    also makes the whole row clickable (customdata: the value). Rows whose value is in
    `selected` (the active filter) are drawn highlighted."""
    if not len(labels):
        return empty_figure("Nothing in this period", height=120)
    raw = [str(v) for v in labels]
    top = max(max(values), 1)
    span = top / LIST_BAR_SHARE
    rows = list(range(len(raw)))
    fig = go.Figure()
    fig.add_trace(go.Bar(
        y=rows, x=[span] * len(raw), orientation="h", customdata=raw,
        marker={"color": LIST_TRACK}, text=[html.escape(n) for n in shown],
        textposition="inside", insidetextanchor="end", textfont={"color": "#1f2430"},
        hoverinfo="skip", showlegend=False))
    fig.add_trace(go.Bar(
        y=rows, x=list(values), orientation="h", customdata=raw, showlegend=False,
        marker={"color": [LIST_SELECTED if r in selected else LIST_BAR for r in raw]},
        hovertext=[f"{safe_label(label, 200)}: {number}"
                   for label, number in zip(raw, shown, strict=True)],
        hovertemplate="%{hovertext}<extra></extra>"))
    ticks = [("<b>{}</b>" if r in selected else "{}").format(safe_label(r, LIST_LABEL_CHARS))
             for r in raw]
    fig.update_layout(barmode="overlay", bargap=0.18, dragmode=False,
                      plot_bgcolor="rgba(0,0,0,0)", clickmode="event+select",
                      uniformtext={"minsize": 12, "mode": "show"})
    fig.update_xaxes(visible=False, range=[0, span], fixedrange=True)
    fig.update_yaxes(tickvals=rows, ticktext=ticks, ticklabelposition="inside", ticks="",
                     showgrid=False, zeroline=False, autorange="reversed", fixedrange=True,
                     tickfont={"size": 13, "color": "#1f2430"}, ticklabelstandoff=6)
    fig = _layout(fig, title, 24 + LIST_ROW_PX * len(raw) + (28 if title else 0),
                  legend=False)
    fig.update_layout(margin={"l": 0, "r": 6, "t": 28 if title else 4, "b": 0})
    return fig
