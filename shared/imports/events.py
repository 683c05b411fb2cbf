"""Imports, stage "events": read back a `beacon export events` file (Parquet or NDJSON)
into a site, exactly.

The file's rows keep everything they carry - uid, time, visitor and session ids, every
attribute - except the site, which becomes the site named on the command line (ids
differ between installs). Rows are appended through the write path's own insert
(`Dialect.append_events`), which skips a uid already stored: importing a file twice adds
nothing the second time, and an import that stopped half-way is resumed by running it
again (each batch is committed on its own). Bad rows (missing or mistyped values, texts
longer than their column, props that are not a JSON object of strings) are counted and
the first few shown with their row number; they never stop the good rows around them.
Afterwards the local days that received rows are marked for the rollups and rebuilt, so
the reports answer from the imported rows at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from shared.core import schema
from shared.core.clock import utc_now
from shared.dataout.event_schema import EVENT_COLUMNS, JSON_COLUMNS, events_schema
from shared.rollups.build import rebuild_dirty
from shared.rollups.mark import mark_dirty_days
from shared.sites import Site
from shared.storage import dialect_for, write_transaction

FORMATS = ("parquet", "ndjson")
SHOWN_BAD_ROWS = 5
BATCH_ROWS = 50_000
SCHEMA = events_schema()


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (unreadable, wrong columns or types)."""


@dataclass
class ImportReport:
    read: int = 0                     # rows in the file
    added: int = 0                    # rows stored now
    already: int = 0                  # rows whose uid was stored before
    bad: int = 0                      # rows refused
    examples: list[str] = field(default_factory=list)   # the first few refusals
    days: set[date] = field(default_factory=set)        # local days that got rows

    def refuse(self, row: int, reason: str) -> None:
        self.bad += 1
        if len(self.examples) < SHOWN_BAD_ROWS:
            self.examples.append(f"row {row}: {reason}")


def format_of(path: Path, fmt: str | None) -> str:
    """The file's format: given, or from its name (.parquet, .ndjson, .jsonl)."""
    if fmt:
        return fmt
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix in (".ndjson", ".jsonl", ".json"):
        return "ndjson"
    raise ImportFileError(f"{path.name}: cannot tell the format from the name; "
                          "give --format parquet or ndjson")


# --- reading --------------------------------------------------------------------------------
Numbered = tuple[pa.RecordBatch, list[int]]     # a batch and its rows' numbers in the file


def _parquet_batches(path: Path) -> Iterator[Numbered]:
    try:
        source = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise ImportFileError(f"{path.name}: not a readable Parquet file ({exc})") from None
    missing = [c for c in EVENT_COLUMNS if c not in source.schema_arrow.names]
    if missing:
        raise ImportFileError(f"{path.name}: missing columns {', '.join(missing)} "
                              "(is it a `beacon export events` file?)")
    first = 1
    for batch in source.iter_batches(batch_size=BATCH_ROWS, columns=list(EVENT_COLUMNS)):
        try:
            yield _typed(batch), list(range(first, first + batch.num_rows))
            first += batch.num_rows
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise ImportFileError(f"{path.name}: a column has the wrong type ({exc})") from None


def _typed(batch: pa.RecordBatch) -> pa.RecordBatch:
    arrays = []
    for field_ in SCHEMA:
        values = batch.column(field_.name)
        if pa.types.is_timestamp(values.type) and values.type.tz is None:
            values = pc.assume_timezone(values.cast(pa.timestamp("us")), "UTC")
        arrays.append(values.cast(field_.type))
    return pa.RecordBatch.from_arrays(arrays, names=SCHEMA.names)


def _ndjson_row(line: str) -> dict[str, Any]:
    record = json.loads(line)
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    missing = [c for c in EVENT_COLUMNS if c not in record]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    ts = datetime.fromisoformat(record["ts"])
    if ts.utcoffset() is None:
        raise ValueError("ts has no time zone offset")
    record["ts"] = ts
    for name in JSON_COLUMNS:          # an object in NDJSON, its stored text here
        record[name] = json.dumps(record[name])
    return record


