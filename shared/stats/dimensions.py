"""Query layer: the catalogue of dimensions one can filter and break down by.

Two kinds, and the difference decides every count:

* visit dimensions describe a visit and are read from its first event (source,
  channel, UTM tags, location, browser, OS, device, screen size, language, entry page) or its last
  one (exit page). Filtering on them keeps whole visits.
* event dimensions describe each event (page, hostname, event name, `prop:<key>`).
  Filtering on them keeps the visits that contain a matching event, and counts only
  the matching events in event metrics (pageviews, events, time on page, revenue).

Every dimension except `prop:<key>` and `RAW_EVENT_DIMENSIONS` has daily rollup rows.
"""

from __future__ import annotations

from shared.stats.errors import QueryError
from shared.stats.limits import MAX_PROP_KEY_CHARS

# dimension -> events column whose value the visit takes from its first (or last) event
VISIT_DIMENSIONS: dict[str, str] = {
    "entry_page": "pathname",
    "exit_page": "pathname",
    "source": "referrer_source",
    "channel": "channel",
    "referrer": "referrer",
    "utm_source": "utm_source",
    "utm_medium": "utm_medium",
    "utm_campaign": "utm_campaign",
    "utm_term": "utm_term",
    "utm_content": "utm_content",
    "country": "country",
    "region": "region",
    "city": "city",
    "browser": "browser",
    "browser_version": "browser_version",
    "os": "os",
    "os_version": "os_version",
    "device": "device",
    "language": "language",
    "screen_size": "screen_size",
}

# dimension -> events column of the event itself
EVENT_DIMENSIONS: dict[str, str] = {
    "page": "pathname",
    "hostname": "hostname",
    "event": "name",
}

# Event dimensions without rollups (few events carry them; a rollup pass per day would
# cost every day's refresh): always answered from raw events, as props are.
RAW_EVENT_DIMENSIONS: dict[str, str] = {
    "search_term": "search_term",
}
# Event columns a filter may test that are no reported dimension: the currency of a
# revenue amount (revenue goals report the amounts of their own currency only).
FILTER_ONLY_DIMENSIONS: dict[str, str] = {"revenue_currency": "revenue_currency"}
EVENT_COLUMNS: dict[str, str] = {**EVENT_DIMENSIONS, **RAW_EVENT_DIMENSIONS,
                                  **FILTER_ONLY_DIMENSIONS}

PROP_PREFIX = "prop:"
ROLLUP_DIMENSIONS: tuple[str, ...] = tuple(VISIT_DIMENSIONS) + tuple(EVENT_DIMENSIONS)
DIMENSIONS: tuple[str, ...] = ROLLUP_DIMENSIONS + tuple(RAW_EVENT_DIMENSIONS)


def event_column_name(dimension: str) -> str:
    """The events column of an event dimension (with or without rollups)."""
    return EVENT_DIMENSIONS.get(dimension) or RAW_EVENT_DIMENSIONS[dimension]


def is_prop(dimension: str) -> bool:
    return dimension.startswith(PROP_PREFIX)


def prop_key(dimension: str) -> str:
    return dimension[len(PROP_PREFIX):]


def is_visit_dimension(dimension: str) -> bool:
    return dimension in VISIT_DIMENSIONS


def check_dimension(dimension: str, *, for_filter: bool = False) -> str:
    """Return `dimension` if it is known (or a `prop:<key>`), else raise QueryError."""
    if dimension in DIMENSIONS or (for_filter and dimension in FILTER_ONLY_DIMENSIONS):
        return dimension
    key = prop_key(dimension) if is_prop(dimension) else ""
    if key and len(key) <= MAX_PROP_KEY_CHARS and "\x00" not in key:
        return dimension
    raise QueryError(f"unknown dimension {dimension!r:.80} (expected one of "
                     f"{', '.join(DIMENSIONS)} or prop:<key>, a key of at most "
                     f"{MAX_PROP_KEY_CHARS} characters without NUL)")
