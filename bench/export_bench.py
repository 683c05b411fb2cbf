"""Benchmark, stage "data out": a big site's raw events out, side by side with the
reference paths, on SQLite and PostgreSQL.

Generates (once, then reuses) `--events` demo events over 90 days for one site plus
three noise sites (5 % each), then times, each in a fresh process (its peak memory is
that process's VmHWM), every path reading all of the site's events:

* beacon parquet / csv / ndjson: `beacon export events --period all` as the CLI runs it
  (`event_stream.event_batches` -> `arrow_writers.write_batches`) to a file;
* beacon dataframes: `dataframes.events_df_chunks`, every chunk a pandas DataFrame;
* reference adbc->parquet: the plain ADBC driver -> Arrow record batches -> Parquet
  (the 15-line script, untyped: whatever types the driver guesses);
* reference pandas.read_sql: all the rows in one DataFrame (the naive approach, and the
  machine's yardstick for this size: its rows/s are printed as the ratio's base).

Targets: >= 300k rows/s for Parquet and the DataFrame stream, >= 150k rows/s for CSV,
peak memory <= 300 MB. Usage:

    python bench/export_bench.py                          # 10M events, both databases
    python bench/export_bench.py --events 1000000 --backends sqlite --runs 1
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

NOW = datetime(2026, 3, 10, 15, 0)     # fixed, so the generated data can be reused
DOMAIN = "bench.example"
PATHS = ("beacon parquet", "beacon csv", "beacon ndjson", "beacon dataframes",
         "reference adbc->parquet", "reference pandas.read_sql")
TARGETS = {"beacon parquet": 300_000, "beacon dataframes": 300_000, "beacon csv": 150_000}
MEMORY_TARGET_MB = 300


def _args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--events", type=int, default=10_000_000)
    p.add_argument("--backends", default="sqlite,postgresql")
    p.add_argument("--paths", default=",".join(PATHS))
    p.add_argument("--runs", type=int, default=2)
    p.add_argument("--data-dir", default=str(Path(tempfile.gettempdir()) / "beacon_bench"),
                   help="where the SQLite database and the output files are kept")
    p.add_argument("--pg-admin-url", default=os.environ.get(
        "BEACON_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    p.add_argument("--child", nargs=3, help=argparse.SUPPRESS)    # url, path, out dir
    return p.parse_args(argv)


def database_url(backend: str, args: argparse.Namespace) -> str:
    suffix = "" if args.events == 10_000_000 else f"_{args.events}"
    name = f"beacon_export_bench{suffix}"
    if backend == "sqlite":
        Path(args.data_dir).mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{Path(args.data_dir) / f'{name}.db'}"
    admin = sa.create_engine(args.pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return args.pg_admin_url.rsplit("/", 1)[0] + "/" + name


def prepare(url: str, events: int) -> int:
    """Generate what is missing (no rollups: exports read raw events); the site's rows."""
    from shared.demo.run import DemoSpec, run_demo
    from shared.sites import require_site
    from shared.storage import make_engine, migrate

    engine = make_engine(url)
    migrate(engine)
    run_demo(engine, DemoSpec(DOMAIN, days=90, events=events, seed=42, noise_sites=3,
                              timezone="Europe/Berlin"), now=NOW, rebuild=False)
    with engine.connect() as conn:
        site = require_site(conn, DOMAIN)
        rows = int(conn.scalar(sa.text("SELECT count(*) FROM events WHERE site_id = :s"),
                               {"s": site.id}) or 0)
    engine.dispose()
    return rows


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


# --- the measured paths (each in its own process) ------------------------------------------
def _beacon(url: str, path: str, out_dir: Path) -> int:
    from shared.dataout import dataframes as bdf
    from shared.dataout.arrow_writers import write_batches
    from shared.dataout.event_schema import events_schema
    from shared.dataout.event_stream import event_batches

    engine = bdf.connect(url)
    query = bdf.stats_query(engine, DOMAIN, "all", now=NOW)
    if path == "beacon dataframes":
        return sum(len(frame) for frame in bdf.events_df_chunks(engine, query))
    fmt = path.split()[1]
    with (out_dir / f"events.{fmt}").open("wb") as out:
        return write_batches(event_batches(engine, query), fmt, out, events_schema())


