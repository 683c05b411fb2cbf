"""`beacon rollup` (rebuild daily rollups now) and `beacon worker` (the periodic loop)."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from datetime import date
from typing import Any

from beacon_cli.common import settings_and_engine
from shared.core.clock import utc_now
from shared.core.logs import configure_logging
from shared.jobs.worker import run_once, run_worker
from shared.rollups.build import rebuild_dirty, rebuild_site
from shared.sites import list_sites, require_site
from shared.storage.private_files import secure_start


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rollup", help="rebuild daily rollups (default: the dirty days)")
    p.add_argument("--site", help="only this site (domain)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--all", action="store_true", help="every day that has events")
    which.add_argument("--since", type=date.fromisoformat, metavar="YYYY-MM-DD",
                       help="every day from this local date on")
    p.set_defaults(func=run_rollup)
    w = sub.add_parser("worker", help="run the periodic jobs (rollups, ...) until stopped")
    w.add_argument("--once", action="store_true",
                   help="run one round and exit (status 1 if a job failed)")
    w.set_defaults(func=run_worker_cmd)


def run_rollup(args: argparse.Namespace) -> int:
    _, engine = settings_and_engine()
    if not (args.all or args.since):
        if args.site:
            raise ValueError("--site needs --all or --since (dirty days cover every site)")
        print(f"rebuilt {rebuild_dirty(engine, utc_now())} dirty day(s)")
        return 0
    with engine.connect() as conn:
        sites = [require_site(conn, args.site)] if args.site else list_sites(conn)
    for site in sites:
        days = rebuild_site(engine, site.id, None if args.all else args.since)
        print(f"{site.domain}: rebuilt {days} day(s)")
    return 0


def run_worker_cmd(args: argparse.Namespace) -> int:
    settings, engine = settings_and_engine()
    configure_logging(settings.log_level)   # a failing job is logged as a JSON line
    secure_start(settings)
    stop = threading.Event()

    def _stop(*_: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if args.once:
        # A cron line or a deploy check runs one round: its exit status must say whether
        # every job ran (the loop below keeps going instead, and catches up next round).
        results = run_once(engine, utc_now())
        failed = [name for name, result in results.items() if isinstance(result, Exception)]
        if failed:
            # A log line like every other the worker writes (JSON when configured so).
            logging.getLogger("beacon_cli.worker").error(
                "beacon worker: job(s) failed: %s (see the lines above)", ", ".join(failed))
            return 1
        return 0
    run_worker(engine, settings.rollup_interval_seconds, stop=stop)
    return 0
