"""Enrichment helper: strip what must never reach the database or a dashboard cell."""

from __future__ import annotations

import re

# C0/C1 controls, DEL, and the bidi overrides/isolates that can make a stored string
# render differently from what it is (e.g. a path that "reads" as another site).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def strip_unsafe(text: str) -> str:
    """`text` without control characters and bidi formatting characters."""
    return _UNSAFE.sub("", text)


def clean_value(text: str, limit: int) -> str:
    """A short free-text value (utm param, source name): safe, trimmed, at most `limit`."""
    return strip_unsafe(text).strip()[:limit].strip()
