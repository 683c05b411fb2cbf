"""Benchmark, stage "analysis": how fast the dashboard's reports answer on a big site.

Generates (once, then reuses) `--events` demo events over `--days` days for one site plus
noise sites, on SQLite and PostgreSQL, and builds their rollups. Then, each in a fresh
process with a fresh engine (no application cache; the OS page cache and PostgreSQL's
shared buffers stay warm, so this is "cold app, warm disk"):

* default: the dashboard's default view of the last 30 days - totals with comparison,
  daily timeseries, top pages, entry and exit pages, sources, channels, countries,
  browsers, OS and devices - the breakdowns asked in one call (`reports.breakdowns`), as
  the dashboard's Overview asks for them;
* filtered: the same with `country is DE` and `source is Google`;
* each set again on the raw path (rollups switched off: the query layer's plain SQL over
  raw events, panel by panel), checking that both paths return the same numbers.

Also prints the peak memory (VmHWM) of each querying process and the time to refresh
the rollups of one day (the one nearest ~110k events, and the busiest), timed as a
running worker refreshes a day: after an untimed rebuild of another day (imports,
connections, on SQLite the build's helper process). Usage:

    python bench/analysis_bench.py                       # 10M events, both databases
    python bench/analysis_bench.py --events 1000000 --backends sqlite
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

NOW = datetime(2026, 3, 10, 15, 0)     # fixed, so the generated data can be reused
DOMAIN = "bench.example"
PANELS = ("page", "entry_page", "exit_page", "source", "channel", "country", "browser",
          "os", "device")
FILTERS = ("country is DE", "source is Google")
TARGETS = {"default": 1.0, "filtered": 3.0}
ALL_PANELS = ("totals+comparison", "timeseries", *PANELS)
BREAKDOWNS = "breakdowns"    # the timing of the breakdowns asked in one call
RAW_PANELS = ("totals+comparison", "timeseries", "page", "source", "country")


def _args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--events", type=int, default=10_000_000)
    p.add_argument("--days", type=int, default=90)
    p.add_argument("--noise-sites", type=int, default=3)
    p.add_argument("--backends", default="sqlite,postgresql")
    p.add_argument("--data-dir", default=str(Path(tempfile.gettempdir()) / "beacon_bench"),
                   help="where the SQLite database is kept between runs")
    p.add_argument("--pg-admin-url", default=os.environ.get(
        "BEACON_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    p.add_argument("--raw-panels", default=",".join(RAW_PANELS),
                   help="panels timed on the raw path too (it is slow: minutes per panel at "
                        "10M events); 'all' for every panel")
    p.add_argument("--sets", default="default,filtered",
                   help="which sets to time: default, filtered or both (default both)")
    p.add_argument("--child", help=argparse.SUPPRESS)      # url of a querying child
    p.add_argument("--mode", default="rollup", help=argparse.SUPPRESS)
    return p.parse_args(argv)


# --- preparing the data -------------------------------------------------------------------
def database_url(backend: str, args: argparse.Namespace) -> str:
    suffix = "" if args.events == 10_000_000 else f"_{args.events}"
    if backend == "sqlite":
        Path(args.data_dir).mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{Path(args.data_dir) / f'beacon_bench{suffix}.db'}"
    name = f"beacon_bench{suffix}"
    admin = sa.create_engine(args.pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return args.pg_admin_url.rsplit("/", 1)[0] + "/" + name


def prepare(url: str, args: argparse.Namespace) -> dict[str, float]:
    """Generate what is missing and build rollups; returns the seconds each step took."""
    from shared.demo.run import DemoSpec, analyze, run_demo
    from shared.rollups.build import rebuild_dirty
    from shared.storage import make_engine, migrate

    engine = make_engine(url)
    migrate(engine)
    spec = DemoSpec(DOMAIN, days=args.days, events=args.events, seed=42,
                    noise_sites=args.noise_sites, timezone="Europe/Berlin")
    report = run_demo(engine, spec, now=NOW, rebuild=False)
    started = time.perf_counter()
    # Every mark, also those an upgrade made after NOW (new rollup tables to fill).
    rebuilt = rebuild_dirty(engine, datetime(9999, 1, 1))
    analyze(engine)
    _vacuum_rollups(engine)
    out = {"generated": sum(report.events.values()), "generate_s": report.write_seconds,
           "rollup_days": rebuilt, "rollup_build_s": time.perf_counter() - started}
    engine.dispose()
    return out


def _vacuum_rollups(engine: Any) -> None:
    """PostgreSQL: reclaim the rows that earlier runs' refreshes replaced, as autovacuum
    does on a production server (a development server may run without it, as this
    machine's does, and keep every dead row of every rebuild)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in ("rollup_visits", "rollup_visit_events", "daily_rollups",
                          "dirty_days"):
                conn.exec_driver_sql(f"VACUUM ANALYZE {table}")


