"""The dashboard in a real browser: `beacon dashboard` (Streamlit behind its guard, as
deployed) on a seeded database, driven by Chromium, and the same again through `beacon web`
(the dashboard under /dashboard on the beacon's port).

Signs in, opens the Overview, filters by clicking a source, changes the period, opens
every page, and checks that visitor-supplied `<script>` / `<img onerror>` payloads in
URLs, referrers and props show as text and never run. A password sign-in survives a
reload (the remembered-login cookie) and signing out ends it; table toolbars offer no
raw CSV download. Screenshots go to test-artifacts/screenshots/ (the path is printed).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shared.accounts import users as auth
from shared.core import schema
from shared.core.records import Event
from shared.demo.run import DemoSpec, run_demo
from shared.ingest.events import write_events
from shared.rollups.mark import mark_dirty_range
from shared.sites import add_site, get_site, hash_token
from shared.storage import make_engine, migrate

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
DOMAIN = "demo.example"
NEW_DOMAIN = "new.example"     # a site that has received nothing yet
EMAIL, PASSWORD = "admin@example.com", "browser test password"
SCRIPT = "<script>window.__xss=1</script>"
IMG = "<img src=x onerror=\"window.__xss=1\">"
PAGES = ("Realtime", "Goals & funnels", "Events & properties", "Bots & AI agents",
         "Site search", "Segments & annotations", "Sites & settings", "Export",
         "Privacy", "Overview")


@dataclass
class Dashboard:
    origin: str
    url: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _hostile_events(site_id: int, now: datetime) -> list[dict[str, Any]]:
    rows = []
    for i, payload in enumerate((SCRIPT, IMG) * 30):
        rows.append(Event(
            site_id=site_id, ts=now - timedelta(minutes=2 + i), name="pageview",
            hostname=DOMAIN, pathname="/" + payload, uid=9_000_000 + i,
            visitor_id=8_000_000 + i, session_id=7_000_000 + i,
            referrer="https://evil.example/" + payload, referrer_source=payload,
            channel=payload, country="DE", browser="Chrome", os="Linux", device="Desktop",
            props={"plan": payload}).to_row())
    return rows


def _seed(url: str) -> None:
    migrate(url)
    engine = make_engine(url)
    now = datetime.now(UTC).replace(tzinfo=None)
    run_demo(engine, DemoSpec(domain=DOMAIN, days=30, events=8000, seed=3), now=now,
             rebuild=False)
    with engine.begin() as conn:
        site = get_site(conn, DOMAIN)
        assert site is not None
        write_events(conn, _hostile_events(site.id, now))
        mark_dirty_range(conn, site.id, site.timezone, now - timedelta(hours=2), now, now)
        auth.add_user(conn, EMAIL, PASSWORD, is_admin=True)
        new = add_site(conn, NEW_DOMAIN)
        conn.execute(schema.drop_counts.insert().values(
            site_id=new.id, day=now.date(), reason="automation", count=3))
    engine.dispose()


def _wait_healthy(origin: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the dashboard's server exited early")
        try:
            with urllib.request.urlopen(origin + "/_stcore/health", timeout=2) as r:  # noqa: S310
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("the dashboard did not become healthy")


def _dashboard_command(how: str, port: int) -> tuple[list[str], str]:
    """The command serving the dashboard, and the dashboard's address under it:
    `beacon dashboard` (the Procfile's dashboard: line) at the root, or `beacon web` (the
    web: line, the beacon on the same port) under /dashboard."""
    if how == "web":
        return ([sys.executable, "-m", "beacon_cli.main", "web", "--host", "127.0.0.1",
                 "--port", str(port), "--workers", "1"], f"http://127.0.0.1:{port}/dashboard")
    return ([sys.executable, "-m", "beacon_cli.main", "dashboard", "--host", "127.0.0.1",
             "--port", str(port)], f"http://127.0.0.1:{port}")


@pytest.fixture(scope="module", params=["dashboard", "web"])
def dashboard(request: pytest.FixtureRequest,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    folder = tmp_path_factory.mktemp("dashboard")
    url = f"sqlite:///{folder / 'beacon.db'}"
    _seed(url)
    command, origin = _dashboard_command(request.param, _free_port())
    env = {**os.environ, "DATABASE_URL": url, "BEACON_ENV": "development",
           "BEACON_DATA_DIR": str(folder / "data")}
    log = (folder / "server.log").open("wb")
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        _wait_healthy(origin, proc)
        yield Dashboard(origin, url)
    finally:
        proc.terminate()
        proc.wait(timeout=40)
        log.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    p = context.new_page()
    p.add_init_script("window.__xss = 0;")
    p.dialogs = []
    p.requested = []   # every URL the page asked for (documents, scripts, fetches, images)
    p.on("request", lambda r: p.requested.append(r.url))
    p.on("dialog", lambda d: (p.dialogs.append(d.message), d.dismiss()))
    yield p
    context.close()


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _settle(page: Any) -> None:
    """Wait until Streamlit has finished the run: the status widget ("Running…", "Stop")
    is absent on several checks in a row (it appears only after a short delay)."""
    quiet = 0
    for _ in range(240):
        page.wait_for_timeout(250)
        busy = page.locator("[data-testid='stStatusWidget']").count() > 0
        quiet = 0 if busy else quiet + 1
        if quiet >= 4:
            return
    raise AssertionError("the dashboard kept running for a minute")


def _sign_in_to(page: Any, dashboard: Dashboard, query: str = "") -> None:
    page.goto(f"{dashboard.origin}/{query}")
    page.get_by_label("E-mail").fill(EMAIL)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _sign_in(page: Any, dashboard: Dashboard, query: str = "") -> None:
    _sign_in_to(page, dashboard, query)
    page.get_by_text("Unique visitors").first.wait_for(timeout=60_000)
    _settle(page)


def _no_exception(page: Any) -> None:
    assert page.locator("[data-testid='stException']").count() == 0


SELECTED_FILL = "rgb(159, 176, 245)"   # charts.LIST_SELECTED


def _click_first_list_row(page: Any, panel: str) -> None:
    """Click the first row of the open ranked list of the Overview's panel `panel`."""
    row = page.locator(f".st-key-panel_{panel} .js-plotly-plot g.point path").first
    row.scroll_into_view_if_needed()
    row.click(force=True)


