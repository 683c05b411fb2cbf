"""Rollup build: a day's totals and visit-dimension rows, summed in memory.

The build stores a day's visits first (`rollup_visits`). Every visit dimension's daily
rows are sums over those same rows, grouped by one column: read once and grouped in
pandas, the twenty groupings cost about a tenth of twenty SQL GROUP BY passes, each of
which would sort the day's visits again. The sums are those of `raw.rows_by_visit`
(the SQL that answers filtered queries from the same rows); the rollup property test
holds both, and the raw path, to the same answers.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared import schema
from shared.queries import raw
from shared.queries.dimensions import VISIT_DIMENSIONS

if TYPE_CHECKING:
    import pandas as pd

V = schema.rollup_visits
# (daily_rollups column, rollup_visits column) of the additive sums: the visit's own two,
# then the event sums both tables share (`matched` is not summed).
SUMS = (("bounces", "bounce"), ("duration_ms", "duration_ms"),
        *[(name, name) for name in raw.EVENT_SUM_COLUMNS if name != "matched"])
INTEGER_SUMS = tuple(out for out, _ in SUMS if out != "revenue")


def _rows(frame: pd.DataFrame, site_id: int, day: date,
          dimension: str) -> list[dict[str, Any]]:
    """DataFrame rows (value, visitors, visits, sums) -> daily_rollups rows, with plain
    Python values (drivers do not bind numpy scalars)."""
    out: list[dict[str, Any]] = []
    columns = ["value", "visitors", "visits", *[name for name, _ in SUMS]]
    for record in frame[columns].itertuples(index=False, name=None):
        row = dict(zip(columns, record, strict=True))
        for name in ("visitors", "visits", *INTEGER_SUMS):
            row[name] = int(row[name])
        row["revenue"] = float(row["revenue"])
        row.update(site_id=site_id, dimension=dimension, day=day)
        out.append(row)
    return out


def visit_dimension_rows(conn: Connection, site_id: int, day: date,
                         total_dimension: str) -> list[dict[str, Any]]:
    """daily_rollups rows of the day's totals (dimension `total_dimension`, value "")
    and of every visit dimension, from the day's stored visits."""
    # Imported here: the beacon imports the rollup module (to mark dirty days) and its
    # processes should not carry pandas.
    import pandas as pd

    dims = list(VISIT_DIMENSIONS)
    columns = ["visitor", *dims, *[source for _, source in SUMS]]
    result = conn.execute(sa.select(*[V.c[c] for c in columns])
                          .where(V.c.site_id == site_id, V.c.day == day))
    data = list(zip(*result.fetchall(), strict=True))   # column-wise
    if not data:
        return []
    # Plain object columns: grouping hashes them as they are, with no conversion first.
    visits = pd.DataFrame({name: pd.Series(values, dtype=object if name in dims else None)
                           for name, values in zip(columns, data, strict=True)})
    visits = visits.rename(columns={source: out for out, source in SUMS})
    sum_names = [name for name, _ in SUMS]
    total = pd.DataFrame([{
        "value": "", "visitors": visits["visitor"].nunique(), "visits": len(visits),
        **{name: visits[name].sum() for name in sum_names}}])
    rows = _rows(total, site_id, day, total_dimension)
    for dim in dims:
        grouped = visits.groupby(dim, dropna=False, sort=False)
        frame = grouped[sum_names].sum()
        frame["visitors"] = grouped["visitor"].nunique()
        frame["visits"] = grouped.size()
        rows += _rows(frame.rename_axis("value").reset_index(), site_id, day, dim)
    return rows
