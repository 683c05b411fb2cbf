"""Query layer: the bounds every query is held to, so one request cannot hold a server.

The Stats API, share links and the dashboard's URL parameters all end in a `StatsQuery`,
so the bounds live here, once. Each check returns the reason a person can act on (the
limit included), or None; `query.py` raises it as a `QueryError` (a 400 in the API).

Why these numbers: a timeseries costs one row per bucket on every backend, and 10,000
buckets is a week of minutes, a year of hours or 27 years of days. Dates outside
2000-01-01 .. one year ahead hold no web analytics and, near year 1 or 9999, overflow
date arithmetic. Filters, values and patterns are capped so a query's SQL stays small
(SQLite refuses expression trees deeper than 1,000) and every wildcard pattern matches in
time linear in the text it is tested on.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

EARLIEST_DAY = date(2000, 1, 1)
MAX_DAYS_AHEAD = 366
MAX_BUCKETS = 10_000
MAX_FILTERS = 30
MAX_VALUES = 250            # `is`, `is_not`, `is_any_of`: one IN list
MAX_PATTERNS = 20           # `contains`, `not_contains`, `matches`: one test per value
MAX_VALUE_CHARS = 2000      # the longest page path the beacon stores
MAX_PATTERN_CHARS = 300
MAX_PROP_KEY_CHARS = 300    # the beacon stores keys of at most 300 bytes
MAX_WILDCARDS = 10

_PATTERN_OPERATORS = ("contains", "not_contains", "matches", "not_matches")
_BUCKETS_PER_DAY = {"minute": 1440, "hour": 24, "day": 1}


def filter_problem(dimension: str, operator: str, values: Sequence[str]) -> str | None:
    """Why these filter values are refused, or None when they are within bounds."""
    pattern_op = operator in _PATTERN_OPERATORS
    most = MAX_PATTERNS if pattern_op else MAX_VALUES
    if len(values) > most:
        return (f"filter on {dimension} has {len(values)} values; at most {most} are "
                f"allowed with {operator}")
    longest = MAX_PATTERN_CHARS if pattern_op else MAX_VALUE_CHARS
    for value in values:
        if "\x00" in value:
            return f"filter on {dimension}: values must not contain NUL characters"
        if len(value) > longest:
            return (f"filter on {dimension}: a value of {len(value)} characters; at most "
                    f"{longest} are allowed with {operator}")
        if operator in ("matches", "not_matches") and value.count("*") > MAX_WILDCARDS:
            return (f"filter on {dimension}: a pattern with {value.count('*')} '*'; at most "
                    f"{MAX_WILDCARDS} are allowed")
    return None


def filter_count_problem(count: int) -> str | None:
    if count > MAX_FILTERS:
        return f"{count} filters; at most {MAX_FILTERS} are allowed in one query"
    return None


def range_problem(first: date, last: date, today: date) -> str | None:
    """Why a reported period is refused: it starts before EARLIEST_DAY or ends more than
    MAX_DAYS_AHEAD days after the site's `today`."""
    if first < EARLIEST_DAY:
        return (f"the period starts on {first.isoformat()}; reports start on "
                f"{EARLIEST_DAY.isoformat()} at the earliest")
    latest = today + timedelta(days=MAX_DAYS_AHEAD)
    if last > latest:
        return (f"the period ends on {last.isoformat()}; reports end on "
                f"{latest.isoformat()} at the latest ({MAX_DAYS_AHEAD} days ahead)")
    return None


def bucket_count(interval: str, first: date, last: date) -> int:
    """How many timeseries buckets `interval` makes over the local days first..last."""
    days = (last - first).days + 1
    if interval == "week":
        return days // 7 + 2
    if interval == "month":
        return (last.year - first.year) * 12 + last.month - first.month + 1
    return days * _BUCKETS_PER_DAY[interval]


def bucket_problem(interval: str, first: date, last: date) -> str | None:
    count = bucket_count(interval, first, last)
    if count > MAX_BUCKETS:
        return (f"interval {interval} over {(last - first).days + 1} days makes {count:,} "
                f"buckets; at most {MAX_BUCKETS:,} are allowed in one query (choose a longer "
                "interval or a shorter period)")
    return None