def test_sign_in_filter_period_and_every_page(page: Any, dashboard: Dashboard) -> None:
    print(f"\nscreenshots: {SHOTS}")
    _sign_in(page, dashboard, f"?site={DOMAIN}")
    _no_exception(page)
    _shot(page, "01-overview")
    _click_first_list_row(page, "sources")
    page.wait_for_url("**f=source*", timeout=30_000)
    _settle(page)
    _no_exception(page)
    chips = page.locator("[data-testid='stMultiSelect']")
    chips.wait_for(timeout=30_000)
    assert "Source is" in chips.inner_text()
    # The chips are at the top of the main area, above the numbers, with "Clear all".
    main = page.locator("[data-testid='stMain']")
    assert main.locator("[data-testid='stMultiSelect']").count() == 1
    first_metric = page.locator("[data-testid='stMetric']").first.bounding_box()
    assert chips.bounding_box()["y"] < first_metric["y"]
    assert main.locator(".st-key-clear_filters").get_by_role("button",
                                                             name="Clear all").count() == 1
    # The clicked row is drawn highlighted in its list.
    sources = page.locator(".st-key-panel_sources")
    sources.locator(".js-plotly-plot g.point").first.wait_for(timeout=30_000)
    assert sources.locator(f"path[style*='{SELECTED_FILL}']").count() == 1
    _shot(page, "02-filtered-by-source")
    page.locator("[data-testid='stSelectbox']",
                 has=page.get_by_text("Period", exact=True)).click()
    page.get_by_role("option", name="Last 7 days").click()
    page.wait_for_url("**period=7d*", timeout=30_000)
    _settle(page)
    assert "f=source" in page.url  # the filter survives a period change
    _shot(page, "03-last-7-days")
    for index, title in enumerate(PAGES, start=4):
        page.get_by_role("link", name=title).first.click()
        _settle(page)
        _no_exception(page)
        _shot(page, f"{index:02d}-{title.split()[0].lower()}")
    assert page.evaluate("window.__xss") == 0 and page.dialogs == []


