"""Visitor ids and sessions: 30 minutes of inactivity, midnight salt rotation, and
agreement between several beacon processes writing to one database."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask

from beacon_app import create_app, state_of
from shared import schema
from shared.salts import delete_old_salts
from shared.settings import Settings
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
