"""Benchmark, stage "stats API": the docs' Stats API example on the demo site, answered
from the stored visits and page groups (today's path) and from the raw events (the
path it took before: every day marked dirty), side by side in one run.

The example (docs/stats-api.md): visitors, pageviews, bounce rate and percentage by
source over 30 days, filtered on two countries and a page pattern, with total_rows.
Both answers are compared: they must be equal. Usage:

    python bench/stats_api_bench.py [--database-url sqlite:////tmp/x.db] [--events 60000]
        [--runs 3]

Target: the example answers well under a second on the 60,000-event demo site (it
took 2.8 s from the raw events); the ratio is printed beside the raw path's time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 12, 7, 12, 0)
DOMAIN = "demo.example"
EXAMPLE = {"site_id": DOMAIN, "metrics": ["visitors", "pageviews", "bounce_rate", "percentage"],
           "date_range": "30d", "dimensions": ["visit:source"],
           "filters": [["is", "visit:country", ["DE", "AT"]],
                       ["matches", "event:page", ["/blog/**"]]],
           "order_by": [["visitors", "desc"]], "include": {"total_rows": True},
           "pagination": {"limit": 10, "offset": 0}}


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--database-url", default="")
    p.add_argument("--events", type=int, default=60_000)
    p.add_argument("--runs", type=int, default=3)
    return p.parse_args(argv)


def _app(url: str, events: int) -> tuple[Any, str]:
    """The demo site generated and rolled up first, then the app over it."""
    from beacon_app import create_app, state_of
    from shared.accounts.api_keys import create_key
    from shared.core.settings import Settings
    from shared.demo.run import DemoSpec, analyze, run_demo
    from shared.sites import require_site
    from shared.storage import make_engine, migrate

    data = Path(tempfile.mkdtemp(prefix="beacon_api_bench_"))
    settings = Settings(database_url=url or f"sqlite:///{data / 'beacon.db'}",
                        data_dir=str(data), query_timeout_seconds=600)
    migrate(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    run_demo(engine, DemoSpec(DOMAIN, days=30, events=events, seed=42,
                              timezone="Europe/Berlin"), now=NOW, rebuild=True)
    analyze(engine)
    engine.dispose()
    app = create_app(settings, clock=lambda: NOW)
    with state_of(app).engine.begin() as conn:
        token, _ = create_key(conn, require_site(conn, DOMAIN).id, "bench", now=NOW)
    return app, token


def _time(client: Any, token: str, runs: int) -> tuple[float, dict[str, Any]]:
    times, body = [], {}
    for _ in range(runs):
        started = time.perf_counter()
        res = client.post("/api/v2/query", json=EXAMPLE,
                          headers={"Authorization": f"Bearer {token}"})
        times.append(time.perf_counter() - started)
        assert res.status_code == 200, res.json
        body = res.json
    return statistics.median(times), body


def _mark_all_dirty(app: Any) -> None:
    import sqlalchemy as sa

    from beacon_app import state_of
    from shared.core import schema
    from shared.rollups.mark import mark_dirty_days

    engine = state_of(app).engine
    with engine.begin() as conn:
        days = {(r.site_id, r.day) for r in conn.execute(
            sa.select(schema.rollup_visits.c.site_id, schema.rollup_visits.c.day).distinct())}
        mark_dirty_days(conn, days, NOW)


def main(argv: list[str] | None = None) -> None:
    args = _args(argv)
    app, token = _app(args.database_url, args.events)
    client = app.test_client()
    stored_s, stored = _time(client, token, args.runs)
    print(f"stored visits: {stored_s:.3f} s", flush=True)
    _mark_all_dirty(app)
    raw_s, raw = _time(client, token, args.runs)
    assert stored["results"] == raw["results"], "stored and raw answers differ"
    print(f"events: {args.events:,}  rows: {stored['meta']['total_rows']}  "
          f"source: {stored['meta']['source']} vs {raw['meta']['source']}")
    print(f"docs example  stored visits: {stored_s:.3f} s   raw events: {raw_s:.3f} s   "
          f"ratio raw/stored: {raw_s / stored_s:.1f}x")


if __name__ == "__main__":
    main()
