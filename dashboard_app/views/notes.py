"""Segments & annotations page: the site's saved segments (who may use and change them)
and its annotations (drawn on the charts); editors change both here."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard_app import data, notes_forms
from dashboard_app.segments_ui import describe
from dashboard_app.ui import PageContext, data_table, site_page
from shared.reports.segments import may_edit
from shared.sites import Site


def segments_section(ctx: PageContext, site_id: int) -> None:
    st.subheader("Segments", anchor=False)
    st.caption("A segment is a saved set of filters: pick one in the sidebar, use "
               "`?segment=<id>` in a dashboard URL or `[\"is\", \"segment\", [<id>]]` in the "
               "Stats API (shared segments only). Save one from the sidebar once filters "
               "are set.")
    user_id, is_admin = data.viewer()
    found = data.segments(data.url(), site_id, user_id, is_admin)
    if not found:
        st.caption("No segments yet.")
        return
    df = pd.DataFrame([{"Id": s.id, "Name": s.name, "Filters": describe(s),
                        "Shared": "yes" if s.shared else "private",
                        "Yours": "yes" if user_id is not None and s.owner_id == user_id
                        else ""} for s in found])
    data_table(df, "segments", "segments", width="stretch")
    editable = [s for s in found if may_edit(s, user_id=user_id, is_admin=is_admin,
                                             is_site_owner=ctx.can_edit)]
    if editable:
        with st.expander("Rename, share or delete a segment"):
            notes_forms.segment_editor(editable, describe)


def annotations_section(ctx: PageContext, site: Site) -> None:
    st.subheader("Annotations", anchor=False)
    st.caption("Notes on a day or a range of days, drawn on the Overview's chart.")
    notes = data.site_annotations(data.url(), site.id)
    if notes:
        df = pd.DataFrame([{"Id": n.id, "Day": n.first_day.isoformat(),
                            "Until": n.last_day.isoformat() if n.last_day != n.first_day
                            else "", "Note": n.text, "Author": n.author or ""}
                           for n in notes])
        data_table(df, "annotations", "annotations", width="stretch")
    else:
        st.caption("No annotations yet.")
    if ctx.can_edit or ctx.access.is_admin:
        with st.expander("Add, edit or delete an annotation"):
            notes_forms.annotation_editor(site.id, notes, data.site_today(site),
                                          ctx.access.email)


def render() -> None:
    page = site_page("Segments & annotations")
    if page is None:
        return
    ctx, site = page
    segments_section(ctx, site.id)
    annotations_section(ctx, site)


render()
