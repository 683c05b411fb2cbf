"""Enrichment step: the site-search term a page's query carries (`/search?q=Pricing`).

The parameters looked at are the site's own (`Site.search_params`, by default the ones
most site-search engines use). Only the term is kept - lower-cased, cleaned, capped -
never the rest of the query: the stored path has no query string at all.
"""

from __future__ import annotations

from beacon_app.enrichment.text import clean_value

MAX_TERM = 300


def search_term(query: dict[str, str], params: tuple[str, ...]) -> str:
    """The first non-empty value of `params` (matched case-insensitively), or ""."""
    if not params or not query:
        return ""
    lowered: dict[str, str] = {}
    for key, value in query.items():
        lowered.setdefault(key.strip().lower(), value)
    for name in params:
        # Whitespace runs (tabs, newlines) become one space before control characters go.
        term = clean_value(" ".join(lowered.get(name, "").split()), MAX_TERM * 2)
        if term:
            return term.lower()[:MAX_TERM]
    return ""