def _foreign(urls: list[str], origin: str) -> list[str]:
    """The URLs that leave `origin` (in-page data:, blob: and about: URLs stay)."""
    return sorted({u for u in urls if not u.startswith(origin + "/") and u != origin
                   and not u.startswith(("data:", "blob:", "about:"))})


def test_no_request_leaves_the_origin(page: Any, dashboard: Dashboard) -> None:
    """The privacy promise in the browser: sign-in, the Overview with its world map drawn
    and every page make requests to the dashboard's own origin only (no CDN, no font
    host, no usage statistics)."""
    page.goto(f"{dashboard.origin}/?site={DOMAIN}")
    page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
    _settle(page)
    assert _foreign(page.requested, dashboard.origin) == []   # the sign-in page
    _sign_in(page, dashboard, f"?site={DOMAIN}")
    # The map is drawn: its countries are paths filled from our own outline file.
    page.locator(".js-plotly-plot path.choroplethlocation").first.wait_for(timeout=30_000)
    assert any(u.endswith("/app/static/maps/world_110m.json") for u in page.requested)
    _shot(page, "40-overview-map")
    for title in PAGES:
        page.get_by_role("link", name=title).first.click()
        _settle(page)
    page.wait_for_timeout(1500)   # late requests (metrics, fonts) would show by now
    assert _foreign(page.requested, dashboard.origin) == []


DOCS_IMG = ROOT / "docs" / "img"
DOCS_SHOTS = {1280: "overview.png", 390: "overview-phone.png"}   # README and docs
PANELS = ("pages", "sources", "locations", "devices")


@pytest.mark.parametrize("width", [390, 1280, 1920])
def test_ranked_lists_show_their_numbers_at_every_width(browser: Any, dashboard: Dashboard,
                                                       width: int) -> None:
    """Every ranked list's numbers lie inside the viewport, from a phone to a wide screen;
    the screenshots of the `beacon dashboard` run are the docs' (docs/img/)."""
    context = browser.new_context(viewport={"width": width, "height": 1000})
    page = context.new_page()
    try:
        _sign_in(page, dashboard, f"?site={DOMAIN}")
        for key in PANELS:
            numbers = page.locator(f".st-key-panel_{key} .js-plotly-plot g.point text")
            numbers.first.wait_for(timeout=30_000)
            assert numbers.count() >= 3, key
            for i in range(numbers.count()):
                box = numbers.nth(i).bounding_box()
                assert box is not None and box["width"] > 0, (key, i)
                assert box["x"] >= 0 and box["x"] + box["width"] <= width, (key, i, box)
        _no_exception(page)
        name = f"overview-{'phone' if width < 600 else width}"
        _shot(page, name)
        if "/dashboard" not in dashboard.origin and width in DOCS_SHOTS:
            DOCS_IMG.mkdir(parents=True, exist_ok=True)
            if width < 600:   # on a phone: the first ranked list, where the numbers matter
                page.locator(".st-key-panel_pages").scroll_into_view_if_needed()
            page.screenshot(path=str(DOCS_IMG / DOCS_SHOTS[width]))
    finally:
        context.close()


