"""The batch API hashes every event with a key of its own UTC day: a visitor sent with the
same IP and user agent on several days gets a different id on each day (SECURITY.md:
nobody can "follow a visitor from one day to the next"), and the same id within a day."""

from __future__ import annotations

import dataclasses
import secrets
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from beacon_app import state_of
from beacon_app.enrichment.visitor import visitor_id
from shared.core import schema
from shared.core.settings import Settings
from shared.sites import new_ingest_token
from shared.storage import write_transaction
from tests.beacon.helpers import IPHONE_UA, LONDON_IP, browser_headers, make_app, stored_events
from tests.conftest import FakeClock

NOW = datetime(2026, 6, 10, 15, 0)


@pytest.fixture
def app(settings: Settings) -> Flask:
    clock = FakeClock(NOW)
    return make_app(dataclasses.replace(settings, trusted_proxies=1), clock=clock.now)


@pytest.fixture
def token(app: Flask) -> str:
    with write_transaction(state_of(app).engine) as conn:
        return new_ingest_token(conn, "example.com")


def _store_salt(app: Flask, day: datetime) -> bytes:
    salt = secrets.token_bytes(32)
    with write_transaction(state_of(app).engine) as conn:
        conn.execute(sa.insert(schema.salts).values(day=day.date(), salt=salt, created_at=NOW))
    return salt


def _stored_salt(app: Flask, day: datetime) -> bytes:
    with state_of(app).engine.connect() as conn:
        return bytes(conn.execute(sa.select(schema.salts.c.salt)
                                  .where(schema.salts.c.day == day.date())).scalar_one())


def _send(app: Flask, token: str, times: dict[str, datetime]) -> None:
    events = [{"n": "pageview", "u": f"https://example.com/{name}", "d": "example.com",
               "ip": LONDON_IP, "user_agent": IPHONE_UA, "timestamp": ts.isoformat() + "Z"}
              for name, ts in times.items()]
    resp = app.test_client().post("/api/events", json={"events": events},
                                  headers={"Authorization": f"Bearer {token}"})
    assert resp.get_json() == {"accepted": len(events), "dropped": [], "errors": []}


def _ids(app: Flask) -> dict[str, int]:
    return {row["pathname"].strip("/"): row["visitor_id"] for row in stored_events(app)}


def test_each_day_gets_its_own_visitor_id(app: Flask, token: str) -> None:
    yesterday_salt = _store_salt(app, NOW - timedelta(days=1))
    days_ago = {n: NOW - timedelta(days=n) for n in range(2, 12)}
    times = {f"d{n}": ts for n, ts in days_ago.items()}
    times |= {"yesterday": NOW - timedelta(days=1), "today": NOW - timedelta(hours=2),
              "d5-later": days_ago[5] + timedelta(hours=3)}
    _send(app, token, times)
    # the same person, live, today
    app.test_client().post("/api/event", json={"n": "pageview", "d": "example.com",
                                               "u": "https://example.com/live"},
                           headers=browser_headers(**{"User-Agent": IPHONE_UA}))
    ids = _ids(app)
    per_day = [ids[f"d{n}"] for n in days_ago] + [ids["yesterday"], ids["today"]]
    assert len(set(per_day)) == len(per_day), "two days share a visitor id"
    assert ids["d5-later"] == ids["d5"], "one day, one id"
    assert ids["today"] == ids["live"], "today's events join today's live visitors"
    site_id = stored_events(app)[0]["site_id"]
    assert ids["yesterday"] == visitor_id(yesterday_salt, site_id, LONDON_IP, IPHONE_UA)
    today_salt = _stored_salt(app, NOW)
    for day in days_ago:   # no stored salt: keys of the request, none of them a stored one
        for salt in (today_salt, yesterday_salt):
            assert ids[f"d{day}"] != visitor_id(salt, site_id, LONDON_IP, IPHONE_UA)


def test_a_day_without_a_stored_salt_is_not_linked_across_requests(app: Flask,
                                                                   token: str) -> None:
    old = NOW - timedelta(days=20)
    _send(app, token, {"first": old})
    _send(app, token, {"second": old + timedelta(hours=1)})
    ids = _ids(app)
    assert ids["first"] != ids["second"]


def test_a_stored_salt_of_an_older_day_is_used(app: Flask, token: str) -> None:
    """Housekeeping deletes salts after 48 hours; until it has, the day's salt exists and
    a back-dated event joins that day's visitors."""
    day = NOW - timedelta(days=4)
    salt = _store_salt(app, day)
    _send(app, token, {"a": day, "b": day + timedelta(minutes=90)})
    ids = _ids(app)
    site_id = stored_events(app)[0]["site_id"]
    assert ids["a"] == ids["b"] == visitor_id(salt, site_id, LONDON_IP, IPHONE_UA)
