"""The beacon's endpoints, end to end on SQLite and PostgreSQL: each way of sending a
hit stores one fully enriched row; drops are counted; bad input gets a 4xx."""

from __future__ import annotations

import dataclasses
import json

import pytest
from flask import Flask

from shared.core.settings import Settings
from tests.beacon.helpers import (
    IPHONE_UA,
    browser_headers,
    drop_counts,
    make_app,
    stored_events,
)

PAGE = "https://www.example.com/pricing/?utm_source=newsletter&utm_medium=email&utm_campaign=spring&x=1"
REFERRER = "https://www.google.co.uk/search?q=analytics"


@pytest.fixture
def app(settings: Settings) -> Flask:
    return make_app(dataclasses.replace(settings, trusted_proxies=1))


ENRICHED = ("hostname", "pathname", "referrer_source", "channel", "country", "region", "city",
            "browser", "browser_version", "os", "os_version", "device", "language")


def _assert_enriched(row: dict) -> None:
    for column in ENRICHED:
        assert row[column], f"{column} is empty"
    assert row["visitor_id"] != 0 and row["session_id"] != 0
    assert row["hostname"] == "example.com"
    assert row["pathname"] == "/pricing"
    assert row["country"] == "GB" and row["city"]
    assert row["browser"] == "Chrome" and row["os"] == "Windows"
    assert row["device"] == "desktop" and row["language"] == "de"


def test_api_event_stores_one_enriched_row(app: Flask) -> None:
    body = json.dumps({"n": "pageview", "u": PAGE, "d": "example.com", "r": REFERRER})
    resp = app.test_client().post("/api/event", data=body, headers=browser_headers(),
                                  content_type="text/plain")
    assert resp.status_code == 202 and "X-Beacon-Drop" not in resp.headers
    [row] = stored_events(app)
    _assert_enriched(row)
    assert row["name"] == "pageview"
    assert row["utm_source"] == "newsletter" and row["utm_campaign"] == "spring"
    assert row["channel"] == "Email"
    assert row["referrer"].startswith("https://www.google.co.uk/search")


def test_pixel_stores_one_enriched_row(app: Flask) -> None:
    resp = app.test_client().get("/p.gif", query_string={"u": PAGE, "r": REFERRER},
                                 headers=browser_headers())
    assert resp.status_code == 200 and resp.mimetype == "image/gif"
    assert len(resp.data) == 43 and "no-store" in resp.headers["Cache-Control"]
    [row] = stored_events(app)
    _assert_enriched(row)


def test_pixel_page_falls_back_to_referer_header(app: Flask) -> None:
    resp = app.test_client().get("/p.gif", headers=browser_headers(Referer=PAGE))
    assert resp.status_code == 200
    [row] = stored_events(app)
    assert row["pathname"] == "/pricing"


def test_bare_beacon_uses_referer_and_answers_204(app: Flask) -> None:
    resp = app.test_client().get("/", headers=browser_headers(Referer=PAGE))
    assert resp.status_code == 204 and resp.data == b""
    [row] = stored_events(app)
    _assert_enriched(row)


def test_bare_beacon_without_referer_is_400_with_reason(app: Flask) -> None:
    resp = app.test_client().get("/", headers=browser_headers())
    assert resp.status_code == 400
    assert "Referer" in resp.headers["X-Beacon-Error"]
    assert stored_events(app) == []


def test_custom_event_with_props_and_revenue(app: Flask) -> None:
    body = {"name": "Purchase", "url": "https://example.com/checkout", "domain": "example.com",
            "props": json.dumps({"plan": "pro", "seats": 3, "nested": {"x": 1}}),
            "revenue": {"amount": "19.90", "currency": "eur"}}
    resp = app.test_client().post("/api/event", json=body, headers=browser_headers())
    assert resp.status_code == 202
    [row] = stored_events(app)
    assert row["name"] == "Purchase" and row["props"] == {"plan": "pro", "seats": "3"}
    assert row["revenue_amount"] == pytest.approx(19.9) and row["revenue_currency"] == "EUR"


