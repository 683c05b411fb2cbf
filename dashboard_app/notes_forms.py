"""Forms that change annotations (site owners and administrators) and segments (their
owner; a shared one also a site owner). Writes go through `shared.reports` in one write
transaction; a refused change shows its reason as plain text."""

from __future__ import annotations

from datetime import date
from typing import Any

import streamlit as st

from dashboard_app import audit_trail, data
from shared.core.clock import utc_now
from shared.reports.annotations import (
    Annotation,
    add_annotation,
    remove_annotation,
    update_annotation,
)
from shared.reports.segments import Segment, remove_segment, update_segment
from shared.stats.query import QueryError
from shared.storage import write_transaction


def _apply(action: Any, audit_as: tuple[str, str, int]) -> bool:
    """Run one change and record it in the audit log in the same transaction."""
    try:
        with write_transaction(data.current_engine()) as conn:
            action(conn)
            name, target, site_id = audit_as
            audit_trail.record(conn, name, target, site_id=site_id)
    except QueryError as exc:
        st.error("Not saved.")
        st.text(str(exc))
        return False
    data.clear()
    return True


def annotation_editor(site_id: int, notes: list[Annotation], today: date,
                      author: str | None) -> None:
    choices: list[Annotation | None] = [None, *notes]
    picked = st.selectbox("Annotation", choices, key="note_pick",
                          format_func=lambda n: "New annotation…" if n is None else
                          f"#{n.id} {n.first_day:%d %b %Y}: {n.text[:60]}")
    key = f"note_{picked.id if picked else 'new'}"
    with st.form(key):
        first = st.date_input("Day (the first of a range)",
                              picked.first_day if picked else today, key=f"{key}_first")
        is_range = bool(picked and picked.last_day != picked.first_day)
        ranged = st.checkbox("A range of days", is_range, key=f"{key}_ranged")
        last = st.date_input("Last day of the range", picked.last_day if picked else today,
                             key=f"{key}_last")
        text = st.text_area("Note", picked.text if picked else "", max_chars=500,
                            key=f"{key}_text")
        save = st.form_submit_button("Save annotation", type="primary")
        delete = picked is not None and st.form_submit_button("Delete annotation")
    end = last if ranged else first
    if save and _apply(lambda conn: (
            update_annotation(conn, site_id, picked.id, text=text, first_day=first,
                              last_day=end) if picked else
            add_annotation(conn, site_id, first, text, last_day=end, author=author,
                           now=utc_now())),
            ("annotation.update" if picked else "annotation.add",
             f"annotation {picked.id}" if picked else f"annotation on {first}", site_id)):
        st.rerun()
    if delete and picked and _apply(lambda conn: remove_annotation(conn, site_id, picked.id),
                                         ("annotation.remove", f"annotation {picked.id}",
                                          site_id)):
        st.rerun()


def segment_editor(editable: list[Segment], describe: Any) -> None:
    picked = st.selectbox("Segment", editable, key="segment_pick",
                          format_func=lambda s: f"#{s.id} {describe(s)}")
    if picked is None:
        return
    with st.form(f"segment_{picked.id}"):
        name = st.text_input("Name", picked.name, max_chars=200)
        shared = st.checkbox("Shared with everyone who can see this site", picked.shared)
        save = st.form_submit_button("Save segment", type="primary")
        delete = st.form_submit_button("Delete segment")
    if save and _apply(lambda conn: update_segment(conn, picked, name=name, shared=shared,
                                                   now=utc_now()),
                       ("segment.update", f"segment {picked.id}: {name}", picked.site_id)):
        st.rerun()
    if delete and _apply(lambda conn: remove_segment(conn, picked),
                         ("segment.remove", f"segment {picked.id}: {picked.name}",
                          picked.site_id)):
        st.rerun()
