"""The beacon's root URL opened in a browser: a small page (what this is, where the
dashboard is, health) instead of an empty 400; the bare beacon at the same path still
counts hits that carry a Referer."""

from __future__ import annotations

import dataclasses

import pytest
from flask import Flask

from beacon_app.root_page import DASHBOARD_PATH_KEY
from shared.core.settings import Settings
from tests.beacon.helpers import browser_headers, make_app, stored_events

PAGE = "https://www.example.com/pricing/"
# What a browser sends when a person types the address or follows a link.
NAVIGATION = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
              "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}


@pytest.fixture
def app(settings: Settings) -> Flask:
    return make_app(dataclasses.replace(settings, dashboard_port=8765))


def test_root_url_shows_what_this_is(app: Flask) -> None:
    resp = app.test_client().get("/", headers=browser_headers(**NAVIGATION))
    assert resp.status_code == 200
    assert resp.content_type.startswith("text/html")
    text = resp.get_data(as_text=True)
    assert "Beacon Analytics" in text and "/script.js" in text
    assert 'href="/healthz"' in text and ">serving<" in text
    assert "port 8765" in text               # the dashboard, as this server knows it
    assert "<script" not in text
    csp = resp.headers["Content-Security-Policy"]
    assert csp.startswith("default-src 'none'") and "style-src 'sha256-" in csp
    assert "script-src" not in csp and "unsafe" not in csp
    assert stored_events(app) == []


def test_root_page_names_the_dashboard_path_under_beacon_web(app: Flask) -> None:
    resp = app.test_client().get("/", headers=browser_headers(**NAVIGATION),
                                 environ_overrides={DASHBOARD_PATH_KEY: "/dashboard/"})
    assert '<a href="/dashboard/">/dashboard/</a>' in resp.get_data(as_text=True)


def test_a_navigation_from_a_link_is_not_a_page_view(app: Flask) -> None:
    resp = app.test_client().get("/", headers=browser_headers(Referer=PAGE, **NAVIGATION))
    assert resp.status_code == 200 and b"Beacon Analytics" in resp.data
    assert stored_events(app) == []


def test_an_image_with_nothing_to_count_still_gets_the_400(app: Flask) -> None:
    resp = app.test_client().get("/", headers=browser_headers(**{"Sec-Fetch-Dest": "image"}))
    assert resp.status_code == 400 and "Referer" in resp.headers["X-Beacon-Error"]


def test_bare_beacon_with_a_referer_still_counts(app: Flask) -> None:
    resp = app.test_client().get("/", headers=browser_headers(Referer=PAGE))
    assert resp.status_code == 204
    app.extensions["beacon"].writer.flush()
    assert [e["pathname"] for e in stored_events(app)] == ["/pricing"]


def test_beacon_web_passes_the_dashboard_path_under_the_same_key() -> None:
    from beacon_cli import web

    assert web.DASHBOARD_PATH_KEY == DASHBOARD_PATH_KEY
