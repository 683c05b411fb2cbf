"""Events & properties page: custom events with visitors, counts and revenue, then the
values of a chosen property key. Clicking a row filters by that event or value."""

from __future__ import annotations

import streamlit as st

from dashboard_app import data, panels
from dashboard_app.tables import EVENT_COLUMNS
from dashboard_app.ui import site_page


def render() -> None:
    page = site_page("Events & properties")
    if page is None:
        return
    ctx, site = page
    query = data.query_for(ctx.frame, site)
    st.subheader("Events", anchor=False)
    st.caption("Pageviews and custom events; 'engagement' pings carry time on page.")
    panels.breakdown_table(query, ctx.frame, "event", "Event", "events",
                           columns=EVENT_COLUMNS)
    st.subheader("Properties", anchor=False)
    keys = data.prop_keys(data.url(), query)
    if not keys:
        st.caption("No custom properties in this period.")
        return
    key = st.selectbox("Property key", keys, key="prop_key")
    if key:
        panels.breakdown_table(query, ctx.frame, f"prop:{key}", "Value", f"prop_{key}",
                               columns=EVENT_COLUMNS)


render()
