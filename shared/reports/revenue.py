"""Query layer: revenue per currency for the rows of a breakdown.

A breakdown's `revenue` metric sums the amounts of its events whatever their currency,
which means nothing when a site takes EUR and USD. Tables that show revenue ask here
instead: for each row's value, the amount in each currency, never added across them.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.engine import Connection

from shared.reports.goals import revenue_by_currency
from shared.reports.traffic import resolve_all, scope_of
from shared.stats.query import Filter, StatsQuery


def revenue_by_value(conn: Connection, query: StatsQuery, dimension: str,
                     values: Iterable[str]) -> dict[str, dict[str, float]]:
    """value -> {currency: amount} of the events where `dimension is value`, under the
    query's filters and period; a value without revenue maps to {}."""
    query = resolve_all(conn, query)
    r = query.date_range
    out: dict[str, dict[str, float]] = {}
    for value in values:
        scope = scope_of(query.with_filters(Filter(dimension, "is", (value,))),
                         r.first, r.last)
        out[value] = revenue_by_currency(conn, scope)
    return out
