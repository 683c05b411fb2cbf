"""Enrichment layer: the request headers that every browser sends with an image or
beacon request.

A browser's request for the pixel (`<img>`) or the 204 beacon always carries `Accept`
and `Accept-Encoding`; scripts that copy a browser's User-Agent string into curl,
requests or a Go client usually send neither. Only the pixel and 204 endpoints are
checked: the Events API also serves server-side integrations, which send what they like.
"""

from __future__ import annotations

from typing import Any

from shared.core.bot_categories import BotCategory, BotLabel

# The WSGI environ keys of the headers a browser never leaves out.
BROWSER_HEADER_KEYS = ("HTTP_ACCEPT", "HTTP_ACCEPT_ENCODING")
NO_BROWSER_HEADERS = BotLabel(BotCategory.HTTP_LIBRARY, "No browser headers")


def sends_browser_headers(environ: dict[str, Any]) -> bool:
    """Whether the request carries every header of `BROWSER_HEADER_KEYS`."""
    return all(environ.get(key) for key in BROWSER_HEADER_KEYS)