TYPICAL_DAY_EVENTS = 110_000    # the target's "one day": the 10M site's average day


def _day_events(conn: Any, site_id: int, day: date, tz: str) -> int:
    from shared.core.clock import local_midnight_utc

    zone = ZoneInfo(tz)
    start, end = local_midnight_utc(day, zone), local_midnight_utc(day + timedelta(days=1), zone)
    count = conn.scalar(sa.text("SELECT count(*) FROM events WHERE site_id = :s AND "
                                "ts >= :a AND ts < :b"), {"s": site_id, "a": start, "b": end})
    return int(count or 0)


def refresh_days(url: str) -> list[dict[str, Any]]:
    """Time the rebuild of two recent days: the one whose size is closest to the
    target's ~110k events, and the busiest one."""
    from shared.rollups import helper as rollup_helper
    from shared.rollups.build import rebuild_day, rebuild_dirty
    from shared.rollups.mark import mark_dirty_days
    from shared.sites import require_site
    from shared.storage import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        site = require_site(conn, DOMAIN)
        days = [(NOW - timedelta(days=i)).date() for i in range(1, 15)]   # full days
        sizes = {d: _day_events(conn, site.id, d, site.timezone) for d in days}
    typical = min(days, key=lambda d: abs(sizes[d] - TYPICAL_DAY_EVENTS))
    busiest = max(days, key=lambda d: sizes[d])
    # Timed as a running worker refreshes a day: after one untimed rebuild of another
    # day, which pays what a worker pays once - imports (numpy and pandas: ~0.4 s),
    # connections, and on SQLite the start of the build's helper process.
    warm_up = next(d for d in days if d not in (typical, busiest))
    if rollup_helper.usable(engine):
        rollup_helper.start()
    rebuild_day(engine, site.id, warm_up)
    out = []
    for label, day in (("typical", typical), ("busiest", busiest)):
        with engine.begin() as conn:
            mark_dirty_days(conn, [(site.id, day)], NOW)
        started = time.perf_counter()
        rebuild_dirty(engine, NOW)
        out.append({"label": label, "day": day.isoformat(), "events": sizes[day],
                    "seconds": time.perf_counter() - started})
    engine.dispose()
    return out


