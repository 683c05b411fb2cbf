"""`beacon import events FILE`: read a `beacon export events` file (Parquet or NDJSON)
back into a site - of this install or another one, on either database.

    beacon import events events.parquet --site example.com
    beacon import events events.ndjson --site example.com --format ndjson

Running it again adds nothing twice (rows whose uid is stored are skipped), so an import
that stopped half-way is resumed by running the same command.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from beacon_cli.common import audited, settings_and_engine
from shared.imports.events import FORMATS, import_events
from shared.sites import require_site


def register_events(sources: argparse._SubParsersAction) -> None:
    """`beacon import events`, one source of the `beacon import` group (imports.py)."""
    events = sources.add_parser("events",
                                help="a `beacon export events` file, Parquet or NDJSON")
    events.add_argument("file", help="the file to read (.parquet, .ndjson or .jsonl)")
    events.add_argument("--site", required=True,
                        help="the site (domain) the events belong to in this install")
    events.add_argument("--format", choices=FORMATS, help="default: from the file's name")
    events.add_argument("--no-rollups", action="store_true", dest="no_rollups",
                        help="only mark the days for the worker; do not rebuild them now")
    events.add_argument("--quiet", action="store_true", help="no progress bar")
    events.set_defaults(func=run_events)


def run_events(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    path = Path(args.file)
    if not path.is_file():
        raise ValueError(f"{args.file}: no such file")
    _, engine = settings_and_engine()
    try:
        with engine.connect() as conn:
            site = require_site(conn, args.site)
        with tqdm(unit="rows", unit_scale=True, file=sys.stderr, disable=args.quiet,
                  desc="import events") as bar:
            report = import_events(engine, path, site, fmt=args.format,
                                   progress=bar.update, rebuild=not args.no_rollups)
        audited(engine, "import.events", f"{path.name} into {site.domain}", site_id=site.id,
                details={"read": report.read, "added": report.added, "refused": report.bad})
    finally:
        engine.dispose()
    print(f"read {report.read:,} rows: {report.added:,} added, {report.already:,} already "
          f"stored, {report.bad:,} refused", file=sys.stderr)
    for line in report.examples:
        print(f"  refused {line}", file=sys.stderr)
    return 0 if report.bad == 0 else 1
