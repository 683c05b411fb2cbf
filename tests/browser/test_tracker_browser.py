"""The tracker in a real browser: Chromium loads pages of a test site that carry the
snippet from `beacon snippet`, and each test checks the rows the beacon stored."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from shared.core.screen_size import screen_size
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
    width = log.sent[0].pop("w")
    assert log.sent[0] == {"n": "pageview", "u": site.url("/about.html"), "d": "example.test",
                           "r": None}
    assert isinstance(width, int) and width > 0
    assert row["screen_size"] == screen_size(width)   # the class only, never the width
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


def _pageviews(beacon: Beacon) -> list[str]:
    return [r["pathname"] for r in beacon.rows(name="pageview")]


def test_spa_navigation_counts_new_paths_once(beacon: Beacon, site: Site, page: Any) -> None:
    log = _visit(page, site.url("/spa/start"))
    beacon.wait_rows(name="pageview", pathname="/spa/start")
    page.click("#to-a")                       # pushState to a new path: a pageview
    beacon.wait_rows(name="pageview", pathname="/spa/a")
    page.click("#same")                       # replaceState to the same URL: nothing
    page.click("#query")                      # same path, new query: nothing (Plausible)
    page.go_back()                            # popstate to /spa/a: same path, nothing
    page.go_back()                            # popstate to /spa/start: a pageview
    beacon.wait_rows(2, name="pageview", pathname="/spa/start")
    page.click("#to-b")
    beacon.wait_rows(name="pageview", pathname="/spa/b")
    _settle(beacon)
    assert _pageviews(beacon) == ["/spa/start", "/spa/a", "/spa/start", "/spa/b"]
    # Leaving a page inside the app closes its engagement, under the page's own URL.
    engaged = [e["u"] for e in log.sent if e["n"] == "engagement"]
    assert engaged == [site.url(p) for p in ("/spa/start", "/spa/a", "/spa/start")]


def test_hash_routing_counts_each_route(beacon: Beacon, site: Site, page: Any) -> None:
    log = _visit(page, site.url("/hash.html"))
    beacon.wait_rows(name="pageview", pathname="/hash.html")
    page.click("#to-settings")
    beacon.wait_rows(name="pageview", pathname="/hash.html#/settings")
    page.click("#to-profile")
    beacon.wait_rows(name="pageview", pathname="/hash.html#/profile")
    page.go_back()
    beacon.wait_rows(2, name="pageview", pathname="/hash.html#/settings")
    _settle(beacon)
    assert _pageviews(beacon) == ["/hash.html", "/hash.html#/settings", "/hash.html#/profile",
                                  "/hash.html#/settings"]
    assert all(e.get("h") == 1 for e in log.sent)


def test_outbound_link_click(beacon: Beacon, site: Site, page: Any) -> None:
    _visit(page, site.url("/"))
    page.click("#outbound")
    page.wait_for_url("http://elsewhere.test:*/landing.html")
    rows = beacon.wait_rows(name="Outbound Link: Click")
    assert rows[0]["props"] == {"url": site.url("/landing.html", host="elsewhere.test")}
    assert rows[0]["pathname"] == "/"


def test_file_download_click(beacon: Beacon, site: Site, page: Any) -> None:
    _visit(page, site.url("/"))
    with page.expect_download() as download:
        page.click("#download")
    assert download.value.suggested_filename == "report.pdf"
    rows = beacon.wait_rows(name="File Download")
    # The query string is cut off, as Plausible does.
    assert rows[0]["props"] == {"url": site.url("/files/report.pdf")}


def test_tagged_elements_in_both_notations(beacon: Beacon, site: Site, page: Any) -> None:
    _visit(page, site.url("/"))
    page.click("#signup")          # class="plausible-event-name=Signup ...-plan=pro+plan"
    page.click("#upgrade-inner")   # a child of <button data-beacon-event="Upgrade" ...>
    page.click("#plain")           # not tagged: no event
    signup = beacon.wait_rows(name="Signup")[0]
    upgrade = beacon.wait_rows(name="Upgrade")[0]
    assert signup["props"] == {"plan": "pro plan"}
    assert signup["revenue_amount"] is None
    assert upgrade["props"] == {"tier": "gold"}
    assert (upgrade["revenue_amount"], upgrade["revenue_currency"]) == (29.9, "EUR")
    _settle(beacon)
    names = sorted(r["name"] for r in beacon.rows())
    assert names == ["Early Call", "Signup", "Upgrade", "pageview"]


def test_custom_event_api_with_props_revenue_and_callback(
        beacon: Beacon, site: Site, page: Any) -> None:
    _visit(page, site.url("/about.html"))
    answer = page.evaluate("""() => new Promise(done => plausible('Purchase', {
        props: {sku: 'A-1', qty: 2}, revenue: {amount: 12.5, currency: 'USD'},
        interactive: false, callback: done}))""")
    assert answer == {"status": 202}
    page.evaluate("beacon('Alias Call', {props: {via: 'window.beacon'}})")
    row = beacon.wait_rows(name="Purchase")[0]
    assert row["props"] == {"sku": "A-1", "qty": "2"}
    assert (row["revenue_amount"], row["revenue_currency"]) == (12.5, "USD")
    assert row["interactive"] is False
    assert beacon.wait_rows(name="Alias Call")[0]["props"] == {"via": "window.beacon"}


def test_404_page_sends_a_404_event_with_the_path(
        beacon: Beacon, site: Site, page: Any) -> None:
    response = page.goto(site.url("/no/such-page"))
    assert response.status == 404
    row = beacon.wait_rows(name="404")[0]
    assert row["props"] == {"path": "/no/such-page"}
    assert beacon.wait_rows(name="pageview", pathname="/no/such-page")


def _hide(page: Any) -> None:
    # Headless Chromium keeps every tab visible, so switching tabs is played by the page:
    # the same property change and event a real tab switch makes.
    page.evaluate("""() => {
        Object.defineProperty(document, 'visibilityState', {value: 'hidden',
                                                            configurable: true});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")


def _show(page: Any) -> None:
    page.evaluate("""() => {
        delete document.visibilityState;
        document.dispatchEvent(new Event('visibilitychange'));
    }""")


def test_engagement_time_and_scroll_depth(beacon: Beacon, site: Site, page: Any) -> None:
    page.set_viewport_size({"width": 1000, "height": 700})
    log = _visit(page, site.url("/"))
    beacon.wait_rows(name="pageview", pathname="/")
    page.mouse.move(400, 300)
    page.mouse.wheel(0, 2500)                 # a real scroll, about half the page
    page.wait_for_function("window.scrollY >= 2000")
    page.wait_for_timeout(400)
    _hide(page)                               # the visitor switches to another tab
    first = beacon.wait_rows(name="engagement")[0]
    assert first["pathname"] == "/"
    assert 400 <= first["engagement_ms"] < 60_000
    assert 30 <= first["scroll_depth"] < 100
    page.wait_for_timeout(300)                # time in a hidden tab is not engagement
    _show(page)
    page.wait_for_timeout(200)
    page.keyboard.press("End")                # to the bottom, then leave the page for real
    # The End key scrolls smoothly: wait for the real bottom of the document (the body's
    # own height leaves out its margins), or the visitor leaves a few rows short of it.
    page.wait_for_function("Math.ceil(window.scrollY + innerHeight) >= Math.max("
                           "document.documentElement.scrollHeight, document.body.scrollHeight)"
                           " - 2")
    page.goto(site.url("/about.html"))
    rows = beacon.wait_rows(2, name="engagement", pathname="/")
    last = rows[1]
    assert last["scroll_depth"] == 100
    assert 150 <= last["engagement_ms"] < 60_000
    sent = [e for e in log.sent if e["n"] == "engagement"]
    assert {"n", "u", "d", "sd", "e"} <= set(sent[0])


def test_scroll_just_before_leaving_counts(beacon: Beacon, site: Site, page: Any) -> None:
    # Browsers deliver 'scroll' on the next frame; a visitor who jumps to the bottom and leaves
    # in the same moment must still be seen at the bottom. Both happen in one task here, so no
    # scroll event can arrive between them.
    page.set_viewport_size({"width": 1000, "height": 700})
    _visit(page, site.url("/"))
    beacon.wait_rows(name="pageview", pathname="/")
    page.evaluate("""() => {
        window.scrollTo(0, document.body.scrollHeight);
        window.dispatchEvent(new PageTransitionEvent('pagehide', {persisted: false}));
    }""")
    row = beacon.wait_rows(name="engagement", pathname="/")[0]
    assert row["scroll_depth"] == 100


@pytest.mark.parametrize("flag", ["beacon_ignore", "plausible_ignore"])
def test_opt_out_flag_sends_nothing(beacon: Beacon, site: Site,
                                    new_context: Callable[..., Any], flag: str) -> None:
    context = new_context()
    context.add_init_script(f"localStorage.setItem({flag!r}, 'true')")
    page = context.new_page()
    log = _visit(page, site.url("/"))
    page.click("#signup")
    answer = page.evaluate("new Promise(done => plausible('Purchase', {callback: done}))")
    assert answer is None                      # the callback still runs, with nothing sent
    _hide(page)
    # The same page in a browser without the flag is counted: the flag made the difference.
    other = new_context().new_page()
    _visit(other, site.url("/about.html"))
    beacon.wait_rows(name="pageview", pathname="/about.html")
    page.wait_for_timeout(300)
    _settle(beacon)
    assert log.sent == []
    assert [r["pathname"] for r in beacon.rows()] == ["/about.html"]


def test_localhost_pages_are_not_tracked(beacon: Beacon, site: Site, page: Any) -> None:
    log = _visit(page, f"http://127.0.0.1:{site.port}/about.html")
    page.evaluate("plausible('Custom')")
    page.wait_for_timeout(500)
    assert log.sent == []


def test_pixel_only_page(beacon: Beacon, site: Site, page: Any) -> None:
    page.goto(site.url("/pixel.html"))
    row = beacon.wait_rows(name="pageview")[0]
    assert row["pathname"] == "/pixel.html"      # from the Referer: full URL thanks to policy


def test_noscript_pixel_counts_visitors_without_javascript(
        beacon: Beacon, site: Site, new_context: Callable[..., Any]) -> None:
    page = new_context(java_script_enabled=False).new_page()
    page.goto(site.url("/about.html"))
    row = beacon.wait_rows(name="pageview")[0]
    assert row["pathname"] == "/about.html"
    _settle(beacon)
    assert len(beacon.rows()) == 1


def test_unregistered_domain_is_not_stored(beacon: Beacon, site: Site, page: Any) -> None:
    log = _visit(page, site.url("/about.html", host="unknown.test"))
    assert log.wait_sent(page, "pageview")["d"] == "unknown.test"
    log.wait_answers(page, 1)
    assert log.answers[0] == (202, "unknown_site")
    _settle(beacon)
    assert beacon.rows() == []
    assert beacon.drops().get("unknown_site", 0) >= 1


def test_automated_browser_is_flagged_and_dropped(
        beacon: Beacon, site: Site, automated_browser: Any) -> None:
    beacon.reset()
    context = automated_browser.new_context(user_agent=USER_AGENT)
    try:
        page = context.new_page()
        log = _visit(page, site.url("/about.html"))
        assert page.evaluate("navigator.webdriver") is True
        assert log.wait_sent(page, "pageview")["wd"] is True
        log.wait_answers(page, 1)
        assert log.answers[0] == (202, "automation")
        _settle(beacon)
        assert beacon.rows() == []
        assert beacon.drops().get("automation", 0) >= 1
    finally:
        context.close()


def test_form_submissions_when_enabled(beacon: Beacon, site: Site, page: Any) -> None:
    log = _visit(page, site.url("/forms.html"))
    page.click("#subscribe")                  # empty required field: the browser refuses
    page.wait_for_timeout(300)
    assert "Form: Submission" not in log.names()
    page.fill("input[name=email]", "someone@example.org")
    page.click("#subscribe")
    page.wait_for_url("**/about.html?email=*")
    rows = beacon.wait_rows(name="Form: Submission")
    assert rows[0]["pathname"] == "/forms.html"
    _settle(beacon)
    assert len(beacon.rows(name="Form: Submission")) == 1


def test_the_served_script_never_throws_into_the_page(
        beacon: Beacon, site: Site, page: Any) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _visit(page, site.url("/"))
    # Hostile or odd calls from the page: all swallowed, none reach window.onerror.
    page.evaluate("""() => {
        plausible(); plausible(null, null); plausible('x', {props: 5});
        plausible('y', {callback: 'not a function'});
        const cyclic = {}; cyclic.self = cyclic; plausible('z', {props: cyclic});
        history.pushState(null, '', '/spa/after-odd-calls');
    }""")
    beacon.wait_rows(name="pageview", pathname="/spa/after-odd-calls")
    assert errors == []
    assert json.dumps(errors) == "[]"


def test_manual_mode_and_pageview_props(beacon: Beacon, site: Site, page: Any) -> None:
    log = _visit(page, site.url("/manual.html"))
    page.wait_for_timeout(400)
    assert log.sent == []                      # data-manual: no automatic pageview
    page.evaluate("plausible('pageview', {u: location.origin + '/virtual/step-1'})")
    row = beacon.wait_rows(name="pageview")[0]
    assert row["pathname"] == "/virtual/step-1"
    assert row["props"] == {"author": "Ann Example"}   # <script event-author="...">


def test_plausible_file_names_choose_the_features(
        beacon: Beacon, site: Site, page: Any) -> None:
    log = _visit(page, site.url("/variant.html"))   # loads /js/script.hash.js
    assert log.wait_sent(page, "pageview")["h"] == 1
    page.click("#to-route")
    beacon.wait_rows(name="pageview", pathname="/variant.html#/route")
    page.click("#outbound")                    # not in the file name: not tracked
    page.wait_for_url("http://elsewhere.test:*/landing.html")
    _settle(beacon)
    assert [r["name"] for r in beacon.rows() if r["name"] != "engagement"] == [
        "pageview", "pageview"]
