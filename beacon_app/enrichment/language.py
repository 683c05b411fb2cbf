"""Enrichment step: Accept-Language -> the visitor's primary language ("de", "en", ...).

Only the primary subtag of the most preferred language is kept: the region says more
about a person than a language report needs.
"""

from __future__ import annotations

import re
from functools import lru_cache

# A primary subtag per BCP 47: 2-3 letters (ISO 639), or 4-8 letters for registered ones.
_PRIMARY = re.compile(r"^[a-z]{2,8}$")
_MAX_HEADER = 1024
_MAX_ENTRIES = 32


def _weight(params: list[str]) -> float:
    for param in params:
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "q":
            try:
                q = float(value.strip())
            except ValueError:
                return 0.0
            return q if 0.0 <= q <= 1.0 else 0.0
    return 1.0


@lru_cache(maxsize=2048)   # a site sees few distinct headers; parse each once
def primary_language(accept_language: str) -> str:
    """Primary subtag of the highest-weighted language tag, or "" when there is none.

    "de-AT,de;q=0.9,en;q=0.8" -> "de". Ties keep header order; "*", q=0 and malformed
    entries are ignored.
    """
    best, best_q = "", 0.0
    for entry in accept_language[:_MAX_HEADER].split(",")[:_MAX_ENTRIES]:
        tag, *params = entry.split(";")
        primary = tag.strip().split("-", 1)[0].split("_", 1)[0].lower()
        if not _PRIMARY.match(primary):
            continue
        q = _weight(params)
        if q > best_q:
            best, best_q = primary, q
    return best