def _site_id(url: str) -> int:
    from shared.sites import require_site
    from shared.storage import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        site_id = require_site(conn, DOMAIN).id
    engine.dispose()
    return site_id


def _reference_adbc(url: str, out_dir: Path) -> int:
    """The 15-line script: driver -> record batches -> Parquet, nothing else."""
    import pyarrow.parquet as pq

    site_id = _site_id(url)
    sql = f"SELECT * FROM events WHERE site_id = {site_id} ORDER BY ts, id"  # noqa: S608
    if url.startswith("sqlite"):
        import adbc_driver_sqlite.dbapi as driver
        target = sa.engine.make_url(url).database
    else:
        import adbc_driver_postgresql.dbapi as driver  # type: ignore[no-redef]
        target = sa.engine.make_url(url).set(drivername="postgresql").render_as_string(
            hide_password=False)
    rows = 0
    with driver.connect(target) as conn, conn.cursor() as cursor:
        cursor.execute(sql)
        reader = cursor.fetch_record_batch()
        with pq.ParquetWriter(out_dir / "reference.parquet", reader.schema) as writer:
            for batch in reader:
                writer.write_batch(batch)
                rows += batch.num_rows
    return rows


def _reference_pandas(url: str) -> int:
    import pandas as pd

    from shared.storage import make_engine

    site_id = _site_id(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        frame = pd.read_sql(sa.text("SELECT * FROM events WHERE site_id = :s ORDER BY ts, id"),
                            conn, params={"s": site_id})
    return len(frame)


def child(url: str, path: str, out_dir: Path) -> None:
    started = time.perf_counter()
    if path.startswith("beacon"):
        rows = _beacon(url, path, out_dir)
    elif path == "reference adbc->parquet":
        rows = _reference_adbc(url, out_dir)
    else:
        rows = _reference_pandas(url)
    seconds = time.perf_counter() - started
    print(json.dumps({"rows": rows, "seconds": seconds, "peak_mb": peak_rss_mb()}))


def run_child(url: str, path: str, out_dir: Path) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, "--child", url, path, str(out_dir)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["?"])[-1][:160]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _line(path: str, r: dict[str, Any], yardstick: float | None) -> str:
    if "error" in r:
        return f"  {path:26s} FAILED: {r['error']}"
    rate = r["rows"] / r["seconds"]
    target = TARGETS.get(path)
    verdict = ""
    if target:
        ok = rate >= target and r["peak_mb"] <= MEMORY_TARGET_MB
        verdict = (f"  target >= {target // 1000}k rows/s, <= {MEMORY_TARGET_MB} MB: "
                   f"{'ok' if ok else 'MISSED'}")
    ratio = f"  {rate / yardstick:4.2f}x read_sql" if yardstick else ""
    return (f"  {path:26s} {r['rows']:>11,} rows {r['seconds']:7.1f} s {rate:>10,.0f} rows/s"
            f"  peak {r['peak_mb']:5.0f} MB{ratio}{verdict}")


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    if args.child:
        url, path, out_dir = args.child
        child(url, path, Path(out_dir))
        return 0
    paths = [p for p in args.paths.split(",") if p in PATHS]
    out_dir = Path(args.data_dir) / "export_out"
    out_dir.mkdir(parents=True, exist_ok=True)
    print(f"export bench: {args.events:,} events of one site (+3 noise sites), "
          f"period all; {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    for backend in args.backends.split(","):
        url = database_url(backend, args)
        rows = prepare(url, args.events)
        for run in range(1, args.runs + 1):
            print(f"\n== {backend}, run {run}: {rows:,} events of {DOMAIN}")
            results = {path: run_child(url, path, out_dir) for path in paths}
            base = results.get("reference pandas.read_sql", {})
            yardstick = base["rows"] / base["seconds"] if "rows" in base else None
            for path in paths:
                print(_line(path, results[path], yardstick))
    return 0


if __name__ == "__main__":
    sys.exit(main())
