"""The frame every page reports on: site, period, interval, comparison and filters.

Pure data, no Streamlit: it is parsed from and written back to the URL's query
parameters (so a view can be bookmarked) and turned into the query layer's
`StatsQuery`. URL form: `?site=example.com&period=30d&compare=previous_period
&interval=day&f=page|is|/blog&f=country|is_any_of|DE&f=country|is_any_of|FR`
(`from`/`to` for a custom period; one `f` per filter value; `segment=<id>` for a saved
segment, whose filters are added to these when the query is built: data.query_for).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from shared.stats.dimensions import DIMENSIONS, PROP_PREFIX
from shared.stats.query import COMPARISONS, OPERATORS, Filter, QueryError, StatsQuery

PERIODS: dict[str, str] = {
    "today": "Today", "yesterday": "Yesterday", "7d": "Last 7 days", "30d": "Last 30 days",
    "month": "Month to date", "last_month": "Last month", "6mo": "Last 6 months",
    "12mo": "Last 12 months", "year": "Year to date", "all": "All time",
    "custom": "Custom range",
}
INTERVALS: dict[str, str] = {"auto": "Auto", "hour": "Hour", "day": "Day", "week": "Week",
                             "month": "Month"}
COMPARISON_LABELS: dict[str, str] = {"off": "No comparison",
                                     "previous_period": "Previous period",
                                     "year_over_year": "Same period last year"}
OPERATOR_LABELS: dict[str, str] = {"is": "is", "is_not": "is not", "is_any_of": "is any of",
                                   "contains": "contains", "not_contains": "does not contain",
                                   "matches": "matches"}
DIMENSION_LABELS: dict[str, str] = {
    "page": "Page", "entry_page": "Entry page", "exit_page": "Exit page",
    "hostname": "Hostname", "event": "Event", "source": "Source", "channel": "Channel",
    "referrer": "Referrer", "utm_source": "UTM source", "utm_medium": "UTM medium",
    "utm_campaign": "UTM campaign", "utm_term": "UTM term", "utm_content": "UTM content",
    "country": "Country", "region": "Region", "city": "City", "browser": "Browser",
    "browser_version": "Browser version", "os": "OS", "os_version": "OS version",
    "device": "Device", "language": "Language", "screen_size": "Screen size",
    "search_term": "Search term",
}
DEFAULT_PERIOD = "30d"
_SEP = "|"


@dataclass(frozen=True)
class Frame:
    site_domain: str | None = None
    period: str = DEFAULT_PERIOD
    start: date | None = None
    end: date | None = None
    interval: str = "auto"
    comparison: str = "off"
    filters: tuple[Filter, ...] = ()
    segment: int | None = None

    def with_filter(self, new: Filter) -> Frame:
        """Add a filter; an `is` on a dimension that already has one replaces it."""
        kept = tuple(f for f in self.filters if not (
            f.dimension == new.dimension and f.operator == new.operator == "is"))
        if new in kept:
            return self
        return replace(self, filters=kept + (new,))

    def without_filter(self, old: Filter) -> Frame:
        return replace(self, filters=tuple(f for f in self.filters if f != old))

    def query(self, site_id: int, timezone: str, now: datetime) -> StatsQuery:
        return StatsQuery(site_id=site_id, timezone=timezone, period=self.period, now=now,
                          start=self.start, end=self.end,
                          interval=None if self.interval == "auto" else self.interval,
                          filters=self.filters, comparison=self.comparison)


def dimension_label(dimension: str) -> str:
    if dimension.startswith(PROP_PREFIX):
        return f"Property {dimension[len(PROP_PREFIX):]}"
    return DIMENSION_LABELS.get(dimension, dimension)


def filter_label(f: Filter) -> str:
    """Plain text for a filter chip (shown by widgets that do not interpret markdown)."""
    return f"{dimension_label(f.dimension)} {OPERATOR_LABELS[f.operator]} {', '.join(f.values)}"


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _filters(raw: list[str]) -> tuple[Filter, ...]:
    merged: dict[tuple[str, str], list[str]] = {}
    for item in raw:
        parts = item.split(_SEP, 2)
        if len(parts) != 3 or parts[1] not in OPERATORS:
            continue
        values = merged.setdefault((parts[0], parts[1]), [])
        if parts[2] not in values:
            values.append(parts[2])
    found = []
    for (dimension, operator), values in merged.items():
        try:
            found.append(Filter(dimension, operator, tuple(values)))
        except QueryError:
            continue  # a hand-edited URL with an unknown dimension: ignore that filter
    return tuple(found)


def from_params(params: dict[str, list[str]]) -> Frame:
    """The frame a URL describes; unknown or broken parts fall back to the defaults."""
    def one(key: str) -> str | None:
        values = params.get(key) or []
        return values[-1] if values else None

    period = one("period") or DEFAULT_PERIOD
    start, end = _date(one("from")), _date(one("to"))
    if period not in PERIODS or (period == "custom" and not (start and end and start <= end)):
        period, start, end = DEFAULT_PERIOD, None, None
    interval = one("interval") or "auto"
    comparison = one("compare") or "off"
    return Frame(
        site_domain=one("site"), period=period,
        start=start if period == "custom" else None, end=end if period == "custom" else None,
        interval=interval if interval in INTERVALS else "auto",
        comparison=comparison if comparison in COMPARISONS else "off",
        filters=_filters(params.get("f") or []), segment=_segment(one("segment")))


def _segment(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) <= 12 else None


def to_params(frame: Frame) -> dict[str, Any]:
    """Query parameters for `frame`; defaults are left out to keep URLs short."""
    params: dict[str, Any] = {}
    if frame.site_domain:
        params["site"] = frame.site_domain
    if frame.period != DEFAULT_PERIOD:
        params["period"] = frame.period
    if frame.period == "custom" and frame.start and frame.end:
        params["from"], params["to"] = frame.start.isoformat(), frame.end.isoformat()
    if frame.interval != "auto":
        params["interval"] = frame.interval
    if frame.comparison != "off":
        params["compare"] = frame.comparison
    encoded = [_SEP.join((f.dimension, f.operator, v)) for f in frame.filters for v in f.values]
    if encoded:
        params["f"] = encoded
    if frame.segment is not None:
        params["segment"] = str(frame.segment)
    return params


def filterable(dimension: str) -> bool:
    return dimension in DIMENSIONS or dimension.startswith(PROP_PREFIX)
