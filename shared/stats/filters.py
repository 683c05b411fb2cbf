"""Query layer: filters -> SQL conditions, every value a bound parameter.

One function turns a `Filter` into a condition on any column (an events column, a
visit's attribute or a rollup row's value), so raw queries and rollup reads apply the
same test. Case-insensitive operators lower both sides (ASCII only on SQLite).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from shared.stats.dimensions import is_prop, is_visit_dimension
from shared.stats.errors import QueryError
from shared.stats.query import SESSION_GROUP, VISIT_GROUP, Filter

ColumnOf = Callable[[str], Any]                        # dimension -> column
SessionTest = Callable[[Filter], ColumnElement[bool]]  # has_done group -> test on the visit


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


def tree_condition(f: Filter, column_of: ColumnOf,
                   session_test: SessionTest | None = None) -> ColumnElement[bool]:
    """The SQL test of a simple filter or a group (`and`, `or`, `not`) on the columns
    `column_of` names; `has_done` groups go to `session_test` (visit level only)."""
    if not f.is_group:
        return condition(column_of(f.dimension), f)
    if f.operator in ("has_done", "has_not_done"):
        if session_test is None:
            raise QueryError(f"{f.operator} can only stand among the top-level filters or "
                             "in a group of visit filters")
        test = session_test(f.children[0])
        return sa.not_(test) if f.operator == "has_not_done" else test
    parts = [tree_condition(c, column_of, session_test) for c in f.children]
    if f.operator == "not":
        return sa.not_(parts[0])
    return sa.or_(*parts) if f.operator == "or" else sa.and_(*parts)


def visit_dimensions(filters: Sequence[Filter]) -> set[str]:
    """The visit dimensions the filters (their groups' leaves too) test."""
    return {leaf.dimension for f in filters for leaf in f.leaves()
            if is_visit_dimension(leaf.dimension)}


def all_of(conditions: Sequence[ColumnElement[bool]]) -> ColumnElement[bool]:
    return sa.and_(sa.true(), *conditions) if conditions else sa.true()


def split(filters: Sequence[Filter]) -> tuple[list[Filter], list[Filter]]:
    """(visit filters, event filters)."""
    def on_visit(f: Filter) -> bool:
        return is_visit_dimension(f.dimension) or f.dimension in (VISIT_GROUP, SESSION_GROUP)

    return [f for f in filters if on_visit(f)], [f for f in filters if not on_visit(f)]
