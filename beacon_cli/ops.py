"""`beacon purge`, `beacon backup`, `beacon restore`: keeping data for years, and no longer."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from beacon_cli.common import audited, settings_and_engine
from shared.core.settings import load_settings
from shared.dataout.backup import (
    BackupError,
    backup,
    default_backup_file,
    live_beacons,
    restore,
    sqlite_path,
)
from shared.jobs.retention import count_before, purge_before
from shared.sites import require_site
from shared.storage import make_engine


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("purge", help="delete a site's events and rollups before a date")
    p.add_argument("--site", required=True, help="the site (domain)")
    p.add_argument("--before", required=True, type=date.fromisoformat, metavar="YYYY-MM-DD",
                   help="first local day to keep")
    p.add_argument("--yes", action="store_true", help="delete (without it: only count)")
    p.set_defaults(func=run_purge)
    b = sub.add_parser("backup", help="copy the SQLite database while it is in use")
    b.add_argument("--output", type=Path, help="file to write (default "
                   "BEACON_DATA_DIR/backups/beacon-<time>.db)")
    b.set_defaults(func=run_backup)
    r = sub.add_parser("restore", help="replace the SQLite database with a backup")
    r.add_argument("file", type=Path, help="a file made by `beacon backup`")
    r.add_argument("--force", action="store_true",
                   help="restore even while beacon processes are running")
    r.set_defaults(func=run_restore)


def run_purge(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    try:
        with engine.connect() as conn:
            site = require_site(conn, args.site)
            found = count_before(conn, site, args.before)
        if not args.yes:
            print(f"{site.domain}: would delete {found.events} events and {found.rollups} "
                  f"rollup rows before {args.before}; run again with --yes to delete")
            return 0
        done = purge_before(engine, site, args.before)
        audited(engine, "data.purge", f"{site.domain} before {args.before}", site_id=site.id,
                details={"before_day": args.before, "events": done.events,
                         "rollup_rows": done.rollups})
        print(f"{site.domain}: deleted {done.events} events and {done.rollups} rollup rows "
              f"before {args.before}")
        return 0
    finally:
        engine.dispose()


def _audited_once(url: str, action: str, target: str, size: int) -> None:
    engine = make_engine(url)
    try:
        audited(engine, action, target, details={"bytes": size})
    finally:
        engine.dispose()


def run_backup(args: argparse.Namespace) -> int:
    settings = load_settings()
    database = sqlite_path(settings.resolved_database_url)
    output = args.output or default_backup_file(settings.data_dir)
    size = backup(database, output)
    _audited_once(settings.resolved_database_url, "data.backup", str(output), size)
    print(f"backup written: {output} ({size / 1e6:.1f} MB)")
    return 0


def run_restore(args: argparse.Namespace) -> int:
    settings = load_settings()
    database = sqlite_path(settings.resolved_database_url)
    running = live_beacons(settings.resolved_spool_dir)
    if running and not args.force:
        # Restoring under a running beacon is safe for SQLite, but it silently takes back
        # everything recorded since the backup: the operator must mean it.
        raise BackupError(f"{len(running)} beacon process(es) are running on this data "
                          "folder (pids " + ", ".join(map(str, running)) + "); stop them "
                          "first, or pass --force")
    size = restore(args.file, database)
    # Recorded in the restored database: the log now tells that it was replaced, by whom.
    _audited_once(settings.resolved_database_url, "data.restore", str(args.file), size)
    print(f"restored {args.file} into the database ({size / 1e6:.1f} MB); "
          "run `beacon migrate` if the backup is from an older version")
    return 0
