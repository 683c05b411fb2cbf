"""The shared frame's controls: site, period, interval, comparison, filter chips and builder.

The frame lives under one session-state key (`FRAME_KEY`) and is mirrored into the URL
after every run. Filter chips are a multiselect (its options render as plain text, never
markdown, which matters because filter values come from visitors).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import streamlit as st

from dashboard_app.frame import (
    COMPARISON_LABELS,
    DIMENSION_LABELS,
    INTERVALS,
    OPERATOR_LABELS,
    PERIODS,
    Frame,
    filter_label,
    from_params,
    to_params,
)
from shared.sites import Site
from shared.stats.dimensions import PROP_PREFIX
from shared.stats.query import Filter, QueryError

FRAME_KEY = "frame"
_CHIPS = "frame_chips"


def current_frame() -> Frame:
    """This session's frame; the first run of a session reads it from the URL."""
    if FRAME_KEY not in st.session_state:
        params = {k: st.query_params.get_all(k) for k in st.query_params}
        st.session_state[FRAME_KEY] = from_params(params)
    frame: Frame = st.session_state[FRAME_KEY]
    return frame


def set_frame(frame: Frame) -> None:
    st.session_state[FRAME_KEY] = frame


def add_filter(f: Filter) -> None:
    """Add `f` to the frame and rerun, so every panel reports on the narrower frame."""
    set_frame(current_frame().with_filter(f))
    st.rerun()


def mirror_to_url(frame: Frame) -> None:
    """Write the frame into the query params (keeping `share`), only when it changed."""
    wanted = to_params(frame)
    share = st.query_params.get("share")
    if share:
        wanted["share"] = share
    current = {k: (st.query_params.get_all(k) if k == "f" else st.query_params.get(k))
               for k in st.query_params}
    if current != wanted:
        st.query_params.from_dict(wanted)


def _on_chips_change() -> None:
    kept = set(st.session_state[_CHIPS])
    frame = current_frame()
    set_frame(replace(frame, filters=tuple(f for f in frame.filters if filter_label(f) in kept)))


def _initial(key: str, value: object) -> None:
    """Seed a widget's state from the frame once; afterwards the widget owns it."""
    if key not in st.session_state:
        st.session_state[key] = value


def site_picker(sites: list[Site]) -> Site | None:
    frame = current_frame()
    if not sites:
        return None
    by_domain = {s.domain: s for s in sites}
    _initial("sb_site", frame.site_domain if frame.site_domain in by_domain
             else sites[0].domain)
    if st.session_state["sb_site"] not in by_domain:
        st.session_state["sb_site"] = sites[0].domain
    if len(sites) > 1:
        domain = st.sidebar.selectbox("Site", list(by_domain), key="sb_site")
    else:
        domain = sites[0].domain
        st.sidebar.caption("Site")
        st.sidebar.text(domain)
    if domain != frame.site_domain:
        # Filters rarely mean the same on another site: start that site unfiltered.
        set_frame(replace(frame, site_domain=domain,
                          filters=() if frame.site_domain else frame.filters))
    return by_domain[domain]


def period_controls(today: date) -> None:
    frame = current_frame()
    _initial("sb_period", frame.period)
    _initial("sb_interval", frame.interval)
    _initial("sb_compare", frame.comparison)
    period = st.sidebar.selectbox("Period", list(PERIODS), key="sb_period",
                                  format_func=PERIODS.__getitem__)
    start, end = frame.start, frame.end
    if period == "custom":
        # Clamped to the widget's bound: a URL may carry any date (e.g. 9999-12-31).
        _initial("sb_days", (min(start or today - timedelta(days=29), today),
                             min(end or today, today)))
        picked = st.sidebar.date_input("Days", key="sb_days", max_value=today)
        start, end = picked if isinstance(picked, tuple) and len(picked) == 2 else (None, None)
    interval = st.sidebar.selectbox("Interval", list(INTERVALS), key="sb_interval",
                                    format_func=INTERVALS.__getitem__)
    comparison = st.sidebar.selectbox("Compare with", list(COMPARISON_LABELS),
                                      key="sb_compare", format_func=COMPARISON_LABELS.__getitem__)
    if period != "custom":
        start = end = None
    elif start is None or end is None:  # half-picked range: keep reporting the old period
        period, start, end = frame.period, frame.start, frame.end
    set_frame(replace(frame, period=period, start=start, end=end, interval=interval,
                      comparison=comparison))


def _clear_filters() -> None:
    set_frame(replace(current_frame(), filters=()))


def filter_bar() -> None:
    """The active filters at the top of the main area: one chip each (remove with ×)
    and "Clear all". Drawn only while there is a filter."""
    frame = current_frame()
    labels = [filter_label(f) for f in frame.filters]
    if not labels:
        return
    # Set before the widget is drawn, so a filter added by a click shows up as a chip.
    st.session_state[_CHIPS] = labels
    chips, clear = st.columns([6, 1], vertical_alignment="bottom")
    chips.multiselect("Filters (remove one with ×)", labels, key=_CHIPS,
                      on_change=_on_chips_change)
    clear.button("Clear all", key="clear_filters", on_click=_clear_filters,
                 icon=":material/filter_alt_off:", width="stretch")


def filter_hint() -> None:
    if not current_frame().filters:
        st.sidebar.caption("No filters. Click a row, a bar or a country to add one.")


def filter_builder() -> None:
    with st.sidebar.expander("Add a filter"), st.form("filter_builder", clear_on_submit=True):
        dims = [*DIMENSION_LABELS, "prop"]
        dimension = st.selectbox("Dimension", dims, format_func=lambda d: DIMENSION_LABELS.get(
            d, "Custom property…"))
        prop = st.text_input("Property key (for a custom property)")
        operator = st.selectbox("Operator", list(OPERATOR_LABELS),
                                format_func=OPERATOR_LABELS.__getitem__)
        raw = st.text_area("Value (one per line; * and ** are wildcards for 'matches')")
        if st.form_submit_button("Add filter"):
            _add_built(dimension, prop, operator, raw)


def _add_built(dimension: str, prop: str, operator: str, raw: str) -> None:
    values = tuple(v.strip() for v in raw.splitlines() if v.strip())
    if dimension == "prop":
        dimension = PROP_PREFIX + prop.strip()
    try:
        f = Filter(dimension, operator, values)
    except QueryError as exc:
        st.sidebar.error(str(exc))
        return
    add_filter(f)
