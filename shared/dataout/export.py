"""Data out, stage "export": write a stream of DataFrames as CSV, Parquet or NDJSON.

Frames are written one by one, so an export of ten million events holds one chunk in
memory. CSV cells that a spreadsheet would run as a formula get a leading apostrophe
(`neutralise`, also used by the dashboard's downloads): every exported string - pages,
referrers, props - comes from visitors and is attacker-controlled. Parquet uses one
fixed Arrow schema for all chunks (derived from the events table for event exports), so
a chunk whose column happens to be all-null still matches the file.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import IO, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from shared.core import schema

FORMATS = ("csv", "parquet", "ndjson")
# = + - @ start a formula in Excel, LibreOffice and Google Sheets, and so do their
# full-width forms (which some spreadsheets fold to ASCII on input).
_FORMULA_START = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")


def neutralise(value: str) -> str:
    """A CSV cell a spreadsheet shows as text, never evaluates: an apostrophe before a
    formula character, and before any leading whitespace (space, tab, CR, LF, ideographic
    space...), which spreadsheets skip on import to find a formula behind it."""
    if value and (value[0] in _FORMULA_START or value[0].isspace()):
        return "'" + value
    return value


def _plain(value: Any) -> Any:
    """A JSON/CSV-friendly Python value: None for missing, ISO text for times."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp | datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if hasattr(value, "item"):          # numpy scalars
        return value.item()
    return value


def _arrow_type(column: sa.Column[Any]) -> pa.DataType:
    t = column.type
    if isinstance(t, sa.Boolean):
        return pa.bool_()
    if isinstance(t, sa.DateTime):
        return pa.timestamp("us")
    if isinstance(t, sa.Float):
        return pa.float64()
    if isinstance(t, sa.Integer):       # BigInteger and SmallInteger too
        return pa.int64()
    return pa.string()                  # strings, and JSON as text


def events_arrow_schema(columns: Iterable[str]) -> pa.Schema:
    return pa.schema([(c, _arrow_type(schema.events.c[c])) for c in columns])


class _Writer:
    def __init__(self, out: IO[bytes]) -> None:
        self.out = out

    def write(self, frame: pd.DataFrame) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:
        self.out.flush()


class _CsvWriter(_Writer):
    def __init__(self, out: IO[bytes]) -> None:
        super().__init__(out)
        self.text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        self.csv = csv.writer(self.text)
        self.header = False

    def write(self, frame: pd.DataFrame) -> None:
        if not self.header:
            self.csv.writerow([neutralise(str(c)) for c in frame.columns])
            self.header = True
        for row in frame.itertuples(index=False, name=None):
            self.csv.writerow([neutralise(v) if isinstance(v, str) else ("" if v is None else v)
                               for v in map(_plain, row)])

    def close(self) -> None:
        self.text.flush()
        self.text.detach()
        super().close()


class _NdjsonWriter(_Writer):
    def write(self, frame: pd.DataFrame) -> None:
        names = [str(c) for c in frame.columns]
        lines = []
        for row in frame.itertuples(index=False, name=None):
            # props stay an object in NDJSON; everything else as in CSV
            record = {n: v if isinstance(v, dict | list) else _plain(v)
                      for n, v in zip(names, row, strict=True)}
            lines.append(json.dumps(record, ensure_ascii=False, default=str))
        self.out.write(("\n".join(lines) + "\n").encode() if lines else b"")


class _ParquetWriter(_Writer):
    def __init__(self, out: IO[bytes], arrow_schema: pa.Schema | None) -> None:
        super().__init__(out)
        self.schema = arrow_schema
        self.writer: pq.ParquetWriter | None = None

    def write(self, frame: pd.DataFrame) -> None:
        frame = frame.copy()
        for col in frame.columns:
            if frame[col].dtype == object:
                frame[col] = frame[col].map(
                    lambda v: json.dumps(v, sort_keys=True) if isinstance(v, dict | list) else v)
        table = pa.Table.from_pandas(frame, schema=self.schema, preserve_index=False)
        if self.writer is None:
            self.schema = table.schema
            self.writer = pq.ParquetWriter(self.out, table.schema, compression="zstd")
        self.writer.write_table(table)

    def close(self) -> None:
        if self.writer is None and self.schema is not None:   # no rows: an empty file
            self.writer = pq.ParquetWriter(self.out, self.schema, compression="zstd")
        if self.writer is not None:
            self.writer.close()
        super().close()


def write_frames(frames: Iterable[pd.DataFrame], fmt: str, out: IO[bytes], *,
                 arrow_schema: pa.Schema | None = None,
                 progress: Callable[[int], None] | None = None) -> int:
    """Write every frame to `out` in `fmt`; returns the number of rows written."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (expected {', '.join(FORMATS)})")
    writer: _Writer = (_CsvWriter(out) if fmt == "csv" else _NdjsonWriter(out)
                       if fmt == "ndjson" else _ParquetWriter(out, arrow_schema))
    rows = 0
    try:
        for frame in frames:
            writer.write(frame)
            rows += len(frame)
            if progress:
                progress(len(frame))
    finally:
        writer.close()
    return rows
