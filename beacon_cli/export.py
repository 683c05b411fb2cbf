"""`beacon export events|report`: stream raw events or a report to CSV, Parquet or NDJSON.

    beacon export events --site example.com --period 30d --filter 'country is DE' \\
        --format parquet --output events.parquet
    beacon export report --site example.com --period 7d --dimension page --format csv -o -
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

import pandas as pd
from sqlalchemy.engine import Engine

from beacon_cli.common import audited, settings_and_engine
from shared.dataout import dataframes as bdf
from shared.dataout.export import FORMATS, events_arrow_schema, write_frames
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
                   help="today, yesterday, 7d, 30d, 6mo, 12mo, month, year, all (default 30d)")
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
    p.add_argument("--chunk-size", type=int, default=100_000, dest="chunk_size")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


@contextmanager
def _open_output(path: str, force: bool) -> Iterator[IO[bytes]]:
    if path == "-":
        yield sys.stdout.buffer
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
    query = bdf.stats_query(engine, args.site, args.period, filters=args.filters,
                            interval=args.interval)
    if args.what == "report" and args.dimension:
        check_dimension(args.dimension)   # before the output file is created
    from tqdm import tqdm

    with tqdm(unit="rows", unit_scale=True, file=sys.stderr, disable=args.quiet,
              desc=f"export {args.what}") as bar, _open_output(args.output, args.force) as out:
        if args.what == "events":
            frames = bdf.events_df_chunks(engine, query, args.chunk_size)
            rows = write_frames(frames, args.format, out, progress=bar.update,
                                arrow_schema=events_arrow_schema(bdf.EVENT_COLUMNS))
        else:
            rows = write_frames(_report_frames(engine, query, args.dimension), args.format,
                                out, progress=bar.update)
    audited(engine, f"export.{'events' if args.what == 'events' else 'report'}",
            f"{args.site} to {'standard output' if args.output == '-' else args.output}",
            site_id=query.site_id,
            details={"period": args.period, "filters": args.filters, "format": args.format,
                     "dimension": args.dimension, "rows": rows})
    if args.output != "-":
        print(f"wrote {rows:,} rows to {args.output}", file=sys.stderr)
    engine.dispose()
    return 0
