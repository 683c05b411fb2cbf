"""`beacon export events|report`: stream raw events or a report to CSV, Parquet or NDJSON.

    beacon export events --site example.com --period 30d --filter 'country is DE' \\
        --format parquet --output events.parquet
    beacon export events --site example.com --period 2026-02-01..2026-02-28 -o - | head
    beacon export report --site example.com --period 7d --dimension page --format csv -o -

Raw events stream from the driver as Arrow batches (shared.dataout.event_stream) and are
written by pyarrow (shared.dataout.arrow_writers); the progress bar counts against the
number of matching events, asked first. A reader that closes the pipe early
(`| head`) ends the export quietly.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import IO, Any

import pandas as pd
from sqlalchemy.engine import Engine

from beacon_cli.common import audited, settings_and_engine
from shared.dataout import dataframes as bdf
from shared.dataout import event_stream
from shared.dataout.arrow_writers import write_batches
from shared.dataout.event_schema import events_schema
from shared.dataout.export import FORMATS, write_frames
from shared.stats.dimensions import check_dimension
from shared.stats.query import StatsQuery
from shared.storage.private_files import open_private

PAGE_ROWS = 10_000


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export raw events or a report (csv, parquet, ndjson)")
    p.add_argument("what", choices=("events", "report"),
                   help="events: raw events; report: a breakdown (--dimension) or timeseries")
    p.add_argument("--site", required=True, help="the site's domain")
    p.add_argument("--period", default="30d",
                   help="today, yesterday, 7d, 30d, 6mo, 12mo, month, year, all, or the "
                        "site's local days FIRST..LAST, e.g. 2026-02-01..2026-02-28 "
                        "(default 30d)")
    p.add_argument("--filter", action="append", default=[], dest="filters", metavar="TEXT",
                   help="e.g. 'country is DE', 'page matches /blog/**', 'source is Google|Bing'"
                        "; repeat to AND several")
    p.add_argument("--dimension", help="report: break down by this dimension (page, source, "
                   "country, prop:plan, ...); without it the report is a timeseries")
    p.add_argument("--interval", help="report timeseries: hour, day, week or month")
    p.add_argument("--format", choices=FORMATS, default="csv")
    p.add_argument("--output", "-o", required=True, help="file to write, or - for stdout "
                   "(an existing file is refused without --force; a symlink always)")
    p.add_argument("--force", action="store_true", help="replace an existing output file")
    p.add_argument("--chunk-size", type=int, default=event_stream.DEFAULT_BATCH_ROWS,
                   dest="chunk_size", help="rows per batch (memory grows with it)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def parse_period(text: str) -> dict[str, Any]:
    """`--period`: a named period, or FIRST..LAST dates (inclusive, the site's days)."""
    if ".." not in text:
        return {"period": text}
    first, _, last = text.partition("..")
    try:
        start, end = date.fromisoformat(first.strip()), date.fromisoformat(last.strip())
    except ValueError:
        raise ValueError(f"--period {text!r}: dates must look like "
                         "2026-02-01..2026-02-28") from None
    if start > end:
        raise ValueError(f"--period {text!r}: the first day is after the last")
    return {"period": "custom", "start": start, "end": end}


class _ClosedPipe(Exception):
    """The reader of stdout went away (`| head`): stop writing, say nothing."""


class _Stdout:
    """stdout's bytes, turning the reader's hang-up into `_ClosedPipe`."""

    def __init__(self) -> None:
        self.raw = sys.stdout.buffer

    def write(self, data: Any) -> int:
        try:
            return self.raw.write(data)
        except BrokenPipeError:
            raise _ClosedPipe from None

    def flush(self) -> None:
        try:
            self.raw.flush()
        except BrokenPipeError:
            raise _ClosedPipe from None

    def __getattr__(self, name: str) -> Any:      # closed, writable, ... for the writers
        return getattr(self.raw, name)


def _silence_stdout() -> None:
    """After a hang-up: point stdout at /dev/null, so the interpreter's own flush at
    exit finds nothing to fail on (which would print 'Broken pipe' after all)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


@contextmanager
def _open_output(path: str, force: bool) -> Iterator[IO[bytes]]:
    if path == "-":
        yield _Stdout()  # type: ignore[misc]
        return
    fd = open_private(path, replace=force, tighten=True)
    with os.fdopen(fd, "wb") as handle:
        yield handle


def _report_frames(engine: Engine, query: StatsQuery, dimension: str | None,
                   ) -> Iterator[pd.DataFrame]:
    if not dimension:
        yield bdf.timeseries_df(engine, query).reset_index()
        return
    offset = 0
    while True:
        frame = bdf.breakdown_df(engine, query, dimension, limit=PAGE_ROWS, offset=offset)
        yield frame
        if not frame.attrs.get("has_more"):
            return
        offset += PAGE_ROWS


def run(args: argparse.Namespace) -> int:
    if args.chunk_size < 1:
        raise ValueError("--chunk-size must be >= 1")
    if args.what == "events" and (args.dimension or args.interval):
        raise ValueError("--dimension and --interval apply to `export report` only")
    _, engine = settings_and_engine()
    query = bdf.stats_query(engine, args.site, filters=args.filters, interval=args.interval,
                            **parse_period(args.period))
    if args.what == "report" and args.dimension:
        check_dimension(args.dimension)   # before the output file is created
    try:
        rows = _write(engine, query, args)
        audited(engine, f"export.{'events' if args.what == 'events' else 'report'}",
                f"{args.site} to {'standard output' if args.output == '-' else args.output}",
                site_id=query.site_id,
                details={"period": args.period, "filters": args.filters,
                         "format": args.format, "dimension": args.dimension, "rows": rows})
    except _ClosedPipe:
        _silence_stdout()
        return 0
    finally:
        engine.dispose()
    if args.output != "-":
        print(f"wrote {rows:,} rows to {args.output}", file=sys.stderr)
    return 0


def _write(engine: Engine, query: StatsQuery, args: argparse.Namespace) -> int:
    from tqdm import tqdm

    total = (event_stream.count_events(engine, query)
             if args.what == "events" and not args.quiet else None)
    with tqdm(total=total, unit="rows", unit_scale=True, file=sys.stderr,
              disable=args.quiet, desc=f"export {args.what}") as bar, \
            _open_output(args.output, args.force) as out:
        if args.what == "events":
            batches = event_stream.event_batches(engine, query, batch_rows=args.chunk_size)
            return write_batches(batches, args.format, out, events_schema(),
                                 progress=bar.update)
        return write_frames(_report_frames(engine, query, args.dimension), args.format,
                            out, progress=bar.update)