def test_hostile_strings_show_as_text(page: Any, dashboard: Dashboard) -> None:
    from urllib.parse import quote

    query = f"?site={DOMAIN}&period=today&f={quote('page|is|/' + IMG)}"
    _sign_in(page, dashboard, query)
    chip = page.locator("[data-testid='stMultiSelect']")
    assert IMG in chip.inner_text()
    page.get_by_role("tab", name="Channels").first.click()
    _settle(page)
    _shot(page, "20-hostile-overview")
    assert IMG in " ".join(page.locator(".js-plotly-plot").all_inner_texts())
    for title in ("Realtime", "Events & properties", "Export"):
        page.get_by_role("link", name=title).first.click()
        _settle(page)
        _shot(page, f"21-hostile-{title.split()[0].lower()}")
    page.wait_for_timeout(1000)
    assert page.evaluate("window.__xss") == 0
    assert page.dialogs == []
    assert page.locator("img[src='x']").count() == 0


def _login_form_shown(page: Any) -> bool:
    return page.get_by_role("button", name="Sign in").count() > 0


def _login_cookie(page: Any) -> dict[str, Any] | None:
    return next((c for c in page.context.cookies() if c["name"] == "beacon_login"), None)


def _wait_cookie(page: Any, present: bool) -> dict[str, Any] | None:
    """The cookie is set by the server, asked by a script in a small iframe once the run
    has drawn it."""
    for _ in range(80):
        cookie = _login_cookie(page)
        if (cookie is not None and cookie["value"] != "") == present:
            return cookie
        page.wait_for_timeout(250)
    raise AssertionError(f"the login cookie was {'never set' if present else 'not cleared'}")


def test_password_login_survives_a_reload_until_sign_out(page: Any,
                                                         dashboard: Dashboard) -> None:
    _sign_in(page, dashboard, f"?site={DOMAIN}")
    cookie = _wait_cookie(page, present=True)
    assert cookie is not None
    _shot(page, "29-signed-in-remembered")
    token = cookie["value"]
    assert token.startswith("bl_") and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert cookie["expires"] > time.time() + 29 * 86_400  # BEACON_LOGIN_REMEMBER_DAYS=30
    # Set by the server, HttpOnly: a script on the page (an XSS) cannot read it.
    assert cookie["httpOnly"] is True and not cookie["secure"]   # plain http here
    assert "beacon_login" not in page.evaluate("document.cookie")
    engine = make_engine(dashboard.url)
    with engine.connect() as conn:
        stored = conn.execute(schema.login_tokens.select()).mappings().all()
    assert hash_token(token) in {r["token_hash"] for r in stored}
    assert token not in {r["token_hash"] for r in stored}

    page.reload()  # a new Streamlit session: only the cookie can sign it in
    page.get_by_text("Unique visitors").first.wait_for(timeout=60_000)
    _settle(page)
    _no_exception(page)
    assert not _login_form_shown(page)
    assert page.locator("[data-testid='stSidebar']").get_by_text(EMAIL).count() == 1
    _shot(page, "30-after-reload")

    page.locator("[data-testid='stSidebar']").get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign in").wait_for(timeout=30_000)
    _wait_cookie(page, present=False)
    with engine.connect() as conn:
        left = conn.execute(schema.login_tokens.select()).mappings().all()
    engine.dispose()
    assert hash_token(token) not in {r["token_hash"] for r in left}
    page.reload()
    page.get_by_role("button", name="Sign in").wait_for(timeout=30_000)
    _settle(page)
    assert _login_form_shown(page) and page.get_by_text("Unique visitors").count() == 0
    _shot(page, "31-signed-out-after-reload")


