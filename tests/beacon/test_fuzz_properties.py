"""Property-based tests: generated input to every endpoint never gets a 5xx or a
traceback, a 2xx always comes with a stored row or a named drop, and good events sent
between bad ones are all stored."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.core.settings import Settings
from shared.storage import write_transaction
from tests.beacon.helpers import browser_headers, make_app, stored_events

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=50),
                         st.floats(allow_nan=False, allow_infinity=False))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12)
event_like = st.fixed_dictionaries({}, optional={
    "n": st.one_of(st.sampled_from(["pageview", "engagement", "Signup"]), json_values),
    "u": st.one_of(st.builds(lambda p: f"https://example.com/{p}", st.text(max_size=80)),
                   json_values),
    "d": st.one_of(st.just("example.com"), st.just("example.com,other.org"), json_values),
    "r": st.one_of(st.text(max_size=100), json_values),
    "p": json_values, "props": st.text(max_size=60),
    "revenue": json_values, "$": json_values,
    "h": json_values, "i": json_values, "sd": json_values, "e": json_values, "wd": json_values,
})
raw_bodies = st.one_of(st.binary(max_size=300), event_like.map(lambda d: json.dumps(d).encode()))
header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=200)

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


@pytest.fixture
def app(settings: Settings) -> Flask:
    return make_app(dataclasses.replace(settings, trusted_proxies=1))


def _check(resp: Any) -> None:
    assert resp.status_code < 500, resp.get_data()[:300]
    body = resp.get_data(as_text=True)
    assert "Traceback" not in body
    if resp.status_code >= 400:
        assert resp.headers.get("X-Beacon-Error") or "errors" in (resp.get_json(silent=True) or {})


@SETTINGS
@given(body=raw_bodies, ua=header_text, xff=header_text, lang=header_text)
def test_api_event_never_fails_on_generated_input(app: Flask, body: bytes, ua: str, xff: str,
                                                  lang: str) -> None:
    resp = app.test_client().post("/api/event", data=body, headers={
        "User-Agent": ua, "X-Forwarded-For": xff, "Accept-Language": lang,
        "Content-Type": "text/plain"})
    _check(resp)
    if resp.status_code == 202 and "X-Beacon-Drop" not in resp.headers:
        assert json.loads(body)  # only well-formed events can be accepted


@SETTINGS
@given(args=st.dictionaries(st.sampled_from(["u", "url", "r", "n", "d", "domain", "h", "x"]),
                            st.text(max_size=120), max_size=6),
       referer=header_text, path=st.sampled_from(["/p.gif", "/"]))
def test_pixel_and_bare_beacon_never_fail(app: Flask, args: dict[str, str], referer: str,
                                          path: str) -> None:
    resp = app.test_client().get(path, query_string=args,
                                 headers=browser_headers(Referer=referer))
    _check(resp)


@SETTINGS
@given(items=st.lists(st.one_of(event_like, json_values), max_size=8),
       auth=st.one_of(st.just("good"), header_text))
def test_batch_endpoint_never_fails(app: Flask, items: list[Any], auth: str) -> None:
    from beacon_app import state_of
    from shared.sites import new_ingest_token

    # As `beacon sites token` does: the write lock up front, the app's writer runs too.
    with write_transaction(state_of(app).engine) as conn:
        token = new_ingest_token(conn, "example.com")
    header = f"Bearer {token}" if auth == "good" else auth
    resp = app.test_client().post("/api/events", data=json.dumps({"events": items}),
                                  headers=browser_headers(Authorization=header))
    _check(resp)
    if resp.status_code == 202:
        data = resp.get_json()
        assert data["accepted"] + len(data["dropped"]) + len(data["errors"]) == len(items)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(bad=st.lists(st.binary(min_size=1, max_size=100), min_size=1, max_size=10))
def test_good_events_between_bad_ones_are_all_stored(settings: Settings, bad: list[bytes]) -> None:
    app = make_app(dataclasses.replace(settings, trusted_proxies=1,
                                       spool_dir=settings.resolved_spool_dir + "-fuzz"))
    try:
        client = app.test_client()
        good = {"n": "pageview", "u": "https://example.com/ok", "d": "example.com"}
        for chunk in bad:
            client.post("/api/event", data=chunk, headers=browser_headers())
            client.post("/api/event", json=good, headers=browser_headers())
        rows = [r for r in stored_events(app) if r["pathname"] == "/ok"]
        assert len(rows) >= len(bad)
    finally:
        from beacon_app import state_of
        from shared.core import schema

        state = state_of(app)
        state.writer.stop()
        with state.engine.begin() as conn:
            conn.execute(schema.events.delete())
            conn.execute(schema.sites.delete())
