"""The authenticated batch API, /healthz and /metrics."""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask

from beacon_app import create_app, state_of
from shared.core.settings import Settings, load_settings
from shared.sites import new_ingest_token
from shared.storage import write_transaction
from tests.beacon.helpers import CREATED, IPHONE_UA, browser_headers, make_app, stored_events
from tests.beacon.server import free_port


@pytest.fixture
def app(settings: Settings) -> Flask:
    return make_app(dataclasses.replace(settings, trusted_proxies=1))


@pytest.fixture
def token(app: Flask) -> str:
    with write_transaction(state_of(app).engine) as conn:   # as the CLI does
        return new_ingest_token(conn, "example.com")


def test_batch_requires_the_sites_token(app: Flask, token: str) -> None:
    client = app.test_client()
    body = {"events": [{"n": "pageview", "u": "https://example.com/", "d": "example.com"}]}
    assert client.post("/api/events", json=body).status_code == 401
    assert client.post("/api/events", json=body,
                       headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = client.post("/api/events", json=body,
                     headers=browser_headers(Authorization=f"Bearer {token}"))
    assert ok.status_code == 202 and ok.get_json()["accepted"] == 1


def test_batch_may_set_ip_ua_and_past_timestamp(app: Flask, token: str) -> None:
    past = datetime.now(UTC) - timedelta(days=3)
    body = {"events": [{"n": "pageview", "u": "https://example.com/import", "d": "example.com",
                        "ip": "81.2.69.142", "user_agent": IPHONE_UA,
                        "timestamp": past.isoformat()}]}
    resp = app.test_client().post("/api/events", json=body,
                                  headers={"Authorization": f"Bearer {token}"})
    assert resp.get_json() == {"accepted": 1, "dropped": [], "errors": []}
    [row] = stored_events(app)
    assert row["country"] == "GB" and row["device"] == "mobile"
    assert abs(row["ts"] - past.replace(tzinfo=None)) < timedelta(seconds=1)


def test_public_endpoint_ignores_ip_ua_timestamp_fields(app: Flask) -> None:
    body = {"n": "pageview", "u": "https://example.com/", "d": "example.com",
            "ip": "8.8.8.8", "user_agent": IPHONE_UA, "timestamp": "2020-01-01T00:00:00Z"}
    app.test_client().post("/api/event", json=body, headers=browser_headers())
    [row] = stored_events(app)
    assert row["device"] == "desktop" and row["country"] == "GB"
    assert row["ts"].year >= 2026


def test_batch_reports_errors_by_index_and_keeps_good_events(app: Flask, token: str) -> None:
    good = {"n": "pageview", "u": "https://example.com/", "d": "example.com",
            "user_agent": IPHONE_UA}
    body = {"events": [good, {"n": "pageview"}, good, {**good, "timestamp": "soon"},
                       {**good, "d": "other.example.org"}, {**good, "user_agent": "curl/8"}]}
    resp = app.test_client().post("/api/events", json=body,
                                  headers={"Authorization": f"Bearer {token}"})
    data = resp.get_json()
    assert resp.status_code == 202 and data["accepted"] == 2
    assert [e["index"] for e in data["errors"]] == [1, 3, 4]
    assert data["dropped"] == [{"index": 5, "reasons": ["bot"]}]
    assert len(stored_events(app)) == 2


@pytest.mark.parametrize("events", [[], "x", [{}] * 501], ids=["empty", "not-list", "too-many"])
def test_batch_shape_errors(app: Flask, token: str, events: object) -> None:
    resp = app.test_client().post("/api/events", json={"events": events},
                                  headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 400 and resp.get_json()["errors"][0]["field"] == "events"


def test_healthz_reports_database_and_spool(app: Flask) -> None:
    data = app.test_client().get("/healthz").get_json()
    assert data["database"] == "ok" and data["status"] == "ok"
    assert data["backlog"] == 0


def test_metrics_count_accepted_written_and_drops(app: Flask) -> None:
    client = app.test_client()
    body = {"n": "pageview", "u": "https://example.com/", "d": "example.com"}
    client.post("/api/event", json=body, headers=browser_headers())
    client.post("/api/event", json=body, headers=browser_headers(**{"User-Agent": "curl/8"}))
    client.post("/api/event", data=b"{", headers=browser_headers())
    stored_events(app)
    text = client.get("/metrics").get_data(as_text=True)
    assert "beacon_events_accepted_total 1" in text
    assert "beacon_events_written_total 1" in text
    assert 'beacon_events_dropped_total{reason="bot"} 1' in text
    assert "beacon_payload_errors_total 1" in text
    assert "beacon_flush_seconds_count 1" in text


def test_healthz_names_no_database_host_when_the_database_is_down(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """/healthz is public: it says "unavailable", the driver's message (host, port, user)
    goes to the log only."""
    port = free_port()    # nothing listens there
    settings = load_settings({}, data_dir=str(tmp_path / "data"), flush_interval_ms=20,
                             database_url=f"postgresql://beacon_user@127.0.0.1:{port}/stats")
    app = create_app(settings)
    CREATED.append(app)
    caplog.set_level(logging.WARNING)
    resp = app.test_client().get("/healthz")
    assert resp.status_code == 200
    data = resp.get_json()
    assert data["status"] == "degraded" and data["database"] == "unavailable"
    for private in (str(port), "127.0.0.1", "beacon_user", "stats"):
        assert private not in resp.get_data(as_text=True)
    assert any(str(port) in r.getMessage() and "healthz" in r.getMessage()
               for r in caplog.records)
