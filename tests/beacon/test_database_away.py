"""What the beacon does without its database, in process: sites and salts come from memory
or the copy in BEACON_DATA_DIR, the batch API authenticates from memory and says 503 when
it cannot, and batch retries are stored once (event uid or Idempotency-Key)."""

from __future__ import annotations

import dataclasses
import json
import re
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.engine import Engine

from beacon_app import state_of
from beacon_app.salt_cache import SaltCache
from shared.core.settings import Settings
from shared.ingest.salts import read_salts
from shared.sites import SiteDirectory, add_site, new_ingest_token, remove_site
from shared.storage import make_engine, write_transaction
from tests.beacon.helpers import CREATED, browser_headers, make_app, stored_events
from tests.beacon.server import free_port
from tests.conftest import FakeClock

EVENT = {"n": "pageview", "u": "https://example.com/", "d": "example.com"}


@pytest.fixture
def app(settings: Settings) -> Flask:
    return make_app(settings)


@pytest.fixture
def token(app: Flask) -> str:
    with write_transaction(state_of(app).engine) as conn:
        return new_ingest_token(conn, "example.com")


def _batch(app: Flask, token: str, events: list[Any], **headers: str) -> tuple[int, Any]:
    # A browser's user agent: the test client's own ("Werkzeug/...") is an HTTP library.
    resp = app.test_client().post("/api/events", json={"events": events},
                                  headers=browser_headers(Authorization=f"Bearer {token}",
                                                          **headers))
    return resp.status_code, resp.get_json()


def _pages(app: Flask) -> list[str]:
    return sorted(r["pathname"] for r in stored_events(app))


def test_a_batch_resent_with_the_same_idempotency_key_is_stored_once(
        app: Flask, token: str) -> None:
    events = [{**EVENT, "u": f"https://example.com/k{i}"} for i in range(3)]
    for _ in range(2):      # the answer was lost; the sender retries the same request
        assert _batch(app, token, events, **{"Idempotency-Key": "import-7"})[0] == 202
    assert _batch(app, token, events[:1], **{"Idempotency-Key": "import-8"})[0] == 202
    assert _pages(app) == ["/k0", "/k0", "/k1", "/k2"]   # another key: another event


def test_event_uids_from_the_sender_are_stored_once_across_requests(
        app: Flask, token: str) -> None:
    first = [{**EVENT, "u": "https://example.com/a", "uid": "order-1"},
             {**EVENT, "u": "https://example.com/b", "uid": 2}]
    assert _batch(app, token, first)[1]["accepted"] == 2
    again = [first[1], {**EVENT, "u": "https://example.com/c", "uid": "order-3"}]
    assert _batch(app, token, again)[0] == 202
    assert _pages(app) == ["/a", "/b", "/c"]


def test_without_uid_or_key_a_resent_batch_is_stored_twice(app: Flask, token: str) -> None:
    for _ in range(2):
        _batch(app, token, [EVENT])
    assert len(stored_events(app)) == 2      # documented: send a uid or a key to retry


@pytest.mark.parametrize("uid", ["", "x" * 201, "tab\there", 1.5, True, [1]])
def test_malformed_uids_are_refused_by_index(app: Flask, token: str, uid: object) -> None:
    status, body = _batch(app, token, [{**EVENT, "uid": uid}, EVENT])
    assert status == 202 and body["accepted"] == 1
    assert body["errors"] == [{"index": 0, "errors": [
        {"field": "uid", "message": "must be an integer or a string of 1 to 200 printable "
                                    "characters"}]}]


def test_malformed_idempotency_key_is_refused(app: Flask, token: str) -> None:
    status, body = _batch(app, token, [EVENT], **{"Idempotency-Key": "k" * 201})
    assert status == 400 and body["errors"][0]["field"] == "Idempotency-Key"
    assert stored_events(app) == []


def test_a_token_made_after_the_site_list_was_loaded_works_within_a_second(
        app: Flask) -> None:
    assert app.test_client().post("/api/event", json=EVENT,
                                  headers=browser_headers()).status_code == 202  # loads
    with write_transaction(state_of(app).engine) as conn:
        token = new_ingest_token(conn, "example.com")
    time.sleep(1.1)       # an unknown token reloads a copy older than a second, not newer
    assert _batch(app, token, [EVENT])[0] == 202


def _unreachable(settings: Settings) -> Settings:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/beacon"
    return dataclasses.replace(settings, database_url=url)


