"""Query layer: filters -> SQL conditions, every value a bound parameter.

One function turns a `Filter` into a condition on any column (an events column, a
visit's attribute or a rollup row's value), so raw queries and rollup reads apply the
same test. Case-insensitive operators lower both sides (ASCII only on SQLite).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from shared.stats.dimensions import is_prop, is_visit_dimension
from shared.stats.query import Filter


def wildcard_regex(pattern: str) -> str:
    """`/blog/*` -> `^/blog/[^/]*$`; `**` matches across `/`. Anchored, the rest literal."""
    parts = re.split(r"(\*\*|\*)", pattern)
    out = []
    for part in parts:
        if part == "**":
            out.append(".*")
        elif part == "*":
            out.append("[^/]*")
        else:
            out.append("".join(_escape(ch) for ch in part))
    return "^" + "".join(out) + "$"


def _escape(ch: str) -> str:
    # A backslash before ASCII punctuation means "this character" in PostgreSQL ARE and
    # RE2 (SQLite's REGEXP) alike; RE2 refuses it before a word character (`_` included)
    # or a non-ASCII one, and neither is ever special.
    special = ch.isascii() and not (ch.isalnum() or ch in "/_")
    return "\\" + ch if special else ch


def condition(column: Any, f: Filter) -> ColumnElement[bool]:
    """The SQL test of `f` on `column` (NULL, e.g. a missing prop, compares as '')."""
    col = sa.func.coalesce(column, "") if is_prop(f.dimension) else column
    values: Sequence[str] = f.values
    op = f.operator
    if op in ("is", "is_any_of"):
        return col == values[0] if len(values) == 1 else col.in_(values)
    if op == "is_not":
        return col != values[0] if len(values) == 1 else col.not_in(values)
    if op in ("contains", "not_contains"):
        test = sa.or_(*(col.icontains(v, autoescape=True) for v in values))
        return sa.not_(test) if op == "not_contains" else test
    if op in ("matches", "not_matches"):
        test = sa.or_(*(col.regexp_match(wildcard_regex(v)) for v in values))
        return sa.not_(test) if op == "not_matches" else test
    raise ValueError(f"unknown operator {op!r}")  # pragma: no cover - Filter validates


def all_of(conditions: Sequence[ColumnElement[bool]]) -> ColumnElement[bool]:
    return sa.and_(sa.true(), *conditions) if conditions else sa.true()


def split(filters: Sequence[Filter]) -> tuple[list[Filter], list[Filter]]:
    """(visit filters, event filters)."""
    visit = [f for f in filters if is_visit_dimension(f.dimension)]
    return visit, [f for f in filters if not is_visit_dimension(f.dimension)]
