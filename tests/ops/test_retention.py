"""Running for years: per-site retention by the worker, `beacon purge`, site deletion,
salt rotation and visit expiry - on both databases, with data written by the demo's
production write path."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from beacon_cli.main import main
from shared.accounts.api_keys import create_key
from shared.accounts.share_links import create_share_link
from shared.accounts.users import add_user, grant_role
from shared.core import schema
from shared.demo.run import DemoSpec, run_demo
from shared.jobs.housekeeping import rotate_salts
from shared.jobs.retention import months_before
from shared.jobs.worker import run_once
from shared.reports.funnels import FunnelStep, add_funnel
from shared.reports.goals import add_goal
from shared.sites import add_site, remove_site, require_site, update_site

NOW = datetime(2026, 6, 15, 12, 0)


def _count(engine: Engine, table: sa.Table, *where: object) -> int:
    with engine.connect() as conn:
        q = sa.select(sa.func.count()).select_from(table)
        return int(conn.execute(q.where(*where) if where else q).scalar_one())


def _rollup_days(engine: Engine, site_id: int) -> list[date]:
    r = schema.daily_rollups
    with engine.connect() as conn:
        return [row[0] for row in conn.execute(sa.select(r.c.day).distinct()
                                               .where(r.c.site_id == site_id).order_by(r.c.day))]


def _days(engine: Engine, site_id: int) -> tuple[date, date]:
    r = schema.daily_rollups
    with engine.connect() as conn:
        lo, hi = conn.execute(sa.select(sa.func.min(r.c.day), sa.func.max(r.c.day))
                              .where(r.c.site_id == site_id)).one()
    return lo, hi


@pytest.mark.parametrize(("day", "months", "expected"), [
    (date(2026, 3, 31), 1, date(2026, 2, 28)),
    (date(2024, 3, 31), 1, date(2024, 2, 29)),
    (date(2026, 1, 15), 13, date(2024, 12, 15)),
    (date(2026, 6, 15), 0, date(2026, 6, 15)),
    (date(2026, 12, 31), 6, date(2026, 6, 30)),
], ids=["short-feb", "leap-feb", "across-years", "zero", "month-end"])
def test_months_before(day: date, months: int, expected: date) -> None:
    assert months_before(day, months) == expected


def test_worker_enforces_each_sites_retention(engine: Engine) -> None:
    run_demo(engine, DemoSpec("keep.example", days=70, events=2000, timezone="Europe/Berlin"),
             now=NOW, rebuild=False)
    # Rollups of a few days only (building all 70 would take a minute): before the rollup
    # horizon, between the two horizons, and after both.
    d = schema.dirty_days
    kept_days = [date(2026, 4, 10), date(2026, 4, 20), date(2026, 5, 10), date(2026, 6, 14)]
    with engine.begin() as conn:
        conn.execute(sa.delete(d).where(d.c.day.not_in(kept_days)))
    # A second site with old events and no retention; its rollups are not needed here.
    other = run_demo(engine, DemoSpec("other.example", days=70, events=300), now=NOW,
                     rebuild=False).site
    with engine.begin() as conn:
        conn.execute(sa.delete(d).where(d.c.site_id == other.id))
        site = update_site(conn, "keep.example", retention_months=1, rollup_retention_months=2)
    before_other = _count(engine, schema.events, schema.events.c.site_id == other.id)
    results = run_once(engine, NOW)
    assert not any(isinstance(v, Exception) for v in results.values()), results
    assert results["rollups"] == 4
    e = schema.events
    # No raw event of a local day before 15 May (Berlin) is left, and later days are whole.
    cutoff = datetime(2026, 5, 14, 22, 0)           # 15 May 00:00 in Berlin, in UTC
    assert _count(engine, e, e.c.site_id == site.id, e.c.ts < cutoff) == 0
    assert _count(engine, e, e.c.site_id == site.id, e.c.ts >= cutoff) > 0
    r = schema.daily_rollups
    assert _rollup_days(engine, site.id) == kept_days[1:]
    # Rollups outlive raw events: 20 April and 10 May keep their rows, and the worker
    # does not rebuild them from nothing (their dirty marks went with the events).
    assert _count(engine, d, d.c.site_id == site.id, d.c.day < date(2026, 5, 15)) == 0
    run_once(engine, NOW + timedelta(minutes=1))
    assert _rollup_days(engine, site.id) == kept_days[1:]
    assert _count(engine, r, r.c.site_id == site.id, r.c.day == date(2026, 4, 20)) > 1
    # The stored visits are per-visit detail: they go with the raw events.
    for t in (schema.rollup_visits, schema.rollup_visit_events):
        assert _count(engine, t, t.c.site_id == site.id, t.c.day < date(2026, 5, 15)) == 0
        assert _count(engine, t, t.c.site_id == site.id, t.c.day == date(2026, 6, 14)) > 0
    # A site with retention 0 keeps everything.
    assert _count(engine, e, e.c.site_id == other.id) == before_other


def test_purge_counts_then_deletes(engine: Engine, db_url: str,
                                   monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    site = run_demo(engine, DemoSpec("purge.example", days=8, events=800), now=NOW).site
    monkeypatch.setenv("DATABASE_URL", db_url)
    e = schema.events
    total = _count(engine, e)
    assert main(["purge", "--site", "purge.example", "--before", "2026-06-12"]) == 0
    assert "would delete" in capsys.readouterr().out
    assert _count(engine, e) == total                       # a dry run by default
    assert main(["purge", "--site", "purge.example", "--before", "2026-06-12", "--yes"]) == 0
    assert "deleted" in capsys.readouterr().out
    assert _count(engine, e, e.c.ts < datetime(2026, 6, 12)) == 0
    assert 0 < _count(engine, e) < total
    assert _days(engine, site.id)[0] == date(2026, 6, 12)
    assert main(["purge", "--site", "nope.example", "--before", "2026-06-12"]) == 2
    assert "no site" in capsys.readouterr().err


def test_purge_with_a_bad_date_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["purge", "--site", "x.example", "--before", "June"])
    assert exc.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_deleting_a_site_deletes_all_its_data(engine: Engine) -> None:
    run_demo(engine, DemoSpec("gone.example", days=2, events=300, noise_sites=1), now=NOW)
    with engine.begin() as conn:
        gone = require_site(conn, "gone.example")
        kept = require_site(conn, "demo-noise-1.example")
        for site in (gone, kept):
            add_goal(conn, site.id, page_path="/pricing", now=NOW)
            add_funnel(conn, site.id, "f", [FunnelStep("page", "/"),
                                            FunnelStep("page", "/pricing")], now=NOW)
            create_key(conn, site.id, "k", now=NOW)
            create_share_link(conn, site.id, now=NOW)
        add_user(conn, "owner@example.com", "a long password 123", now=NOW)
        grant_role(conn, "owner@example.com", "gone.example", "owner")
        grant_role(conn, "owner@example.com", "demo-noise-1.example", "owner")
    per_site = [t for t in schema.metadata.sorted_tables if "site_id" in t.c]
    for table in ("events", "daily_rollups", "rollup_visits", "rollup_visit_events", "goals",
                  "funnels", "api_keys", "share_links", "site_roles"):
        assert _count(engine, schema.metadata.tables[table],
                      schema.metadata.tables[table].c.site_id == gone.id) > 0, table
    with engine.begin() as conn:
        remove_site(conn, "gone.example")
    for table in per_site:
        assert _count(engine, table, table.c.site_id == gone.id) == 0, table.name
    for table in ("events", "daily_rollups", "goals", "funnels", "api_keys", "share_links"):
        t = schema.metadata.tables[table]
        assert _count(engine, t, t.c.site_id == kept.id) > 0, table


def test_salt_rotation_keeps_two_days_and_makes_tomorrows(engine: Engine) -> None:
    for offset in range(5):
        rotate_salts(engine, NOW + timedelta(days=offset))
    with engine.connect() as conn:
        days = sorted(r[0] for r in conn.execute(sa.select(schema.salts.c.day)))
    last = (NOW + timedelta(days=4)).date()
    assert days == [last - timedelta(days=1), last, last + timedelta(days=1)]


def test_worker_forgets_idle_visits(engine: Engine) -> None:
    with engine.begin() as conn:
        add_site(conn, "v.example")
        conn.execute(sa.insert(schema.visitor_sessions), [
            {"site_id": 1, "visitor_id": 1, "session_id": 11, "last_seen": NOW},
            {"site_id": 1, "visitor_id": 2, "session_id": 12,
             "last_seen": NOW - timedelta(minutes=61)}])
    results = run_once(engine, NOW)
    assert results["sessions"] == 1
    with engine.connect() as conn:
        left = [r[0] for r in conn.execute(sa.select(schema.visitor_sessions.c.visitor_id))]
    assert left == [1]


def test_purge_deletes_the_bot_counts_before_the_day(engine: Engine) -> None:
    from shared.jobs.retention import purge_before

    with engine.begin() as conn:
        site = add_site(conn, "bots.example", now=NOW)
        other = add_site(conn, "other.example", now=NOW)
        conn.execute(sa.insert(schema.bot_counts), [
            {"site_id": s.id, "day": day, "category": "ai_crawler", "family": "GPTBot",
             "count": 3}
            for s in (site, other) for day in (date(2026, 6, 10), date(2026, 6, 14))])
    purged = purge_before(engine, site, date(2026, 6, 12))
    b = schema.bot_counts
    assert _count(engine, b, b.c.site_id == site.id) == 1            # the 14th stays
    assert _count(engine, b, b.c.site_id == other.id) == 2            # another site's stay
    assert purged.other >= 1