def test_a_beacon_started_without_its_database_serves_the_sites_it_knew(
        app: Flask, token: str, settings: Settings) -> None:
    assert _batch(app, token, [EVENT])[0] == 202            # the copy on disk is written
    state_of(app).close()
    away = make_app_without_site(_unreachable(settings))      # same BEACON_DATA_DIR
    client = away.test_client()
    hit = client.post("/api/event", json=EVENT, headers=browser_headers())
    assert hit.status_code == 202 and "X-Beacon-Drop" not in hit.headers
    assert _batch(away, token, [EVENT]) == (202, {"accepted": 1, "dropped": [],
                                                   "errors": []})
    unknown = client.post("/api/event", json={**EVENT, "d": "unknown.example",
                                              "u": "https://unknown.example/"},
                          headers=browser_headers())
    assert unknown.headers["X-Beacon-Drop"] == "unknown_site"
    health = client.get("/healthz").get_json()
    assert health["status"] == "degraded"
    assert health["lookups"]["sites"]["has_copy"] and not health["lookups"]["sites"]["ok"]
    assert health["lookups"]["salts"]["has_copy"]
    metrics = client.get("/metrics").get_data(as_text=True)
    assert re.search(r'^beacon_lookup_fresh\{lookup="sites"\} 0$', metrics, re.M)
    assert re.search(r'^beacon_lookup_refresh_failures_total\{lookup="sites"\} [1-9]',
                     metrics, re.M)
    assert "beacon_events_provisional_salt_total 0" in metrics   # today's salt was on disk
    assert state_of(away).writer.backlog == 2                     # waiting in the spool


def test_no_copy_at_all_batch_says_503_and_hits_are_dropped_as_unknown_site(
        settings: Settings) -> None:
    away = make_app_without_site(_unreachable(settings))
    resp = away.test_client().post("/api/events", json={"events": [EVENT]},
                                   headers={"Authorization": "Bearer bk_anything"})
    assert resp.status_code == 503 and int(resp.headers["Retry-After"]) > 0
    assert json.loads(resp.data)["errors"][0]["field"] == "request"
    # No site is known, so a hit is dropped as unknown_site - said, not hidden.
    hit = away.test_client().post("/api/event", json=EVENT, headers=browser_headers())
    assert hit.headers["X-Beacon-Drop"] == "unknown_site"


def make_app_without_site(settings: Settings) -> Flask:
    from beacon_app import create_app

    app = create_app(settings)
    CREATED.append(app)
    return app


def test_provisional_salt_is_shared_by_the_machine_and_offered_to_the_database(
        engine: Engine, tmp_path: Path) -> None:
    now = datetime(2026, 3, 10, 12, 0)
    unreachable = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/b")
    first, second = (SaltCache(unreachable, lambda: now, data_dir=tmp_path) for _ in "ab")
    assert not first.prepare()
    salt, previous = first.get(now)
    assert second.get(now) == (salt, previous)       # every process of this machine
    assert first.is_provisional(now.date())
    back = SaltCache(engine, lambda: now, data_dir=tmp_path)   # the database is back
    assert back.prepare()
    assert back.get(now)[0] == salt and not back.is_provisional(now.date())
    with engine.connect() as conn:
        assert read_salts(conn, now.date()) == (salt, None)
    unreachable.dispose()
    for cache in (first, second, back):
        cache.close()


def test_salts_kept_through_an_outage_still_go_after_48_hours(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 3, 10, 12, 0))
    days = [datetime(2026, 3, d).date() for d in (9, 10, 11)]
    (tmp_path / "salts.json").write_text(json.dumps({d.isoformat(): "ab" * 32 for d in days}))
    unreachable = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/b")
    cache = SaltCache(unreachable, clock.now, data_dir=tmp_path)
    clock.advance(days=2)                   # 12 March: only 11 March's is still allowed
    assert not cache.prepare()
    assert json.loads((tmp_path / "salts.json").read_text()) == {"2026-03-11": "ab" * 32}
    assert cache.get(clock.now())[1] == bytes.fromhex("ab" * 32)   # yesterday's, kept
    cache.close()
    unreachable.dispose()


def test_a_disk_copy_the_database_has_since_changed_is_not_served(
        app: Flask, settings: Settings) -> None:
    client = app.test_client()
    assert client.post("/api/event", json=EVENT, headers=browser_headers()).status_code == 202
    state_of(app).close()
    with write_transaction(state_of(app).engine) as conn:   # removed and added again
        old = remove_site(conn, "example.com")
        add_site(conn, "other.example")                     # (so the new id differs)
        site = add_site(conn, "example.com")
    assert site.id != old.id
    restarted = make_app_without_site(settings)             # finds the old copy on disk
    hit = restarted.test_client().post("/api/event", json=EVENT, headers=browser_headers())
    assert "X-Beacon-Drop" not in hit.headers
    assert [r["site_id"] for r in stored_events(restarted)] == [site.id]


def test_a_failed_refresh_takes_a_newer_copy_another_process_saved(
        engine: Engine, tmp_path: Path) -> None:
    unreachable = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/b")
    away = SiteDirectory(unreachable, file=tmp_path / "sites.json")   # nothing on disk yet
    assert away.by_domain("example.com") is None
    with write_transaction(engine) as conn:
        add_site(conn, "example.com")
    there = SiteDirectory(engine, file=tmp_path / "sites.json")
    assert there.refresh()                                   # saves its copy
    assert not away.refresh()                                # fails, reads that copy
    assert away.by_domain("example.com") == there.by_domain("example.com")
    for directory in (away, there):
        directory.close()
    unreachable.dispose()
