"""Data out, stage "export": Arrow record batches of events written as Parquet, CSV or
NDJSON by pyarrow's own writers, a batch at a time.

Everything is done on whole columns by Arrow's compute kernels, never cell by cell in
Python, so the writers keep up with the drivers:

* Parquet: the export schema as it is (zstd; one row group per batch, so equal batches
  give equal files);
* CSV: times as ISO-8601 with offset (`2026-03-10T15:00:05.000000+00:00`), booleans
  `true`/`false`, NULL as an empty cell; every text cell a spreadsheet would run as a
  formula gets a leading apostrophe (the same rule as `export.neutralise`);
* NDJSON: one JSON object per line, times as in CSV, `props` as a JSON object (its
  stored text is JSON already and is copied, not re-encoded).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import IO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from shared.dataout.event_schema import JSON_COLUMNS

FORMATS = ("csv", "parquet", "ndjson")
# What `export.neutralise` tests, as one RE2 pattern: a formula character (ASCII or
# full-width) or any character Python's str.isspace() accepts, at the start.
FORMULA_START = (r"^[=+\-@\x{FF1D}\x{FF0B}\x{FF0D}\x{FF20}\t\n\x{0B}\f\r \x{1C}-\x{1F}"
                 r"\x{85}\p{Z}]")
ISO_FORMAT = "%Y-%m-%dT%H:%M:%S+00:00"    # %S of a microsecond time carries .ffffff


def neutralised(values: pa.Array) -> pa.Array:
    """Text cells with an apostrophe in front where a spreadsheet would see a formula."""
    risky = pc.match_substring_regex(values, FORMULA_START)
    if not pc.any(risky).as_py():
        return values
    return pc.if_else(risky, pc.binary_join_element_wise("'", values, ""), values)


def iso_times(values: pa.Array) -> pa.Array:
    """UTC timestamps as ISO-8601 text with the offset."""
    return pc.strftime(values, format=ISO_FORMAT)


def _csv_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    arrays = []
    for column in batch.columns:
        if pa.types.is_timestamp(column.type):
            column = iso_times(column)
        elif pa.types.is_string(column.type):
            column = neutralised(column)
        arrays.append(column)
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


# --- NDJSON ---------------------------------------------------------------------------------
_ESCAPES = (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"))
_OTHER_CONTROL = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]"


def _json_strings(values: pa.Array) -> pa.Array:
    """Each text as a JSON string literal (quotes included); NULL stays NULL."""
    escaped = values
    for char, escape in _ESCAPES:
        escaped = pc.replace_substring(escaped, char, escape)
    rare = pc.match_substring_regex(values, _OTHER_CONTROL)
    if pc.any(rare).as_py():   # other control characters: Python's encoder, for those rows
        slow = pa.array([json.dumps(v)[1:-1] if hit else None
                         for v, hit in zip(values.to_pylist(), rare.to_pylist(), strict=True)],
                        pa.string())
        escaped = pc.if_else(rare, slow, escaped)
    return pc.binary_join_element_wise('"', escaped, '"', "")


def _json_values(name: str, values: pa.Array) -> pa.Array:
    if name in JSON_COLUMNS:
        out = values                                # stored JSON text, copied as it is
    elif pa.types.is_timestamp(values.type):
        out = pc.binary_join_element_wise('"', iso_times(values), '"', "")
    elif pa.types.is_string(values.type):
        out = _json_strings(values)
    elif pa.types.is_floating(values.type):
        finite = pc.is_finite(values)
        out = pc.if_else(finite, values.cast(pa.string()), pa.scalar(None, pa.string()))
    else:                                           # integers, booleans (true/false)
        out = values.cast(pa.string())
    return pc.fill_null(out, "null")


def ndjson_lines(batch: pa.RecordBatch) -> bytes:
    """The batch as NDJSON, one object per row, keys in column order."""
    parts: list[pa.Array | str] = []
    for i, name in enumerate(batch.schema.names):
        parts.append(("{" if i == 0 else ",") + json.dumps(name) + ":")
        parts.append(_json_values(name, batch.column(i)))
    parts.append("}\n")
    lines = pc.binary_join_element_wise(*parts, "")
    # The lines end to end are the array's data buffer (a computed array starts at 0).
    size = pc.sum(pc.binary_length(lines)).as_py() or 0
    data = lines.buffers()[2]
    return memoryview(data)[:size].tobytes() if data is not None else b""


# --- writers --------------------------------------------------------------------------------
def write_batches(batches: Iterable[pa.RecordBatch], fmt: str, out: IO[bytes],
                  schema: pa.Schema,
                  progress: Callable[[int], None] | None = None) -> int:
    """Write every batch (all of `schema`) to `out` in `fmt`; returns the rows written."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (expected {', '.join(FORMATS)})")
    rows = 0
    if fmt == "parquet":
        with pq.ParquetWriter(out, schema, compression="zstd") as writer:
            for batch in batches:
                writer.write_batch(batch, row_group_size=max(batch.num_rows, 1))
                rows += _done(batch, progress)
    elif fmt == "csv":
        csv_schema = _csv_batch(pa.RecordBatch.from_pylist([], schema)).schema
        with pacsv.CSVWriter(out, csv_schema) as writer:
            for batch in batches:
                writer.write_batch(_csv_batch(batch))
                rows += _done(batch, progress)
    else:
        for batch in batches:
            out.write(ndjson_lines(batch))
            rows += _done(batch, progress)
    out.flush()
    return rows


def _done(batch: pa.RecordBatch, progress: Callable[[int], None] | None) -> int:
    if progress:
        progress(batch.num_rows)
    return batch.num_rows
