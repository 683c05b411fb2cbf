"""Site search page: the terms visitors searched for on the site (from the query
parameters set per site), then the pages those searches were made on - of one term once
it is clicked (a filter), else of every term."""

from __future__ import annotations

import streamlit as st

from dashboard_app import data, panels
from dashboard_app.ui import site_page
from shared.stats.query import Filter

ANY_TERM = Filter("search_term", "is_not", ("",))


def render() -> None:
    page = site_page("Site search")
    if page is None:
        return
    ctx, site = page
    query = data.query_for(ctx.frame, site).with_filters(ANY_TERM)
    params = ", ".join(site.search_params) or "none: site search is off for this site"
    st.caption(f"Terms from the query parameters {params} (lower-cased; the rest of the "
               "query is not stored). Change them under Sites & settings or with "
               "`beacon sites update --search-params`.")
    st.subheader("Search terms", anchor=False)
    panels.breakdown_table(query, ctx.frame, "search_term", "Search term", "search_terms")
    picked = [v for f in ctx.frame.filters if f.dimension == "search_term"
              and f.operator == "is" for v in f.values]
    st.subheader("Searched on " + (", ".join(picked) if picked else "any term"),
                 anchor=False)
    panels.breakdown_table(query, ctx.frame, "page", "Page", "search_pages")


render()
