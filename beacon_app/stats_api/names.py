"""Stats API: country names for `visit:country_name` (countries are stored as ISO codes)."""

from __future__ import annotations

from functools import cache

import pycountry


@cache
def _names() -> dict[str, str]:
    return {c.alpha_2: getattr(c, "common_name", None) or c.name for c in pycountry.countries}


@cache
def _codes() -> dict[str, str]:
    out = {name.lower(): code for code, name in _names().items()}
    for c in pycountry.countries:            # "United States" and "... of America"
        for name in (c.name, getattr(c, "official_name", None)):
            if name:
                out[name.lower()] = c.alpha_2
    return out


def country_name(code: str) -> str:
    """"DE" -> "Germany"; an unknown or empty code stays as it is."""
    return _names().get(code, code)


def country_code(name: str) -> str:
    """"Germany" (any case) -> "DE"; a name that is no country stays as it is (and so
    matches nothing)."""
    return _codes().get(name.lower(), name)
