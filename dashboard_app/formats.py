"""Numbers as people read them, the same on every page and in the dashboard's CSV files:
thousands separators, fixed decimals per metric, durations as "1m 17s", revenue with its
currency code (never summed across currencies), and "–" where there is nothing to show
(a rate with no visits, a missing value). No Streamlit: unit-tested alone.
"""

from __future__ import annotations

import math
from typing import Any

NOTHING = "–"

# Decimals per metric; durations and money have their own formats.
DECIMALS: dict[str, int] = {
    "visitors": 0, "visits": 0, "pageviews": 0, "events": 0, "conversions": 0,
    "views_per_visit": 2, "bounce_rate": 0, "scroll_depth": 0, "conversion_rate": 1,
    "revenue": 2,
}
DURATIONS = frozenset({"visit_duration", "time_on_page"})
PERCENTS = frozenset({"bounce_rate", "scroll_depth", "conversion_rate"})
KNOWN = frozenset(DECIMALS) | DURATIONS   # the metrics `cell` knows the decimals of


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def count(value: float | None) -> str:
    """1234 -> "1,234"."""
    return NOTHING if _missing(value) else f"{round(float(value)):,}"  # type: ignore[arg-type]


def decimal(value: float | None, digits: int) -> str:
    return NOTHING if _missing(value) else f"{float(value):,.{digits}f}"  # type: ignore[arg-type]


def percent(value: float | None, digits: int = 0) -> str:
    return NOTHING if _missing(value) else f"{decimal(value, digits)}%"


def duration(seconds: float | None) -> str:
    """77 -> "1m 17s", 3725 -> "1h 02m", 9 -> "9s"."""
    if _missing(seconds):
        return NOTHING
    total = round(float(seconds))  # type: ignore[arg-type]
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def money(amount: float | None, currency: str | None) -> str:
    """19.9, "eur" -> "EUR 19.90"; an amount without a currency is shown as nothing,
    because a sum over unknown currencies means nothing."""
    if _missing(amount) or not currency:
        return NOTHING
    return f"{currency.upper()} {float(amount):,.2f}"  # type: ignore[arg-type]


def metric(name: str, value: float | None) -> str:
    """A metric's value as every page shows it."""
    if name in DURATIONS:
        return duration(value)
    if name in PERCENTS:
        return percent(value, DECIMALS.get(name, 0))
    return decimal(value, DECIMALS.get(name, 1))


def cell(name: str, value: float | None) -> float | int | None:
    """A metric's value for a CSV cell: rounded to the metric's decimals (no
    2430.7000000000003), counts as integers, nothing as an empty cell."""
    if _missing(value):
        return None
    digits = DECIMALS.get(name, 1 if name not in DURATIONS else 0)
    rounded = round(float(value), digits)  # type: ignore[arg-type]
    return int(rounded) if digits == 0 else rounded


def change(value: float | None, points: bool = False) -> str | None:
    """A comparison's delta: "+12.5%", or "+3.0 pt" for a rate; None when there is none."""
    if _missing(value):
        return None
    return f"{value:+.1f} pt" if points else f"{value:+.1f}%"


def country_name(code: str) -> str:
    """"DE" -> "Germany" (pycountry's data); an unknown code as it is."""
    import pycountry

    found = pycountry.countries.get(alpha_2=(code or "").upper()) if code else None
    if found is None:
        return code or NOTHING
    return str(getattr(found, "common_name", None) or found.name)