def peak_rss_mb() -> float:
    """This process's own peak resident memory. Linux keeps ru_maxrss across exec, so a
    child started by a big parent would report the parent's size; VmHWM is per process
    image."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- the querying child --------------------------------------------------------------------
def _report_set(conn: Any, query: Any, panels: list[str],
                batched: bool) -> tuple[dict[str, float], dict[str, str]]:
    """Time each panel - `batched`: the breakdowns in one call, as the dashboard asks for
    them, timed together under BREAKDOWNS - and keep the answers without their `source`
    field, to compare the paths."""
    from shared.reports import traffic as reports

    times: dict[str, float] = {}
    answers: dict[str, Any] = {}
    for name in panels:
        if name in PANELS and batched:
            continue
        started = time.perf_counter()
        if name == "totals+comparison":
            answers[name] = reports.totals(conn, replace(query, comparison="previous_period"))
        elif name == "timeseries":
            answers[name] = reports.timeseries(conn, query)
        else:
            answers[name] = reports.breakdown(conn, query, name, limit=10)
        times[name] = time.perf_counter() - started
    if batched:
        specs = [reports.BreakdownSpec(name, 10) for name in panels if name in PANELS]
        started = time.perf_counter()
        found = reports.breakdowns(conn, query, specs)
        times[BREAKDOWNS] = time.perf_counter() - started
        answers.update({spec.dimension: found[spec] for spec in specs})
    return times, {k: _canonical(asdict(replace(a, source=""))) for k, a in answers.items()}


def _timed_part(times: dict[str, float], panels: list[str]) -> float:
    """The time of `panels` (all the breakdowns' time if they were asked together)."""
    own = sum(times[p] for p in panels if p in times)
    return own + (times.get(BREAKDOWNS, 0.0) if set(panels) & set(PANELS) else 0.0)


def _canonical(value: Any) -> str:
    """Answers as text, floats to 9 digits: sums of money differ in the last bit by order."""
    def walk(v: Any) -> Any:
        if isinstance(v, float):
            return float(f"{v:.9g}")
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [walk(x) for x in v]
        return v
    return json.dumps(walk(value), default=str, sort_keys=True)


def child(url: str, mode: str, panels: list[str], sets: list[str]) -> None:
    """Run both sets once in this fresh process and print a JSON line."""
    from shared.dataout.dataframes import parse_filter
    from shared.reports import traffic as reports
    from shared.rollups import read as rollups
    from shared.sites import require_site
    from shared.stats.query import StatsQuery
    from shared.storage import make_engine

    if mode == "raw":   # the baseline: every report takes the raw-events path
        reports.rollup_dimension = lambda query, key=None: None
        rollups.visit_rows_answer = lambda filters, key: False
    started = time.perf_counter()
    engine = make_engine(url)
    out: dict[str, Any] = {}
    with engine.connect() as conn:
        site = require_site(conn, DOMAIN)
        base = StatsQuery(site.id, site.timezone, "30d", NOW, interval="day")
        for name, filters in (("default", ()), ("filtered", FILTERS)):
            if name not in sets:
                continue
            query = base.with_filters(*(parse_filter(f) for f in filters))
            set_started = time.perf_counter()
            times, answers = _report_set(conn, query, panels, batched=mode != "raw")
            out[name] = {"seconds": time.perf_counter() - set_started, "panels": times,
                         "answers": answers}
    out["process_s"] = time.perf_counter() - started
    out["max_rss_mb"] = peak_rss_mb()
    print(json.dumps(out))


def run_child(url: str, mode: str, panels: list[str], sets: list[str]) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", url, "--mode", mode,
           "--raw-panels", ",".join(panels), "--sets", ",".join(sets)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# --- the report ---------------------------------------------------------------------------
def _mark(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def report(backend: str, prep: dict[str, float], fast: dict[str, Any], slow: dict[str, Any],
           refresh: list[dict[str, Any]], raw_panels: list[str], sets: list[str]) -> None:
    print(f"\n== {backend}: generated {prep['generated']:,} new events in "
          f"{prep['generate_s']:.0f} s; rollups of {prep['rollup_days']} day(s) built in "
          f"{prep['rollup_build_s']:.0f} s")
    for name in sets:
        a, b = fast[name], slow[name]
        fast_part = _timed_part(a["panels"], raw_panels)
        ratio = b["seconds"] / fast_part if fast_part else float("inf")
        same = all(a["answers"][p] == b["answers"][p] for p in raw_panels)
        print(f"{name:9s} all {len(ALL_PANELS)} panels {a['seconds']:7.3f} s "
              f"({_mark(a['seconds'] <= TARGETS[name])} <= {TARGETS[name]} s); "
              f"{len(raw_panels)} panels: {fast_part:.3f} s vs raw {b['seconds']:.3f} s = "
              f"{ratio:.1f}x ({_mark(ratio >= 10)} >= 10x); same answers: {same}")
        slowest = sorted(a["panels"].items(), key=lambda kv: -kv[1])[:3]
        print("          slowest panels: " + ", ".join(f"{k} {v:.3f} s" for k, v in slowest))
    print(f"peak memory: rollup process {fast['max_rss_mb']:.0f} MB, raw process "
          f"{slow['max_rss_mb']:.0f} MB ({_mark(fast['max_rss_mb'] <= 300)} <= 300 MB)")
    for r in refresh:
        print(f"one-day refresh ({r['label']} day): {r['events']:,} events of {r['day']} in "
              f"{r['seconds']:.2f} s ({_mark(r['seconds'] <= 2.0)} <= 2 s for ~110k)")


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    sets = [x for x in args.sets.split(",") if x in TARGETS]
    raw_panels = list(ALL_PANELS) if args.raw_panels == "all" else args.raw_panels.split(",")
    unknown = set(raw_panels) - set(ALL_PANELS)
    if unknown:
        raise SystemExit(f"unknown panels: {', '.join(sorted(unknown))}")
    if args.child:
        child(args.child, args.mode, raw_panels, sets)
        return 0
    print(f"analysis bench: {args.events:,} events over {args.days} days + "
          f"{args.noise_sites} noise sites; reports for the last 30 days up to {NOW}")
    print("cold = new process and engine, no app caches; OS page cache / shared buffers warm")
    print(f"raw path timed for: {', '.join(raw_panels)}")
    for backend in args.backends.split(","):
        url = database_url(backend, args)
        prep = prepare(url, args)
        fast = run_child(url, "rollup", list(ALL_PANELS), sets)
        slow = run_child(url, "raw", raw_panels, sets)
        report(backend, prep, fast, slow, refresh_days(url), raw_panels, sets)
    return 0


if __name__ == "__main__":
    sys.exit(main())
