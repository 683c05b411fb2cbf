"""The demo generator: exact counts, determinism, idempotency, realistic shapes."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from shared.core import schema
from shared.demo.run import DemoSpec, check_spec, run_demo
from shared.sites import get_site

NOW = datetime(2026, 3, 10, 15, 30)   # a Tuesday, 16:30 in Berlin
E = schema.events


def _demo(engine: Engine, **kw: object) -> dict[str, int]:
    spec = DemoSpec(**{"domain": "demo.test", "days": 14, "events": 4000, "seed": 7,
                       "timezone": "Europe/Berlin", **kw})  # type: ignore[arg-type]
    return run_demo(engine, spec, now=NOW, rebuild=False).events


def _fingerprint(engine: Engine) -> str:
    cols = [c for c in E.c if c.name != "id"]
    with engine.connect() as conn:
        rows = conn.execute(sa.select(*cols).order_by(E.c.uid)).all()
    return hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()


def _count(engine: Engine, *where: sa.ColumnElement[bool]) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).select_from(E).where(*where)) or 0)


def test_exact_counts_and_noise_sites(engine: Engine) -> None:
    written = _demo(engine, noise_sites=2)
    assert written == {"demo.test": 4000, "demo-noise-1.example": 200,
                       "demo-noise-2.example": 200}
    with engine.connect() as conn:
        site = get_site(conn, "demo.test")
        goals = conn.scalars(sa.select(schema.goals.c.display_name)
                             .where(schema.goals.c.site_id == site.id)).all()  # type: ignore[union-attr]
    assert site is not None and site.timezone == "Europe/Berlin"
    assert _count(engine, E.c.site_id == site.id) == 4000
    assert set(goals) >= {"Signup", "Download", "Purchase", "Visit /pricing"}
    assert _count(engine, E.c.ts > NOW) == 0


def test_deterministic_and_idempotent(engine: Engine) -> None:
    _demo(engine)
    first = _fingerprint(engine)
    assert _demo(engine) == {"demo.test": 0}          # same spec again: nothing added
    assert _fingerprint(engine) == first
    with engine.begin() as conn:
        conn.execute(E.delete())
    _demo(engine)
    assert _fingerprint(engine) == first
    with engine.begin() as conn:
        conn.execute(E.delete())
    _demo(engine, seed=8)
    assert _fingerprint(engine) != first


def test_a_later_run_fills_in_only_the_new_days(engine: Engine) -> None:
    _demo(engine)
    spec = DemoSpec(domain="demo.test", days=14, events=4000, seed=7, timezone="Europe/Berlin")
    later = run_demo(engine, spec, now=NOW + timedelta(days=2), rebuild=False).events
    assert 0 < later["demo.test"] < 1000          # two new days, not another 4000 events
    assert _count(engine, E.c.ts > NOW + timedelta(hours=1)) == later["demo.test"]


def _visits(engine: Engine) -> dict[int, list[sa.Row]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(E).order_by(E.c.ts, E.c.uid)).all()
    by_session: dict[int, list[sa.Row]] = defaultdict(list)
    for row in rows:
        by_session[row.session_id].append(row)
    return by_session


def test_sessions_are_consistent_and_bounce_share_is_realistic(engine: Engine) -> None:
    _demo(engine, events=6000)
    visits = _visits(engine)
    bounces = 0
    for events in visits.values():
        assert len({e.visitor_id for e in events}) == 1
        assert len({(e.country, e.device, e.browser) for e in events}) == 1
        # only the landing page carries the source; later pages came from inside the site
        assert {e.referrer_source for e in events[1:]} - {events[0].referrer_source} <= {""}
        gaps = [b.ts - a.ts for a, b in zip(events, events[1:], strict=False)]
        assert all(g <= timedelta(minutes=30) for g in gaps)
        pageviews = [e for e in events if e.name == "pageview"]
        assert events[0].name == "pageview"
        interactive = [e for e in events if e.name != "pageview" and e.interactive]
        bounces += len(pageviews) == 1 and not interactive
    share = bounces / len(visits)
    assert 0.40 <= share <= 0.60, share
    # visits of one visitor on one day never overlap within the 30-minute rule
    by_visitor: dict[int, list[list[sa.Row]]] = defaultdict(list)
    for events in visits.values():
        by_visitor[events[0].visitor_id].append(events)
    for sessions in by_visitor.values():
        sessions.sort(key=lambda ev: ev[0].ts)
        for a, b in zip(sessions, sessions[1:], strict=False):
            assert b[0].ts - a[-1].ts > timedelta(minutes=30)


def test_daily_and_weekly_cycles_in_site_timezone(engine: Engine) -> None:
    _demo(engine, events=20000, days=28)
    tz = ZoneInfo("Europe/Berlin")
    with engine.connect() as conn:
        stamps = conn.scalars(sa.select(E.c.ts).where(E.c.name == "pageview")).all()
    local = [ts.replace(tzinfo=ZoneInfo("UTC")).astimezone(tz) for ts in stamps]
    hours = Counter(t.hour for t in local)
    assert hours[3] * 5 < hours[11]
    weekday = Counter(t.weekday() for t in local if t.date() < NOW.date())
    assert (weekday[1] + weekday[2]) / 2 > 1.3 * (weekday[5] + weekday[6]) / 2


def test_custom_events_props_and_revenue(engine: Engine) -> None:
    _demo(engine, events=20000)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(E.c.name, E.c.props, E.c.revenue_amount,
                                      E.c.revenue_currency, E.c.engagement_ms,
                                      E.c.scroll_depth, E.c.interactive)).all()
    names = Counter(r.name for r in rows)
    assert names["pageview"] > names["engagement"] > names["Download"] > names["Purchase"] > 0
    for r in rows:
        if r.name == "Purchase":
            assert r.revenue_amount > 0 and r.revenue_currency in ("EUR", "USD")
            assert r.props["plan"] in ("pro", "team")
        else:
            assert r.revenue_amount is None and r.revenue_currency is None
        if r.name == "Signup":
            assert r.props["plan"] in ("free", "pro", "team")
        if r.name == "engagement":
            assert not r.interactive and r.engagement_ms > 0 and 0 <= r.scroll_depth <= 100
        else:
            assert r.interactive and r.engagement_ms is None and r.scroll_depth is None


def test_stored_times_compare_like_sqlalchemy_writes(engine: Engine) -> None:
    """Bulk-written timestamps must order and compare like ones bound by SQLAlchemy."""
    _demo(engine, events=2000, days=3)
    cut = NOW - timedelta(days=1, hours=3)
    with engine.connect() as conn:
        stamps = conn.scalars(sa.select(E.c.ts)).all()
    assert all(isinstance(ts, datetime) for ts in stamps)
    assert _count(engine, E.c.ts >= cut) == sum(ts >= cut for ts in stamps)


@pytest.mark.parametrize("field,value", [("days", 0), ("events", -1), ("noise_sites", 99),
                                         ("seed", -3)], ids=["days", "events", "noise", "seed"])
def test_bad_spec_is_one_line_error(field: str, value: int) -> None:
    with pytest.raises(ValueError, match=field.replace("_", "-")):
        check_spec(DemoSpec(domain="demo.test", **{field: value}))  # type: ignore[arg-type]
