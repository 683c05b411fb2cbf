"""Sites & settings page: the tracking code to copy, the site's settings, share links,
API keys, and (for admins) adding a site. Viewers see everything read-only."""

from __future__ import annotations

import streamlit as st

from dashboard_app import site_admin
from dashboard_app.ui import page_context
from shared.sites import Site
from shared.tracking.snippet import SnippetOptions, render_snippet


def tracking_code(site: Site) -> None:
    host = st.text_input("Public address of the beacon", placeholder="https://stats.example.com",
                         help="Leave empty when the site proxies /js/ and /api/event to the "
                              "beacon (first-party paths).", key=f"beacon_host_{site.id}")
    host = host.strip().rstrip("/")
    if host and not host.startswith(("http://", "https://")):
        st.warning("The address must start with https:// (or http://).")
        host = ""
    left, right = st.columns(2)
    outbound = left.toggle("Track clicks on outbound links", True, key=f"sn_out_{site.id}")
    downloads = right.toggle("Track file downloads", True, key=f"sn_dl_{site.id}")
    options = SnippetOptions(domains=(site.domain,), host=host, outbound_links=outbound,
                             file_downloads=downloads)
    st.write("Paste this into the `<head>` of every page (script, queue and a no-script "
             "pixel):")
    st.code(render_snippet(options), language="html")
    st.write("Without JavaScript at all, a bare beacon counts the page it is on (from the "
             "Referer header) and answers 204 No Content:")
    base = host or "https://YOUR-BEACON-HOST"
    st.code(f'<img src="{base}/?d={site.domain}" alt="" width="1" height="1" '
            'referrerpolicy="no-referrer-when-downgrade">\n'
            f'curl -H "Referer: https://{site.domain}/some/page" "{base}/?d={site.domain}"',
            language="html")


def render() -> None:
    ctx = page_context()
    st.title("Sites & settings")
    if ctx.access.is_admin:
        with st.expander("Add a site", expanded=ctx.site is None):
            site_admin.add_site_form()
    if ctx.site is None:
        if not ctx.access.is_admin:
            st.info("You have no role on any site yet. Ask an administrator.")
        return
    site_tabs(ctx.site, ctx.can_edit)


def site_tabs(site: Site, can_edit: bool) -> None:
    st.caption("Settings of the site picked in the sidebar")
    st.text(site.domain)
    code, config, sharing, keys = st.tabs(["Tracking code", "Site settings", "Share links",
                                           "API keys"])
    with code:
        tracking_code(site)
    with config:
        (site_admin.settings_form if can_edit else site_admin.settings_table)(site)
    with sharing:
        if can_edit:
            base = (st.context.url or "").split("?")[0].rsplit("/", 1)[0] + "/"
            site_admin.share_links(site, base)
        else:
            st.caption("Only owners of the site manage share links.")
    with keys:
        if can_edit:
            site_admin.api_keys(site)
        else:
            st.caption("Only owners of the site manage API keys.")


render()
