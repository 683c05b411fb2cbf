"""Storage, SQLite: a REGEXP function that runs in time linear in the text it tests.

SQLite has no regular expressions of its own; SQLAlchemy's `regexp_match` calls a
`regexp` function that its SQLite dialect implements with Python's `re`, a backtracking
engine: the wildcard pattern `**a**a**a**!` against a stored path of 1,900 `a`s took
22 s and froze a beacon worker. RE2 (Google's engine, through the `google-re2` binding)
compiles to an automaton that never backtracks: the same test is a few microseconds.
Patterns come only from the query layer's wildcard translation (`*`, `**`, literals), so
nothing RE2 lacks (backreferences, look-arounds) is ever needed. PostgreSQL runs `~` in
its own engine, bounded by the statement timeout (`shared.storage.read_timeout`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> Any:
    # A one-pattern RE2::Set: a yes/no answer straight from RE2's DFA, 3 us a call where
    # `re2.compile(...).search` spends 15 us translating match offsets we never read.
    # The DFA's memory budget (8 MB) is far above what a capped wildcard pattern needs
    # (`shared.stats.limits`: 300 characters, 10 stars); the differential test in
    # tests/security/test_regex_filters.py compares it with `re` on generated patterns.
    matcher = re2.Set.SearchSet()
    matcher.Add(pattern)
    matcher.Compile()
    return matcher


def regexp(pattern: str | None, value: str | None) -> bool | None:
    """SQL `value REGEXP pattern`: NULL when either side is NULL, like SQLAlchemy's."""
    if pattern is None or value is None:
        return None
    return _compiled(pattern).Match(value) is not None


def install(dbapi_connection: Any) -> None:
    """Replace the driver connection's `regexp` function (SQLAlchemy's uses `re`)."""
    dbapi_connection.create_function("regexp", 2, regexp, deterministic=True)