def test_engagement_event_keeps_scroll_and_time(app: Flask) -> None:
    client = app.test_client()
    base = {"u": "https://example.com/a", "d": "example.com"}
    client.post("/api/event", json={"n": "pageview", **base}, headers=browser_headers())
    client.post("/api/event", json={"n": "engagement", "sd": 140, "e": 5300, **base},
                headers=browser_headers())
    rows = stored_events(app)
    assert [r["name"] for r in rows] == ["pageview", "engagement"]
    assert rows[1]["scroll_depth"] == 100 and rows[1]["engagement_ms"] == 5300
    assert rows[0]["session_id"] == rows[1]["session_id"]


def test_comma_separated_domains_store_one_event_per_site(app: Flask) -> None:
    from beacon_app import state_of
    from shared.sites import add_site

    with state_of(app).engine.begin() as conn:
        add_site(conn, "rollup.example.org", extra_hostnames=["example.com"])
    body = {"n": "pageview", "u": "https://example.com/", "d": "example.com,rollup.example.org"}
    app.test_client().post("/api/event", json=body, headers=browser_headers())
    rows = stored_events(app)
    assert len({r["site_id"] for r in rows}) == 2


@pytest.mark.parametrize(("headers", "body", "reason"), [
    ({"User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"},
     {}, "bot"),
    ({"User-Agent": "curl/8.5.0"}, {}, "bot"),
    ({"User-Agent": ""}, {}, "empty_user_agent"),
    ({"Sec-Purpose": "prefetch;prerender"}, {}, "prefetch"),
    ({}, {"wd": True}, "automation"),
    ({}, {"d": "unknown.example.net"}, "unknown_site"),
    ({}, {"u": "https://evil.example.net/"}, "hostname_not_allowed"),
    ({}, {"r": "https://semalt.com/page"}, "referrer_spam"),
    ({}, {"r": "https://sub.semalt.com/page"}, "referrer_spam"),
], ids=["googlebot", "curl", "empty-ua", "prefetch", "webdriver", "unknown-site",
        "foreign-hostname", "spam", "spam-subdomain"])
def test_policy_drops_answer_202_with_reason_and_are_counted(
        app: Flask, headers: dict, body: dict, reason: str) -> None:
    data = {"n": "pageview", "u": "https://example.com/", "d": "example.com", **body}
    resp = app.test_client().post("/api/event", json=data, headers=browser_headers(**headers))
    assert resp.status_code == 202
    assert resp.headers["X-Beacon-Drop"] == reason
    assert stored_events(app) == []
    assert drop_counts(app) == {reason: 1}


def test_spam_list_matches_hosts_not_substrings(app: Flask) -> None:
    data = {"n": "pageview", "u": "https://example.com/", "d": "example.com",
            "r": "https://notsemalt.com.example.org/"}
    resp = app.test_client().post("/api/event", json=data, headers=browser_headers())
    assert "X-Beacon-Drop" not in resp.headers


def test_ignored_ip_and_dnt_are_site_settings(settings: Settings) -> None:
    app = make_app(dataclasses.replace(settings, trusted_proxies=1),
                   ignored_ips=["81.2.69.0/24"], honor_dnt=True)
    client = app.test_client()
    data = {"n": "pageview", "u": "https://example.com/", "d": "example.com"}
    r1 = client.post("/api/event", json=data, headers=browser_headers())
    r2 = client.post("/api/event", json=data,
                     headers=browser_headers(**{"X-Forwarded-For": "8.8.8.8", "DNT": "1"}))
    r3 = client.post("/api/event", json=data,
                     headers=browser_headers(**{"X-Forwarded-For": "8.8.8.8"}))
    assert r1.headers["X-Beacon-Drop"] == "ignored_ip"
    assert r2.headers["X-Beacon-Drop"] == "do_not_track"
    assert "X-Beacon-Drop" not in r3.headers
    assert len(stored_events(app)) == 1