def _ndjson_batches(path: Path, report: ImportReport) -> Iterator[Numbered]:
    rows: list[dict[str, Any]] = []
    numbers: list[int] = []
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise ImportFileError(f"{path.name}: {exc.strerror}") from None
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = _ndjson_row(line)
                pa.RecordBatch.from_pylist([record], schema=SCHEMA)   # types check
            except (ValueError, TypeError, KeyError, pa.ArrowException) as exc:
                report.read += 1
                report.refuse(number, str(exc).splitlines()[0][:200])
                continue
            rows.append(record)
            numbers.append(number)
            if len(rows) >= BATCH_ROWS:
                yield pa.RecordBatch.from_pylist(rows, schema=SCHEMA), numbers
                rows, numbers = [], []
    if rows:
        yield pa.RecordBatch.from_pylist(rows, schema=SCHEMA), numbers


# --- checking -------------------------------------------------------------------------------
def _row_problems(batch: pa.RecordBatch) -> list[str | None]:
    """Per row: None when it may be stored, else why not."""
    problems: list[str | None] = [None] * batch.num_rows

    def flag(mask: pa.Array, reason: str) -> None:
        for i in pc.indices_nonzero(pc.fill_null(mask, False)).to_pylist():
            problems[i] = problems[i] or reason

    for field_ in SCHEMA:
        values = batch.column(field_.name)
        column = schema.events.c[field_.name]
        if not field_.nullable:
            flag(pc.is_null(values), f"{field_.name} is missing")
        length = getattr(column.type, "length", None)
        if length and pa.types.is_string(values.type):
            flag(pc.greater(pc.utf8_length(values), length),
                 f"{field_.name} is longer than {length} characters")
    for i, text in enumerate(batch.column("props").to_pylist()):
        if text is not None and not _string_object(text):
            problems[i] = problems[i] or "props is not a JSON object of strings"
    return problems


def _string_object(text: str) -> bool:
    if text == "{}":
        return True
    try:
        value = json.loads(text)
    except ValueError:
        return False
    return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())


# --- storing --------------------------------------------------------------------------------
def _store(engine: Engine, site: Site, batch: pa.RecordBatch, report: ImportReport) -> None:
    if batch.num_rows == 0:
        return
    dialect = dialect_for(engine)
    ts = batch.column("ts")
    naive = pc.local_timestamp(ts).cast(pa.timestamp("us")).to_numpy()
    days = pc.unique(pc.local_timestamp(ts.cast(pa.timestamp("us", tz=site.timezone)))
                     .cast(pa.date32())).to_pylist()
    columns: list[list[Any]] = []
    for name in EVENT_COLUMNS:
        if name == "ts":
            columns.append(dialect.time_values(naive))
        elif name == "site_id":
            columns.append([site.id] * batch.num_rows)
        else:
            columns.append(batch.column(name).to_pylist())
    rows = list(zip(*columns, strict=True))
    with write_transaction(engine) as conn:
        added = dialect.append_events(conn, rows, EVENT_COLUMNS)
        mark_dirty_days(conn, [(site.id, d) for d in days], utc_now())
    report.added += added
    report.already += len(rows) - added
    report.days.update(days)


def import_events(engine: Engine, path: Path, site: Site, *, fmt: str | None = None,
                  progress: Callable[[int], None] | None = None,
                  rebuild: bool = True) -> ImportReport:
    """Import an events export into `site`; see the module's docstring."""
    report = ImportReport()
    fmt = format_of(path, fmt)
    if fmt not in FORMATS:
        raise ImportFileError(f"unknown format {fmt!r} (expected {', '.join(FORMATS)})")
    batches = _parquet_batches(path) if fmt == "parquet" else _ndjson_batches(path, report)
    for batch, numbers in batches:
        problems = _row_problems(batch)
        good = [i for i, p in enumerate(problems) if p is None]
        for number, problem in zip(numbers, problems, strict=True):
            if problem is not None:
                report.refuse(number, problem)
        report.read += batch.num_rows
        _store(engine, site, batch.take(pa.array(good, pa.int64())), report)
        if progress:
            progress(batch.num_rows)
    if rebuild and report.days:
        rebuild_dirty(engine, utc_now())
    return report


def events_of_site(engine: Engine, site_id: int) -> int:
    """How many events a site holds (for the import's summary)."""
    with engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).select_from(schema.events)
                               .where(schema.events.c.site_id == site_id)) or 0)
