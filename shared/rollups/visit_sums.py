"""Rollup build: a day's totals and visit-dimension rows, summed in memory.

The build stores a day's visits first (`rollup_visits`). Every visit dimension's daily
rows are sums over those same rows, grouped by one column: read once and summed with
numpy - each dimension's values are coded once (pandas.factorize, hashing in C), then
one stable sort of the codes gives every group's sums (`add.reduceat`) and distinct
visitors (unique (group, visitor) pairs) - less than half the cost of twenty SQL
GROUP BY passes, each of which would sort the day's visits again. The sums are those of
`raw.rows_by_visit` (the SQL that answers filtered queries from the same rows); the
rollup property test holds both, and the raw path, to the same answers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared.core import schema
from shared.stats import raw
from shared.stats.dimensions import VISIT_DIMENSIONS

V = schema.rollup_visits
# (daily_rollups column, rollup_visits column) of the additive sums: the visit's own two,
# then the event sums both tables share (`matched` is not summed).
SUMS = (("bounces", "bounce"), ("duration_ms", "duration_ms"),
        *[(name, name) for name in raw.EVENT_SUM_COLUMNS if name != "matched"])
INTEGER_SUMS = tuple(out for out, _ in SUMS if out != "revenue")


class _Visits:
    """The day's stored visits as arrays: visitor codes, integer sums, revenue."""

    def __init__(self, columns: Mapping[str, Sequence[Any]]) -> None:
        import numpy as np
        import pandas as pd

        self.count = len(columns["visitor"])
        self.visitor, distinct = pd.factorize(np.asarray(columns["visitor"], dtype=np.int64))
        self.visitors = len(distinct)
        sources = dict(SUMS)
        self.integers = np.column_stack([np.asarray(columns[sources[name]], dtype=np.int64)
                                         for name in INTEGER_SUMS])
        self.revenue = np.asarray(columns[sources["revenue"]], dtype=np.float64)

    def total_row(self) -> dict[str, Any]:
        return {"value": "", "visitors": self.visitors, "visits": self.count,
                **{name: int(v) for name, v in zip(INTEGER_SUMS, self.integers.sum(axis=0),
                                                   strict=True)},
                "revenue": math.fsum(self.revenue.tolist())}

    def grouped_rows(self, values: Sequence[Any]) -> list[dict[str, Any]]:
        """One row per distinct value of a dimension (its column of `values`)."""
        import numpy as np
        import pandas as pd

        codes, distinct = pd.factorize(np.asarray(values, dtype=object))
        order = np.argsort(codes, kind="stable")
        starts = np.flatnonzero(np.diff(codes[order], prepend=-1))   # codes are 0..k-1
        visits = np.diff(np.append(starts, self.count))
        integers = np.add.reduceat(self.integers[order], starts, axis=0)
        # fsum: exact sums of money, whatever the order of the visits
        revenue = [math.fsum(part) for part in np.split(self.revenue[order], starts[1:])]
        pairs = np.unique(codes.astype(np.int64) * self.visitors + self.visitor)
        visitors = np.bincount(pairs // self.visitors, minlength=len(distinct))
        return [{"value": value, "visitors": int(visitors[i]), "visits": int(visits[i]),
                 **{name: int(v) for name, v in zip(INTEGER_SUMS, integers[i], strict=True)},
                 "revenue": float(revenue[i])}
                for i, value in enumerate(distinct.tolist())]


def visit_dimension_rows(conn: Connection, site_id: int, day: date,
                         total_dimension: str) -> list[dict[str, Any]]:
    """daily_rollups rows of the day's totals (dimension `total_dimension`, value "")
    and of every visit dimension, from the day's stored visits."""
    dims = list(VISIT_DIMENSIONS)
    columns = ["visitor", *dims, *[source for _, source in SUMS]]
    result = conn.execute(sa.select(*[V.c[c] for c in columns])
                          .where(V.c.site_id == site_id, V.c.day == day))
    data = list(zip(*result.fetchall(), strict=True))   # column-wise
    if not data:
        return []
    return rows_of_visits(dict(zip(columns, data, strict=True)), site_id, day,
                          total_dimension)


def rows_of_visits(by_name: Mapping[str, Sequence[Any]], site_id: int, day: date,
                   total_dimension: str) -> list[dict[str, Any]]:
    """`visit_dimension_rows` of visits given column-wise (their `rollup_visits` names;
    no columns, or empty ones, for a day without visits)."""
    if not by_name or not len(by_name["visitor"]):
        return []
    dims = list(VISIT_DIMENSIONS)
    # numpy and pandas are imported by _Visits: the beacon imports the rollup module (to
    # mark dirty days) and its processes should not carry them.
    visits = _Visits(by_name)
    rows = [{"dimension": total_dimension, **visits.total_row()}]
    for dim in dims:
        rows += [{"dimension": dim, **row} for row in visits.grouped_rows(by_name[dim])]
    for row in rows:
        row.update(site_id=site_id, day=day)
    return rows
