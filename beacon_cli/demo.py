"""`beacon demo <domain>`: fill a site with realistic generated traffic (for trying the
dashboard, tests and benchmarks). Days that already hold demo data of the seed are skipped,
so running it again adds nothing on the same day and fills in only new days later."""

from __future__ import annotations

import argparse
import sys

from beacon_cli.common import settings_and_engine
from shared.demo.run import DemoSpec, check_spec, run_demo


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="generate demo traffic for a site (creates it if missing)")
    p.add_argument("domain")
    p.add_argument("--days", type=int, default=90, help="days of history, today included "
                   "(default 90)")
    p.add_argument("--events", type=int, default=200_000,
                   help="events for the site over all days (default 200000)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--noise-sites", type=int, default=0, dest="noise_sites",
                   help="also fill K other sites with 5%% of the traffic each (default 0)")
    p.add_argument("--timezone", default="UTC",
                   help="timezone of a site that does not exist yet (default UTC)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    spec = DemoSpec(domain=args.domain, days=args.days, events=args.events, seed=args.seed,
                    noise_sites=args.noise_sites, timezone=args.timezone)
    check_spec(spec)
    _, engine = settings_and_engine()
    from tqdm import tqdm

    total = spec.events + spec.noise_sites * int(spec.events * spec.noise_share)
    with tqdm(total=total, unit="ev", unit_scale=True, file=sys.stderr,
              disable=args.quiet, desc="events") as bar:
        report = run_demo(engine, spec, progress=bar.update)
    written = sum(report.events.values())
    print(f"{report.site.domain}: wrote {written:,} events in {report.write_seconds:.1f} s, "
          f"rollups rebuilt in {report.rollup_seconds:.1f} s"
          + ("" if written else " (these days already hold demo data of this seed)"))
    engine.dispose()
    return 0