@pytest.mark.parametrize("width", [390, 1280])
def test_login_form_is_narrow_and_fillable(browser: Any, dashboard: Dashboard,
                                           width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{dashboard.origin}/")
        form = page.locator("[data-testid='stForm']").first
        form.wait_for(timeout=60_000)
        _settle(page)
        _shot(page, f"50-login-{width}")
        box = form.bounding_box()
        assert box["width"] <= 420 and box["x"] >= 0 and box["x"] + box["width"] <= width
        if width > 420:   # centred in the main area
            assert abs((box["x"] + box["width"] / 2) - width / 2) < 40
        email = page.get_by_label("E-mail")
        assert email.get_attribute("autocomplete") == "username"
        password = page.get_by_role("textbox", name="Password")
        assert password.get_attribute("autocomplete") == "current-password"
        # Streamlit's deploy button and developer menu are not there for users.
        assert page.locator("[data-testid='stAppDeployButton']").count() == 0
        assert page.locator("[data-testid='stMainMenu']").count() == 0
    finally:
        context.close()


def test_a_new_site_waits_for_its_first_event(page: Any, dashboard: Dashboard) -> None:
    _sign_in_to(page, dashboard, f"?site={NEW_DOMAIN}")
    page.get_by_text("Waiting for the first event").wait_for(timeout=30_000)
    _settle(page)
    _no_exception(page)
    code = page.locator("[data-testid='stCode']").first.inner_text()
    assert f'data-domain="{NEW_DOMAIN}"' in code
    assert page.get_by_text("3 hits dropped: automation").count() == 1
    _shot(page, "51-waiting-for-first-event")


def test_table_toolbar_has_no_raw_csv_download(page: Any, dashboard: Dashboard) -> None:
    _sign_in(page, dashboard, f"?site={DOMAIN}")
    # The full table of a ranked list is under its "Details".
    page.locator(".st-key-panel_pages").get_by_text("Details").click()
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.wait_for(timeout=30_000)
    grid.scroll_into_view_if_needed()
    grid.hover()
    # The toolbar is up (its search button shows) but has no CSV download ...
    toolbar = page.locator("[data-testid='stElementToolbar']").filter(
        has=page.locator("button[aria-label^='Search']")).first
    toolbar.wait_for(state="visible", timeout=10_000)
    _shot(page, "32-table-toolbar")
    assert page.locator("button[aria-label^='Download as CSV']").count() == 0
    # ... while our own, formula-safe download is right under the table.
    assert page.get_by_role("button", name="Download CSV").count() >= 1


def test_export_link_works_only_in_the_signed_in_browser(page: Any, browser: Any,
                                                         dashboard: Dashboard) -> None:
    _sign_in(page, dashboard, f"?site={DOMAIN}")
    _wait_cookie(page, present=True)
    page.get_by_role("link", name="Export").first.click()
    _settle(page)
    link = page.get_by_role("link", name="Download").first
    link.wait_for(timeout=30_000)
    href = link.get_attribute("href")
    assert href and "_beacon/export/" in href
    url = href if href.startswith("http") else f"{dashboard.origin}/{href.lstrip('/')}"
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.endswith(".csv")
    # The browser was closed, the link copied elsewhere: a browser without the sign-in
    # cookie gets nothing.
    stranger = browser.new_context()
    try:
        assert stranger.request.get(url).status == 404
    finally:
        stranger.close()


def test_raw_export_runs_in_the_worker_and_downloads_after_leaving_the_page(
        page: Any, browser: Any, dashboard: Dashboard) -> None:
    from shared.dataout import export_jobs

    _sign_in(page, dashboard, f"?site={DOMAIN}")
    _wait_cookie(page, present=True)
    page.get_by_role("link", name="Export").first.click()
    _settle(page)
    page.get_by_role("button", name="Start export").click()
    page.get_by_text("Waiting for the worker").first.wait_for(timeout=30_000)
    page.get_by_role("link", name="Overview").first.click()     # leave the page
    _settle(page)
    engine = make_engine(dashboard.url)
    try:   # what `beacon worker` does next round, with the dashboard's data folder
        data_dir = Path(dashboard.url.removeprefix("sqlite:///")).parent / "data"
        job = export_jobs.run_next(engine, data_dir)
    finally:
        engine.dispose()
    assert job is not None and job.status == "done" and job.rows_written > 0
    page.get_by_role("link", name="Export").first.click()
    link = page.get_by_role("link", name=re.compile(r"^Download .*-events-.*rows"))
    link.wait_for(timeout=30_000)
    url = link.get_attribute("href")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == job.download_name(DOMAIN)
    lines = Path(download.value.path()).read_text().splitlines()
    assert len(lines) == job.rows_written + 1
    stranger = browser.new_context()
    try:
        full = url if url.startswith("http") else f"{dashboard.origin}/{url.lstrip('/')}"
        assert stranger.request.get(full).status == 404
    finally:
        stranger.close()


@pytest.mark.parametrize("width", [390, 1280])
def test_segments_and_annotations_at_phone_and_laptop_width(browser: Any, dashboard: Dashboard,
                                                            width: int) -> None:
    from shared.reports.annotations import add_annotation, list_annotations
    from shared.reports.segments import add_segment, list_segments
    from shared.stats.query import Filter

    engine = make_engine(dashboard.url)
    now = datetime.now(UTC).replace(tzinfo=None)
    with engine.begin() as conn:
        site = get_site(conn, DOMAIN)
        assert site is not None
        if not list_annotations(conn, site.id):
            add_annotation(conn, site.id, now.date() - timedelta(days=5), "Launch " + IMG,
                           now=now)
            add_segment(conn, site.id, "Mobile " + SCRIPT,
                        (Filter("device", "is", ("mobile",)),), owner_id=None, shared=True,
                        now=now)
        segment = list_segments(conn, site.id)[0]
    engine.dispose()
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.add_init_script("window.__xss = 0;")
    try:
        _sign_in(page, dashboard, f"?site={DOMAIN}&segment={segment.id}")
        _no_exception(page)
        chart = page.locator(".js-plotly-plot").first
        chart.wait_for(timeout=30_000)
        assert chart.is_visible()
        _shot(page, f"30-overview-segment-annotation-{width}")
        page.goto(f"{dashboard.origin}/notes?site={DOMAIN}")
        page.get_by_text("Annotations", exact=True).first.wait_for(timeout=60_000)
        _settle(page)
        _no_exception(page)
        assert page.get_by_role("heading", name="Segments", exact=True).is_visible()
        _shot(page, f"31-segments-annotations-{width}")
        page.goto(f"{dashboard.origin}/search?site={DOMAIN}")
        page.get_by_text("Search terms", exact=True).first.wait_for(timeout=60_000)
        _settle(page)
        _no_exception(page)
        _shot(page, f"32-site-search-{width}")
        assert page.evaluate("window.__xss") == 0
        assert page.locator("img[src='x']").count() == 0
    finally:
        context.close()


@pytest.mark.parametrize("width", [390, 1280])
def test_empty_comparison_and_goal_currencies(browser: Any, dashboard: Dashboard,
                                              width: int) -> None:
    """All time against the (empty) period before it: every KPI change is "–", not a
    change from nothing; the goals table shows revenue per currency, at phone and desktop
    widths."""
    context = browser.new_context(viewport={"width": width, "height": 1100})
    page = context.new_page()
    try:
        _sign_in(page, dashboard, f"?site={DOMAIN}&period=all&compare=previous_period")
        _no_exception(page)
        deltas = page.locator("[data-testid='stMetricDelta']")
        deltas.first.wait_for(timeout=90_000)   # "all time", cold caches
        texts = [deltas.nth(i).inner_text().strip() for i in range(deltas.count())]
        assert texts and all(t == "–" for t in texts), texts
        _shot(page, f"comparison-empty-{width}")
        page.goto(f"{dashboard.origin}/goals?site={DOMAIN}&period=all")
        page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=60_000)
        _settle(page)
        _no_exception(page)
        _shot(page, f"goals-currencies-{width}")
    finally:
        context.close()
