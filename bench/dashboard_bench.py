"""Benchmark, stage "dashboard": how long the Overview page takes server-side, and the
process's peak memory, on a big demo site.

Runs the real app with Streamlit's AppTest (no browser): one warm-up run of the Privacy
page loads the modules, then the report cache is cleared and the Overview is timed cold
(every report asks the database), `--runs` times. The period is the
last 30 days of the site's data, so a demo generated at another date still fills it.
A temporary admin account is added for the run and removed afterwards. Usage:

    python bench/dashboard_bench.py --database-url sqlite:////path/beacon_bench.db \\
        --site bench.example [--days 30] [--runs 3] [--filter "country is DE" ...] \\
        [--compare previous_period]

Targets: Overview <= 2 s cold on the 10M-event demo site; peak RSS <= 400 MB.
"""

from __future__ import annotations

import argparse
import os
import resource
import secrets
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _last_day(url: str, domain: str) -> tuple[int, str]:
    from shared.core import schema
    from shared.sites import require_site
    from shared.storage import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        site = require_site(conn, domain)
        last = conn.execute(sa.select(sa.func.max(schema.events.c.ts))
                            .where(schema.events.c.site_id == site.id)).scalar()
        count = conn.execute(sa.select(sa.func.count()).select_from(schema.events)
                             .where(schema.events.c.site_id == site.id)).scalar()
    engine.dispose()
    if last is None:
        raise SystemExit(f"{domain} has no events")
    return int(count or 0), last.date().isoformat()


def _temp_admin(url: str, remove: str | None = None) -> str:
    from shared.accounts import users as auth
    from shared.storage import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        if remove:
            auth.remove_user(conn, remove)
            email = remove
        else:
            email = f"bench-{secrets.token_hex(4)}@bench.invalid"
            auth.add_user(conn, email, secrets.token_urlsafe(16), is_admin=True)
    engine.dispose()
    return email


def _overview(email: str, params: dict[str, Any]) -> float:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "dashboard_app" / "app.py"), default_timeout=300)
    for key, value in params.items():
        at.query_params[key] = value
    at.session_state["auth_user_email"] = email
    started = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - started
    if at.exception:
        raise SystemExit(f"the Overview failed: {at.exception[0].value}")
    if not at.metric:
        raise SystemExit("the Overview showed no KPI cards")
    return elapsed


def _warm_up(email: str, params: dict[str, str]) -> None:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "dashboard_app" / "app.py"), default_timeout=300)
    at.session_state["auth_user_email"] = email
    at.query_params.update(params)
    at.run()
    at.switch_page("views/privacy.py").run()


def _frame_params(site: str, first: Any, last: str, filters: list[str],
                  compare: str) -> dict[str, Any]:
    """The Overview's URL parameters for this frame, encoded by the dashboard itself."""
    from dashboard_app.frame import Frame, to_params
    from shared.dataout.dataframes import parse_filter

    frame = Frame(site_domain=site, period="custom", start=first,
                  end=sa.Date().python_type.fromisoformat(last),
                  filters=tuple(parse_filter(f) for f in filters), comparison=compare)
    return to_params(frame)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--site", required=True)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--filter", action="append", default=[],
                        help='a filter of the frame, e.g. "country is DE" (repeatable)')
    parser.add_argument("--compare", default="off", help="off, previous_period or "
                        "year_over_year")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url
    import streamlit as st

    from shared.core.settings import normalise_database_url

    url = normalise_database_url(args.database_url, "data")
    events, last = _last_day(url, args.site)
    first = (sa.Date().python_type.fromisoformat(last) - timedelta(days=args.days - 1))
    params = _frame_params(args.site, first, last, args.filter, args.compare)
    email = _temp_admin(url)
    try:
        _warm_up(email, {"site": args.site})
        cold = []
        for _ in range(args.runs):
            st.cache_data.clear()
            cold.append(_overview(email, params))
    finally:
        _temp_admin(url, remove=email)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"site {args.site}: {events:,} events; Overview of {first} .. {last} "
          f"({url.split(':')[0]}); filters: {', '.join(args.filter) or 'none'}; "
          f"comparison: {args.compare}")
    print(f"cold cache: median {statistics.median(cold):.2f} s  (runs: "
          f"{', '.join(f'{t:.2f}' for t in cold)})  target <= 2 s")
    print(f"peak RSS of this process: {rss_mb:.0f} MB  target <= 400 MB")


if __name__ == "__main__":
    main()
