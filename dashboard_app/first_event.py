"""The state of a site that has never received an event: "waiting for the first event",
the snippet to paste, a live check of a page for it, and the hits the beacon dropped
for the site lately with the reason - the installation check every new site needs.

It re-checks every few seconds (a fragment, so only this part reruns) and shows the
Overview as soon as the first event is stored.
"""

from __future__ import annotations

import streamlit as st

from dashboard_app.data import current_engine
from shared.core.clock import utc_now
from shared.reports.installation import has_events, recent_drops
from shared.sites import Site
from shared.tracking.snippet import SnippetOptions, render_snippet
from shared.tracking.snippet_check import check_page

POLL_SECONDS = 5


def site_has_events(site: Site) -> bool:
    with current_engine().connect() as conn:
        return has_events(conn, site.id)


def waiting_state(site: Site) -> None:
    st.subheader("Waiting for the first event")
    st.write(f"Nothing has arrived for **{site.domain}** yet. Paste this into the "
             "`<head>` of every page (the beacon's public address in place of the "
             "example; the full options are under **Sites & settings**):")
    st.code(render_snippet(SnippetOptions(domains=(site.domain,),
                                          host="https://YOUR-BEACON-HOST")), language="html")
    _snippet_check(site)
    _live_status(site)


def _snippet_check(site: Site) -> None:
    with st.form(f"snippet_check_{site.id}", border=False):
        url = st.text_input("Check a page of the site for the snippet",
                            value=f"https://{site.domain}/", key=f"check_url_{site.id}")
        if st.form_submit_button("Check the page", icon=":material/travel_explore:"):
            result = check_page(url.strip(), site.domain)
            (st.success if result.ok else st.warning)(result.message)


@st.fragment(run_every=POLL_SECONDS)
def _live_status(site: Site) -> None:
    """Re-run alone every few seconds: the first event shows the Overview."""
    if site_has_events(site):
        st.rerun(scope="app")
    with current_engine().connect() as conn:
        drops = recent_drops(conn, site.id, utc_now().date())
    if not drops:
        st.caption(f"No hit for {site.domain} has reached the beacon in the last 7 days "
                   f"(checked every {POLL_SECONDS} s). Open a page of the site in a browser "
                   "once the snippet is in.")
        return
    st.warning("Hits reached the beacon but were not counted:")
    for drop in drops:
        noun = "hit" if drop.count == 1 else "hits"
        st.text(f"{drop.count:,} {noun} dropped: {drop.reason.replace('_', ' ')} "
                f"({drop.hint})")