def test_client_ip_headers_are_not_trusted_without_proxies(settings: Settings) -> None:
    app = make_app(settings)   # trusted_proxies = 0
    data = {"n": "pageview", "u": "https://example.com/", "d": "example.com"}
    app.test_client().post("/api/event", json=data, headers=browser_headers())
    [row] = stored_events(app)
    assert row["country"] == ""   # the socket address (loopback) has no location


@pytest.mark.parametrize(("body", "field"), [
    (b"{not json", "body"),
    (b"\xff\xfe{}", "body"),
    (b"", "body"),
    (b"[]", "body"),
    (json.dumps({"u": "https://example.com/", "d": "example.com"}).encode(), "name"),
    (json.dumps({"n": "pageview", "d": "example.com"}).encode(), "url"),
    (json.dumps({"n": "pageview", "u": "https://example.com/"}).encode(), "domain"),
    (json.dumps({"n": "x" * 121, "u": "https://example.com/", "d": "example.com"}).encode(),
     "name"),
    (json.dumps({"n": "pageview", "u": "data:text/html,<script>", "d": "example.com"}).encode(),
     "url"),
    (json.dumps({"n": "pageview", "u": "https://example.com/" + "a" * 2000,
                 "d": "example.com"}).encode(), "url"),
    (json.dumps({"n": "p", "u": "https://example.com/", "d": "example.com",
                 "revenue": {"amount": 1, "currency": "XXXX"}}).encode(), "revenue.currency"),
    (json.dumps({"n": "p", "u": "https://example.com/", "d": "example.com",
                 "props": [1, 2]}).encode(), "props"),
    (json.dumps({"n": 5, "u": "https://example.com/", "d": "example.com"}).encode(), "name"),
    (b'{"n": "p", "u": "https://example.com/", "d": "example.com", "sd": NaN}', "body"),
    (b"[" * 100_000, "body"),
], ids=["invalid-json", "invalid-utf8", "empty", "not-object", "no-name", "no-url",
        "no-domain", "long-name", "data-url", "long-url", "bad-currency", "props-list",
        "name-not-string", "nan", "deep-nesting"])
def test_malformed_payloads_get_400_with_field_errors(app: Flask, body: bytes, field: str) -> None:
    resp = app.test_client().post("/api/event", data=body, content_type="text/plain",
                                  headers=browser_headers())
    assert resp.status_code == 400
    assert field in {e["field"] for e in resp.get_json()["errors"]}
    assert stored_events(app) == []


def test_oversized_body_is_413(app: Flask) -> None:
    body = json.dumps({"n": "p", "u": "https://example.com/", "d": "example.com",
                       "p": {"k": "v" * 70_000}})
    resp = app.test_client().post("/api/event", data=body, headers=browser_headers())
    assert resp.status_code in (400, 413)
    assert resp.get_json()["errors"]


def test_body_beyond_the_request_limit_is_413_and_the_next_event_is_kept(app: Flask) -> None:
    client = app.test_client()
    huge = b'{"n": "pageview", "u": "https://example.com/", "p": "' + b"x" * 6_000_000 + b'"}'
    resp = client.post("/api/event", data=huge, headers=browser_headers())
    assert resp.status_code == 413 and resp.get_json()["errors"][0]["field"] == "request"
    good = {"n": "pageview", "u": "https://example.com/ok", "d": "example.com"}
    assert client.post("/api/event", json=good, headers=browser_headers()).status_code == 202
    assert [r["pathname"] for r in stored_events(app)] == ["/ok"]


@pytest.mark.parametrize(("path", "allowed"), [("/api/event", "POST, OPTIONS"),
                                               ("/p.gif", "GET, HEAD, OPTIONS"),
                                               ("/", "GET, HEAD, OPTIONS")])
def test_hit_paths_answer_preflight_and_refuse_other_methods(app: Flask, path: str,
                                                             allowed: str) -> None:
    client = app.test_client()
    pre = client.options(path, headers={"Origin": "https://example.com",
                                        "Access-Control-Request-Method": "POST"})
    assert pre.status_code == 204 and pre.headers["Allow"] == allowed
    # CORS on the event endpoints only: the bare beacon is an <img> or a link's ping.
    assert pre.headers.get("Access-Control-Allow-Origin") == ("*" if path != "/" else None)
    for method in ("PUT", "DELETE", "PATCH", "GET" if path == "/api/event" else "POST"):
        resp = client.open(path, method=method, headers=browser_headers(Referer=PAGE))
        assert resp.status_code == 405, method
        assert resp.headers["Allow"] == allowed
        assert resp.get_json()["errors"][0]["field"] == "request"
        assert resp.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert stored_events(app) == []


