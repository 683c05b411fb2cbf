"""Data out, stage "schema": the one Arrow schema of exported events, and `conform`,
which types a driver's record batch to it.

Every backend hands its rows over in its own types: SQLite stores times as text and
booleans as 0/1, PostgreSQL has naive timestamps and JSON. `conform` turns a batch from
either into the same columns, so a Parquet file, a DataFrame or an NDJSON line looks the
same whichever database it came from, and `beacon import events` reads it back exactly:

* `ts`: timestamp, microseconds, time zone UTC;
* integers (ids, `engagement_ms`, `scroll_depth`): int64, never floats;
* `click_id`, `interactive`: booleans;
* `props`: the JSON object text as stored (keys and values are strings), marked with
  the field metadata `content: json`;
* `revenue_amount`: float64; every other column: UTF-8 text.

The casts are Arrow compute kernels over whole columns (no Python per row).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from shared.core import schema

E = schema.events
# Columns of an events export, in order (the internal row id is left out).
EVENT_COLUMNS: tuple[str, ...] = tuple(c.name for c in E.c if c.name != "id")
JSON_COLUMNS = frozenset({"props"})
TIME_ZONE = "UTC"


def arrow_type(column: sa.Column[Any]) -> pa.DataType:
    """The export type of an events column."""
    t = column.type
    if isinstance(t, sa.Boolean):
        return pa.bool_()
    if isinstance(t, sa.DateTime):
        return pa.timestamp("us", tz=TIME_ZONE)
    if isinstance(t, sa.Float):
        return pa.float64()
    if isinstance(t, sa.Integer):       # BigInteger and SmallInteger too
        return pa.int64()
    return pa.string()                  # strings, and JSON as its text


def events_schema(columns: Sequence[str] = EVENT_COLUMNS) -> pa.Schema:
    """The Arrow schema of an events export with these columns (in this order)."""
    fields = []
    for name in columns:
        column = E.c[name]
        meta = {"content": "json"} if name in JSON_COLUMNS else None
        fields.append(pa.field(name, arrow_type(column), nullable=bool(column.nullable),
                               metadata=meta))
    return pa.schema(fields)


def _cast(values: pa.Array, target: pa.DataType) -> pa.Array:
    """One column to its export type, whatever type the driver chose."""
    if values.type == target:
        return values
    if pa.types.is_null(values.type):
        return pa.nulls(len(values), target)
    if pa.types.is_timestamp(target):
        if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
            # SQLite's stored text: "2026-03-10 15:00:00.000000" (UTC, without offset)
            values = pc.cast(values, pa.timestamp("us"))
        if values.type.tz is None:
            return pc.assume_timezone(values.cast(pa.timestamp("us")), TIME_ZONE)
        return values.cast(target)
    if pa.types.is_boolean(target) and pa.types.is_integer(values.type):
        return pc.not_equal(values, 0)
    if pa.types.is_string(target) and not pa.types.is_string(values.type):
        if pa.types.is_large_string(values.type) or pa.types.is_binary(values.type):
            return values.cast(target)
        storage = getattr(values, "storage", None)     # an extension type such as JSON
        if storage is not None:
            return _cast(storage, target)
    return values.cast(target)


def conform(batch: pa.RecordBatch, schema_: pa.Schema) -> pa.RecordBatch:
    """`batch` (columns in the schema's order) typed to `schema_`."""
    arrays = [_cast(batch.column(i), field.type) for i, field in enumerate(schema_)]
    return pa.RecordBatch.from_arrays(arrays, schema=schema_)
