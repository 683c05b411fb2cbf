"""Storage: a SELECT's rows as Arrow record batches, straight from the database.

Rows cross into Python as columns, not as one Python object per cell: the ADBC drivers
(`adbc-driver-sqlite`, `adbc-driver-postgresql`) build Arrow arrays in C, and the
PostgreSQL driver reads them with `COPY ... TO STDOUT (FORMAT binary)`. The dialects
(`sqlite.py`, `postgresql.py`) pick the path; this module holds what they share:

* `driver_sql`: a SQLAlchemy statement as the driver's SQL and its bound values
  (processed by the column types, e.g. SQLite's DATETIME text);
* `nullable_as_pairs` / `restore_nulls`: the ADBC SQLite driver infers a column's type
  from its first batch, and a column that is NULL throughout that batch becomes int64 -
  a later float or text then fails the read. So a nullable column travels as two that
  are never NULL (`COALESCE(col, <zero of its type>)` and `col IS NULL`), and the NULLs
  are put back with one vectorised `if_else` per batch;
* `python_batches`: the DB-API cursor's rows, columned per batch; the fallback where a
  driver cannot run a statement (SQLite's REGEXP is a Python function registered on the
  product's own connections).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

if TYPE_CHECKING:
    import pyarrow as pa

NULL_SUFFIX = "__is_null"


def driver_sql(stmt: sa.Select[Any], dialect: sa.Dialect) -> tuple[str, Any]:
    """The statement's SQL for the dialect's driver and its parameters (a tuple for
    positional drivers, a dict otherwise), each value processed by its column type."""
    compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    raw = compiled.construct_params()
    values: dict[str, Any] = {}
    for name, value in raw.items():
        bind = compiled.binds.get(name)
        processor = (bind.type.dialect_impl(dialect).bind_processor(dialect)
                     if bind is not None else None)
        values[name] = processor(value) if processor else value
    if compiled.positional:
        order = compiled.positiontup or []
        return compiled.string, tuple(values[name] for name in order)
    return compiled.string, values


def _zero(column: Any) -> Any:
    t = column.type
    if isinstance(t, sa.Float):
        return sa.literal(0.0, sa.Float)
    if isinstance(t, sa.Integer | sa.Boolean):
        return sa.literal(0, sa.Integer)
    return sa.literal("", sa.String)


def nullable_as_pairs(stmt: sa.Select[Any]) -> tuple[sa.Select[Any], list[str]]:
    """`stmt` with each nullable column replaced by a never-NULL value and a NULL flag
    (appended at the end); returns the new statement and the names of those columns."""
    plain: list[Any] = []
    flags: list[Any] = []
    nullable: list[str] = []
    for column in stmt.selected_columns:
        if getattr(column, "nullable", False):
            plain.append(sa.func.coalesce(column, _zero(column)).label(column.name))
            flags.append(sa.case((column.is_(None), 1), else_=0)
                         .label(column.name + NULL_SUFFIX))
            nullable.append(column.name)
        else:
            plain.append(column)
    return stmt.with_only_columns(*plain, *flags), nullable


def restore_nulls(batch: pa.RecordBatch, nullable: Sequence[str]) -> pa.RecordBatch:
    """Undo `nullable_as_pairs` on one batch: NULL where the flag says so, flags dropped."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not nullable:
        return batch
    keep = batch.num_columns - len(nullable)
    arrays = [batch.column(i) for i in range(keep)]
    names = batch.schema.names[:keep]
    for name in nullable:
        i = names.index(name)
        flag = pc.equal(batch.column(name + NULL_SUFFIX), 1)
        arrays[i] = pc.if_else(flag, pa.scalar(None, arrays[i].type), arrays[i])
    return pa.RecordBatch.from_arrays(arrays, names=names)


def python_batches(cursor: Any, names: Sequence[str], batch_rows: int,
                   ) -> Iterator[pa.RecordBatch]:
    """Batches from an executed DB-API cursor (types inferred per batch; the caller
    types them with the export schema)."""
    import pyarrow as pa

    while True:
        rows = cursor.fetchmany(batch_rows)
        if not rows:
            return
        columns = list(zip(*rows, strict=True))
        yield pa.RecordBatch.from_arrays([pa.array(c) for c in columns], names=list(names))
