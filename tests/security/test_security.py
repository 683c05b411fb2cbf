"""Security at the beacon: headers on every response, the Host allow-list, the per-IP rate
limit (not bypassed by a spoofed X-Forwarded-For), and logs without IPs or user agents."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from beacon_app import state_of
from beacon_app.security import ResponseHeaders, host_allowed
from shared.core.settings import load_settings
from tests.beacon.helpers import CHROME_UA, make_app, stored_events

EVENT = json.dumps({"n": "pageview", "u": "https://example.com/a", "d": "example.com"})
VISITOR_IP = "203.0.113.77"
VISITOR_UA = "Mozilla/5.0 (X11; Linux x86_64) RareAgent/9.9.9 Chrome/126.0 Safari/537.36"

REQUESTS = [
    ("POST", "/api/event", EVENT),
    ("POST", "/api/event", "{not json"),
    ("GET", "/p.gif?u=https://example.com/x&d=example.com", None),
    ("GET", "/", None),
    ("GET", "/script.js", None),
    ("GET", "/js/script.outbound-links.js", None),
    ("GET", "/healthz", None),
    ("GET", "/metrics", None),
    ("GET", "/nope", None),
    ("POST", "/api/events", "[]"),
    ("POST", "/api/v2/query", "{}"),
    ("GET", "/api/v2/openapi.json", None),
]


def _client(tmp_path: Path, **overrides: object) -> FlaskClient:
    settings = load_settings({}, data_dir=str(tmp_path / "data"),
                             database_url=f"sqlite:///{tmp_path / 'b.db'}",
                             flush_interval_ms=20, **overrides)
    from shared.storage import migrate

    migrate(settings.resolved_database_url)
    return make_app(settings).test_client()


@pytest.mark.parametrize(("method", "path", "body"), REQUESTS,
                         ids=[f"{m} {p[:30]}" for m, p, _ in REQUESTS])
def test_every_response_has_security_headers(tmp_path: Path, method: str, path: str,
                                             body: str | None) -> None:
    client = _client(tmp_path)
    resp = client.open(path, method=method, data=body,
                       headers={"User-Agent": CHROME_UA, "Referer": "https://example.com/r"})
    assert resp.status_code < 500
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert resp.headers["X-Frame-Options"] == "DENY"
    if path.split("?")[0].endswith(".js"):
        assert "Content-Security-Policy" not in resp.headers
        assert resp.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    else:
        assert resp.headers["Content-Security-Policy"].startswith("default-src 'none'")
    if path.split("?")[0] in ("/healthz", "/metrics", "/api/v2/openapi.json"):
        assert resp.headers["Cross-Origin-Resource-Policy"] == "same-origin"


def _headers_from(path: str, own: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: list[list[tuple[str, str]]] = []

    def app(environ: dict, start_response):  # noqa: ANN001, ANN202 - a bare WSGI app
        start_response("200 OK", list(own))
        return [b""]

    def start_response(status: str, headers: list[tuple[str, str]], exc_info=None):  # noqa: ANN001, ANN202
        seen.append(headers)

    ResponseHeaders(app)({"PATH_INFO": path}, start_response)
    return seen[0]


def test_header_middleware_keeps_what_the_view_set_and_adds_cors_only_to_event_paths() -> None:
    own = [("content-security-policy", "default-src 'self'"), ("Content-Type", "text/plain")]
    headers = _headers_from("/api/event", own)
    names = [name.lower() for name, _ in headers]
    assert names.count("content-security-policy") == 1          # the view's, not replaced
    assert dict(headers)["content-security-policy"] == "default-src 'self'"
    assert dict(headers)["Access-Control-Allow-Origin"] == "*"
    assert dict(headers)["Cross-Origin-Resource-Policy"] == "cross-origin"
    other = dict(_headers_from("/healthz", []))
    assert "Access-Control-Allow-Origin" not in other
    assert other["Cross-Origin-Resource-Policy"] == "same-origin"
    assert other["X-Content-Type-Options"] == "nosniff"
    script = dict(_headers_from("/js/script.hash.js", []))
    assert "Content-Security-Policy" not in script
    assert script["Cross-Origin-Resource-Policy"] == "cross-origin"


@pytest.mark.parametrize(("host", "allowed", "ok"), [
    ("stats.example.com", "stats.example.com", True),
    ("STATS.example.com:8000", "stats.example.com", True),
    ("a.example.com", "*.example.com", True),
    ("example.com", "*.example.com", False),
    ("evil.com", "stats.example.com,*.example.com", False),
    ("stats.example.com.evil.com", "stats.example.com", False),
    ("[::1]:8000", "[::1]", True),
], ids=lambda v: str(v))
def test_host_patterns(host: str, allowed: str, ok: bool) -> None:
    assert host_allowed(host, [h.strip().lower() for h in allowed.split(",")]) is ok


def test_unknown_hosts_get_400_but_health_checks_pass(tmp_path: Path) -> None:
    client = _client(tmp_path, allowed_hosts="stats.example.com")
    headers = {"User-Agent": CHROME_UA, "Content-Type": "text/plain"}
    bad = client.post("/api/event", data=EVENT, headers={**headers, "Host": "evil.test"})
    assert bad.status_code == 400 and "unknown host" in bad.headers["X-Beacon-Error"]
    assert client.get("/healthz", headers={"Host": "10.1.2.3"}).status_code == 200
    good = client.post("/api/event", data=EVENT,
                       headers={**headers, "Host": "stats.example.com"})
    assert good.status_code == 202 and "X-Beacon-Drop" not in good.headers


def test_rate_limit_per_ip_ignores_spoofed_forwarded_for(tmp_path: Path) -> None:
    client = _client(tmp_path, rate_limit_per_minute=5)
    answers = []
    for i in range(8):
        # A client rotating X-Forwarded-For must not get a fresh budget (no trusted proxy).
        resp = client.post("/api/event", data=EVENT, headers={
            "User-Agent": CHROME_UA, "X-Forwarded-For": f"198.51.100.{i}"},
            environ_base={"REMOTE_ADDR": "192.0.2.1"})
        answers.append((resp.status_code, resp.headers.get("X-Beacon-Drop")))
    assert answers[:5] == [(202, None)] * 5
    assert answers[5:] == [(202, "rate_limited")] * 3
    other = client.post("/api/event", data=EVENT, headers={"User-Agent": CHROME_UA},
                        environ_base={"REMOTE_ADDR": "192.0.2.2"})
    assert other.headers.get("X-Beacon-Drop") is None
    assert len(stored_events(client.application)) == 6
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'beacon_events_dropped_total{reason="rate_limited"} 3' in metrics


def test_request_handling_and_errors_never_log_ips_or_user_agents(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    client = _client(tmp_path, log_level="DEBUG", trusted_proxies=1)
    caplog.set_level(logging.DEBUG)
    state = state_of(client.application)

    def boom(*_args: object, **_kwargs: object) -> bool:
        raise RuntimeError("simulated failure")

    headers = {"User-Agent": VISITOR_UA, "X-Forwarded-For": VISITOR_IP,
               "Referer": "https://example.com/r"}
    for method, path, body in REQUESTS:
        client.open(path, method=method, data=body, headers=headers)
    state.writer.submit = boom                           # type: ignore[method-assign]
    resp = client.post("/api/event", data=EVENT, headers=headers)
    assert resp.status_code == 202 and resp.headers["X-Beacon-Drop"] == "internal_error"
    assert any("unexpected error" in r.getMessage() for r in caplog.records)
    text = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    formatted = caplog.text
    for private in (VISITOR_IP, VISITOR_UA, "RareAgent"):
        assert private not in text and private not in formatted


def test_metrics_only_for_this_machine_or_the_token(tmp_path: Path) -> None:
    client = _client(tmp_path)
    assert client.get("/metrics").status_code == 200          # a local scraper
    outside = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.5"})
    assert outside.status_code == 403 and b"BEACON_METRICS_TOKEN" in outside.data
    # Through a reverse proxy on this machine: the proxy header gives the visitor away.
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.5"}).status_code == 403
    token = _client(tmp_path / "t", metrics_token="scrape-me-" + "x" * 20)
    assert token.get("/metrics").status_code == 403
    assert token.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 403
    good = token.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.5"},
                     headers={"Authorization": "Bearer scrape-me-" + "x" * 20})
    assert good.status_code == 200 and b"beacon_events_accepted_total" in good.data
