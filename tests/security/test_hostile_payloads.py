"""Events built to hurt: a revenue string of 20,000 brackets is a 400 with the reason (no
RecursionError logged per request), and bidi overrides or controls in event names and
property keys/values never reach the database, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import logging

import pytest
from flask import Flask

from shared.core.settings import Settings
from tests.beacon.helpers import browser_headers, make_app, stored_events

PAGE = "https://example.com/checkout"


@pytest.fixture
def app(settings: Settings) -> Flask:
    return make_app(settings)


def _send(app: Flask, **fields: object) -> tuple[int, dict]:
    body = json.dumps({"n": "purchase", "u": PAGE, "d": "example.com", **fields})
    res = app.test_client().post("/api/event", data=body, headers=browser_headers(),
                                 content_type="text/plain")
    return res.status_code, res.get_json(silent=True) or {}


@pytest.mark.parametrize("revenue", [
    "[" * 20_000,
    '{"amount": ' + "[" * 20_000 + "]" * 20_000 + ', "currency": "EUR"}',
    "[" * 300 + "]" * 300,
], ids=["brackets", "deep-amount", "short-but-nested"])
def test_revenue_built_to_recurse_is_a_400_and_logs_nothing(
        app: Flask, caplog: pytest.LogCaptureFixture, revenue: str) -> None:
    caplog.set_level(logging.DEBUG)
    status, body = _send(app, revenue=revenue)
    assert status == 400
    assert body["errors"][0]["field"] == "revenue"
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "RecursionError" not in caplog.text
    assert stored_events(app) == []


def test_good_revenue_still_counts(app: Flask) -> None:
    status, _ = _send(app, revenue='{"amount": "12.50", "currency": "eur"}')
    assert status == 202
    [row] = stored_events(app)
    assert row["revenue_amount"] == 12.5 and row["revenue_currency"] == "EUR"


BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\ufeff"


def test_bidi_overrides_and_controls_are_stripped_from_names_and_props(app: Flask) -> None:
    # "‮gnp.exe" renders as "exe.png": the stored text must read as what it is.
    status, _ = _send(app, n=f"sign{BIDI}up\x07", p={
        f"\u202eplan{BIDI}": f"\u202epro{BIDI}\r\n",
        "file": "invoice\u202egnp.exe",
        "\u2066\u2069": "a key of formatting characters only is dropped",
    })
    assert status == 202
    [row] = stored_events(app)
    assert row["name"] == "signup"
    props = row["props"] if isinstance(row["props"], dict) else json.loads(row["props"])
    assert props == {"plan": "pro", "file": "invoicegnp.exe"}
    stored = row["name"] + json.dumps(props, ensure_ascii=False)
    assert not any(ch in stored for ch in BIDI + "\r\n\x07")


def test_a_name_of_formatting_characters_only_is_refused(app: Flask) -> None:
    status, body = _send(app, n="\u202e\u2066")
    assert status == 400 and body["errors"][0]["field"] == "name"
    assert stored_events(app) == []