def test_head_of_the_pixel_has_the_headers_and_no_body(app: Flask) -> None:
    resp = app.test_client().head("/p.gif", query_string={"u": PAGE},
                                  headers=browser_headers())
    assert resp.status_code == 200 and resp.data == b""
    assert resp.headers["Content-Type"] == "image/gif"
    assert resp.headers["Cache-Control"].startswith("no-store")


def test_nul_bytes_and_hostile_strings_are_stored_as_text(app: Flask) -> None:
    body = {"n": "Sign\x00up", "u": "https://example.com/<script>alert(1)</script>\x00",
            "d": "example.com", "p": {"x\x00": "<img src=x onerror=alert(1)>\x00"}}
    resp = app.test_client().post("/api/event", json=body, headers=browser_headers())
    assert resp.status_code == 202
    [row] = stored_events(app)
    assert row["name"] == "Signup"
    assert "\x00" not in row["pathname"] and "<script>" in row["pathname"]
    assert row["props"] == {"x": "<img src=x onerror=alert(1)>"}


def test_bad_event_next_to_good_ones_does_not_block_them(app: Flask) -> None:
    client = app.test_client()
    good = {"n": "pageview", "u": "https://example.com/", "d": "example.com"}
    for i in range(20):
        body = json.dumps(good).encode() if i % 2 else b'{"n": "\xff'
        client.post("/api/event", data=body, headers=browser_headers())
    assert len(stored_events(app)) == 10


def test_cors_only_on_event_endpoints(app: Flask) -> None:
    client = app.test_client()
    pre = client.options("/api/event", headers={"Origin": "https://example.com",
                                                "Access-Control-Request-Method": "POST"})
    assert pre.status_code in (200, 204) and pre.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Origin" not in client.get("/healthz").headers


def test_mobile_device_detected(app: Flask) -> None:
    body = {"n": "pageview", "u": "https://example.com/", "d": "example.com"}
    app.test_client().post("/api/event", json=body,
                           headers=browser_headers(**{"User-Agent": IPHONE_UA}))
    [row] = stored_events(app)
    assert row["device"] == "mobile" and row["os"] == "iOS"
    assert IPHONE_UA not in json.dumps(row, default=str)  # the raw UA is never stored


@pytest.mark.parametrize(("width", "expected"), [
    (390, "mobile"), (575, "mobile"), (576, "tablet"), (991, "tablet"), (992, "laptop"),
    (1439, "laptop"), (1440, "desktop"), (3840, "desktop"), (None, ""), (0, ""),
    (-1, ""), (10**9, "desktop"),     # clamped into 0..100,000 as `sd` is into 0..100
], ids=str)
def test_the_window_width_is_stored_as_its_screen_size_class(app: Flask, width: int | None,
                                                             expected: str) -> None:
    body = {"n": "pageview", "u": "https://example.com/", "d": "example.com"}
    if width is not None:
        body["w"] = width
    resp = app.test_client().post("/api/event", json=body, headers=browser_headers())
    assert resp.status_code == 202
    [row] = stored_events(app)
    assert row["screen_size"] == expected


@pytest.mark.parametrize("width", ["wide", True, [1280], "NaN"], ids=str)
def test_a_width_that_is_no_width_is_refused_with_its_reason(app: Flask, width: object) -> None:
    body = {"n": "pageview", "u": "https://example.com/", "d": "example.com", "w": width}
    resp = app.test_client().post("/api/event", json=body, headers=browser_headers())
    assert resp.status_code == 400
    assert any(e["field"] == "w" for e in resp.get_json()["errors"])
    assert stored_events(app) == []
