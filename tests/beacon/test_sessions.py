"""Visitor ids and sessions: 30 minutes of inactivity, midnight salt rotation, and
agreement between several beacon processes writing to one database."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import Engine

from beacon_app import create_app, state_of
from beacon_app.sessions import assign_sessions
from shared.core import schema
from shared.core.records import Event
from shared.core.settings import Settings
from shared.ingest.salts import delete_old_salts
from shared.sites import add_site
from shared.storage import write_transaction
from tests.beacon.helpers import CREATED, IPHONE_UA, browser_headers, make_app, stored_events
from tests.conftest import FakeClock

PAGE = {"n": "pageview", "u": "https://example.com/", "d": "example.com"}


def _hit(app: Flask, path: str = "/", **headers: str) -> None:
    body = {**PAGE, "u": f"https://example.com{path}"}
    resp = app.test_client().post("/api/event", json=body, headers=browser_headers(**headers))
    assert resp.status_code == 202 and "X-Beacon-Drop" not in resp.headers


def test_same_visitor_within_30_minutes_is_one_visit(settings: Settings, clock: FakeClock) -> None:
    app = make_app(dataclasses.replace(settings, trusted_proxies=1), clock=clock.now)
    _hit(app, "/a")
    clock.advance(minutes=29)
    _hit(app, "/b")
    clock.advance(minutes=31)
    _hit(app, "/c")
    _hit(app, "/d", **{"User-Agent": IPHONE_UA})      # another person
    rows = stored_events(app)
    assert len({r["visitor_id"] for r in rows[:3]}) == 1
    assert rows[0]["session_id"] == rows[1]["session_id"] != rows[2]["session_id"]
    assert rows[3]["visitor_id"] != rows[2]["visitor_id"]


def test_visit_continues_across_midnight_salt_rotation(settings: Settings) -> None:
    clock = FakeClock(datetime(2026, 3, 10, 23, 50))
    app = make_app(dataclasses.replace(settings, trusted_proxies=1), clock=clock.now)
    _hit(app, "/before-midnight")
    clock.advance(minutes=20)                           # 00:10 the next day: new salt
    _hit(app, "/after-midnight")
    clock.advance(hours=2)
    _hit(app, "/much-later")
    rows = stored_events(app)
    assert rows[0]["session_id"] == rows[1]["session_id"]
    assert rows[0]["visitor_id"] == rows[1]["visitor_id"]
    assert rows[2]["visitor_id"] != rows[1]["visitor_id"]  # a new day, a new hash


def test_salts_rotate_daily_and_are_deleted_after_48_hours(settings: Settings) -> None:
    clock = FakeClock(datetime(2026, 3, 10, 9, 0))
    app = make_app(dataclasses.replace(settings, trusted_proxies=1), clock=clock.now)
    engine = state_of(app).engine
    for _ in range(4):
        _hit(app)
        clock.advance(days=1)
    with write_transaction(engine) as conn:
        before = sorted(r.day for r in conn.execute(sa.select(schema.salts.c.day)))
        delete_old_salts(conn, clock.now())          # 2026-03-14 09:00
        days = sorted(r.day for r in conn.execute(sa.select(schema.salts.c.day)))
    assert [d.isoformat() for d in before] == ["2026-03-10", "2026-03-11", "2026-03-12",
                                              "2026-03-13"]
    assert days[0].isoformat() == "2026-03-13"       # yesterday's is the oldest kept
    assert len({r["visitor_id"] for r in stored_events(app)}) == 4


def test_two_beacon_processes_agree_on_sessions(settings: Settings, clock: FakeClock) -> None:
    s = dataclasses.replace(settings, trusted_proxies=1)
    first = make_app(s, clock=clock.now)
    second = create_app(dataclasses.replace(s, spool_dir=s.resolved_spool_dir + "-2"),
                        clock=clock.now)
    CREATED.append(second)
    for i in range(6):
        _hit(first if i % 2 else second, f"/p{i}")
        state_of(first).writer.flush()
        state_of(second).writer.flush()
        clock.advance(minutes=5)
    rows = stored_events(first)
    assert len(rows) == 6
    assert len({r["session_id"] for r in rows}) == 1


def test_session_ids_are_consistent_within_one_batch(settings: Settings, clock: FakeClock) -> None:
    app = make_app(dataclasses.replace(settings, trusted_proxies=1), clock=clock.now)
    state_of(app).writer.batch_size = 10_000       # all hits land in one write
    for i in range(5):
        _hit(app, f"/p{i}")
        clock.advance(minutes=10)
    clock.advance(minutes=40)
    _hit(app, "/later")
    rows = stored_events(app)
    assert len({r["session_id"] for r in rows[:5]}) == 1
    assert rows[5]["session_id"] != rows[0]["session_id"]


def test_no_ip_or_user_agent_is_stored_anywhere(settings: Settings) -> None:
    app = make_app(dataclasses.replace(settings, trusted_proxies=1))
    _hit(app)
    stored_events(app)
    with state_of(app).engine.connect() as conn:
        for table in schema.metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                text = repr(tuple(row))
                assert "81.2.69.142" not in text and "Chrome/124" not in text, table.name
    spool = state_of(app).writer.spool
    for seg in spool.dir.glob("*.seg"):
        assert b"81.2.69.142" not in seg.read_bytes()
    assert timedelta(minutes=30) == state_of(app).session_timeout


def test_large_batch_continues_stored_visits_and_stores_the_latest(engine: Engine) -> None:
    """One write of 1,200 visitors (more than one lookup chunk) over two sites: a stored
    live visit continues, a stored stale one and an unknown visitor start new visits, a
    previous-salt hash continues its visit; what is stored reads back as written."""
    now = datetime(2026, 3, 10, 12, 0)
    with write_transaction(engine) as conn:
        site_a = add_site(conn, "a.example.com").id
        site_b = add_site(conn, "b.example.org").id
        conn.execute(schema.visitor_sessions.insert(), [
            {"site_id": site_a, "visitor_id": v, "session_id": 10_000 + v,
             "last_seen": now - timedelta(minutes=10 if v % 3 == 0 else 45)}
            for v in range(1, 1201)] + [
            {"site_id": site_b, "visitor_id": 7, "session_id": 777,
             "last_seen": now - timedelta(minutes=5)}])
    events = [Event(site_id=site_a, ts=now + timedelta(seconds=v % 7), name="pageview",
                    visitor_id=v) for v in range(1, 1201)]
    events += [Event(site_id=site_a, ts=now + timedelta(minutes=1), name="pageview",
                     visitor_id=-(2**63) + 5),           # never seen: a new visit
               Event(site_id=site_b, ts=now, name="pageview", visitor_id=2**63 - 1,
                     visitor_id_prev=7)]                 # crosses midnight on site b
    with write_transaction(engine) as conn:
        assign_sessions(conn, events, timedelta(minutes=30))
    for ev in events[:1200]:
        if ev.visitor_id % 3 == 0:
            assert ev.session_id == 10_000 + ev.visitor_id
        else:
            assert ev.session_id not in (0, 10_000 + ev.visitor_id)
    assert events[1200].session_id not in (0, *(e.session_id for e in events[:1200]))
    assert (events[1201].visitor_id, events[1201].session_id) == (7, 777)
    with engine.connect() as conn:
        stored = {(r.site_id, r.visitor_id): (r.session_id, r.last_seen)
                  for r in conn.execute(sa.select(schema.visitor_sessions))}
    assert len(stored) == 1202
    for ev in events:
        assert stored[(ev.site_id, ev.visitor_id)] == (ev.session_id, ev.ts)
