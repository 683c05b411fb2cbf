"""The sidebar's segment controls: pick a saved segment (its filters apply on top of the
frame's own), or save the frame's filters as a new segment, private or shared with the
site's users. Editing and deleting live on the Segments & annotations page."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from dashboard_app import audit_trail, data
from dashboard_app.auth import Access
from dashboard_app.frame import filter_label
from dashboard_app.sidebar import current_frame, set_frame
from shared.core.clock import utc_now
from shared.reports.segments import Segment, add_segment
from shared.sites import Site
from shared.stats.query import QueryError
from shared.storage import write_transaction

_PICK = "sb_segment"


def describe(segment: Segment) -> str:
    """Plain text (widgets that do not interpret markdown): the name, then its filters."""
    return f"{segment.name} ({'; '.join(filter_label(f) for f in segment.filters)})"


def segment_picker(site: Site) -> None:
    user_id, is_admin = data.viewer()
    found = data.segments(data.url(), site.id, user_id, is_admin)
    frame = current_frame()
    by_id = {s.id: s for s in found}
    options: list[int | None] = [None, *by_id]
    if frame.segment is not None and frame.segment not in by_id:
        options.append(frame.segment)       # from a URL: kept, and its report says why
    # Set before the widget is drawn (a segment saved or opened from a URL shows up);
    # a pick changes the frame in the callback, before this script runs again.
    st.session_state[_PICK] = frame.segment
    st.sidebar.selectbox(
        "Segment", options, key=_PICK, on_change=_on_pick,
        format_func=lambda i: "All visitors (no segment)" if i is None else
        (describe(by_id[i]) if i in by_id else f"Segment {i} (not available)"))


def _on_pick() -> None:
    set_frame(replace(current_frame(), segment=st.session_state[_PICK]))


def save_segment_form(site: Site, access: Access) -> None:
    """Save the frame's filters as a segment (signed-in users; not through a share link)."""
    frame = current_frame()
    if access.is_share or not frame.filters:
        return
    with st.sidebar.expander("Save filters as a segment"), st.form("save_segment",
                                                                   clear_on_submit=True):
        name = st.text_input("Segment name", max_chars=200)
        shared = st.checkbox("Share with everyone who can see this site")
        if not st.form_submit_button("Save segment"):
            return
    user_id, _ = data.viewer()
    try:
        with write_transaction(data.current_engine()) as conn:
            segment = add_segment(conn, site.id, name, frame.filters, owner_id=user_id,
                                  shared=shared, now=utc_now())
            audit_trail.record(conn, "segment.add", f"segment {segment.id}: {segment.name}",
                               site_id=site.id, after={"shared": shared})
    except QueryError as exc:
        st.sidebar.error("Not saved.")
        st.sidebar.text(str(exc))
        return
    data.clear()
    # The segment now carries the filters: the frame keeps the segment instead.
    set_frame(replace(frame, filters=(), segment=segment.id))
    st.rerun()
