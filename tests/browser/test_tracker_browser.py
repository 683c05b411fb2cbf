"""The tracker in a real browser: Chromium loads pages of a test site that carry the
snippet from `beacon snippet`, and each test checks the rows the beacon stored."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.conftest import USER_AGENT, Beacon, EventLog, Site

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


def _visit(page: Any, url: str) -> EventLog:
    log = EventLog(page)
    page.goto(url)
    page.wait_for_function("typeof window.plausible === 'function' && !window.plausible.q")
    return log


def _settle(beacon: Beacon, seconds: float = 0.6) -> None:
    """Give in-flight requests time to arrive, then write what arrived."""
    time.sleep(seconds)
    beacon.flush()


def test_first_load_stores_a_pageview_with_the_page_and_referrer(
        beacon: Beacon, site: Site, page: Any) -> None:
    log = _visit(page, site.url("/about.html"))
    rows = beacon.wait_rows(name="pageview", pathname="/about.html")
    assert len(rows) == 1
    row = rows[0]
    assert row["hostname"] == "example.test"
    assert row["browser"] == "Chrome"
    assert log.sent[0] == {"n": "pageview", "u": site.url("/about.html"), "d": "example.test",
                           "r": None}
    log.wait_answers(page, 1)
    assert log.answers[0] == (202, "")

    # Following a link: a new page load that sends the previous page as referrer.
    log = EventLog(page)
    page.click("#home")
    assert log.wait_sent(page, "pageview")["r"] == site.url("/about.html")
    beacon.wait_rows(name="pageview", pathname="/")


def test_calls_made_before_the_script_loaded_are_replayed(
        beacon: Beacon, site: Site, page: Any) -> None:
    _visit(page, site.url("/"))
    rows = beacon.wait_rows(name="Early Call")
    assert rows[0]["props"] == {"queued": "yes"}
    assert rows[0]["pathname"] == "/"
