"""Two-factor sign-in in a real browser: `beacon dashboard` (Streamlit behind its guard)
with BEACON_REQUIRE_2FA=admins, driven by Chromium.

An admin with an authenticator app signs in with password and code; a wrong code is
refused, counted by the sign-in throttle and written to the audit log. An admin without
a second factor is held on the Account page until the QR code's key is set up in "the
app" (pyotp here). A recovery code signs in once, and the Audit log page shows what
happened. Screenshots at 1280 px and 390 px go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from shared.accounts import audit, two_factor
from shared.accounts import users as auth
from shared.core import schema
from shared.core.clock import utc_now
from shared.sites import add_site
from shared.storage import make_engine, migrate
from tests.browser.test_dashboard_browser import (
    ROOT,
    Dashboard,
    _dashboard_command,
    _free_port,
    _settle,
    _shot,
    _wait_healthy,
)

pytestmark = pytest.mark.browser

PASSWORD = "browser test password"  # noqa: S105 - a test account
WITH_APP, WITHOUT_APP = "ada@example.com", "bo@example.com"
WIDTHS = (1280, 390)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Dashboard, str, list[str]]]:
    folder = tmp_path_factory.mktemp("two-factor")
    url = f"sqlite:///{folder / 'beacon.db'}"
    migrate(url)
    engine = make_engine(url)
    secret = two_factor.new_secret()
    then = utc_now() - timedelta(minutes=5)   # the enrolment's code is long used
    with engine.begin() as conn:
        add_site(conn, "shop.example")
        ada = auth.add_user(conn, WITH_APP, PASSWORD, is_admin=True)
        codes = two_factor.enable(conn, ada, secret, two_factor.current_code(secret, then),
                                  now=then)
        auth.add_user(conn, WITHOUT_APP, PASSWORD, is_admin=True)
    engine.dispose()
    command, origin = _dashboard_command("dashboard", _free_port())
    env = {**os.environ, "DATABASE_URL": url, "BEACON_ENV": "development",
           "BEACON_DATA_DIR": str(folder / "data"), "BEACON_REQUIRE_2FA": "admins"}
    log = (folder / "server.log").open("wb")
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        _wait_healthy(origin, proc)
        yield Dashboard(origin, url), secret, codes
    finally:
        proc.terminate()
        proc.wait(timeout=40)
        log.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    p = context.new_page()
    yield p
    context.close()


def _password_step(page: Any, dashboard: Dashboard, email: str) -> None:
    page.goto(dashboard.origin + "/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _code_step(page: Any, code: str) -> None:
    field = page.get_by_role("textbox", name="Code from your authenticator app")
    field.wait_for(timeout=60_000)
    field.fill(code)
    page.get_by_role("button", name="Verify").click()
    _settle(page)


def _both_widths(page: Any, name: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        _settle(page)
        _shot(page, f"{name}-{width}")
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})


def _log(url: str) -> list[audit.AuditEntry]:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = list(reversed(audit.entries(conn)))
    engine.dispose()
    return rows


def _failed_tries(url: str) -> int:
    engine = make_engine(url)
    t = schema.sign_in_failures
    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.sum(t.c.failures))
                             .where(t.c.key.like("global|%"))).scalar()
    engine.dispose()
    return int(total or 0)


def _signed_in(page: Any, email: str) -> None:
    sidebar = page.locator("[data-testid='stSidebar']")
    sidebar.get_by_text(email).wait_for(timeout=60_000)
    # The code step is gone once the signed-in page has replaced it (the page's run may
    # still be drawing when the sidebar shows the user).
    page.get_by_role("button", name="Verify").wait_for(state="detached", timeout=60_000)


def test_totp_sign_in_and_a_wrong_code(page: Any, seeded: tuple[Dashboard, str, list[str]]
                                       ) -> None:
    dashboard, secret, _ = seeded
    _password_step(page, dashboard, WITH_APP)
    page.get_by_role("textbox", name="Code from your authenticator app").wait_for(timeout=60_000)
    _settle(page)
    _both_widths(page, "40-second-factor")
    right = two_factor.current_code(secret, utc_now())
    wrong = f"{(int(right) + 500_000) % 1_000_000:06d}"
    _code_step(page, wrong)
    page.get_by_text("Sign-in failed: wrong or already used code").wait_for(timeout=30_000)
    _shot(page, "41-wrong-code-1280")
    assert _failed_tries(dashboard.url) == 1
    assert page.locator("[data-testid='stSidebar']").get_by_text(WITH_APP).count() == 0
    _code_step(page, two_factor.current_code(secret, utc_now()))
    _signed_in(page, WITH_APP)
    _shot(page, "42-signed-in-with-code-1280")
    log = [(e.action, e.actor, e.details) for e in _log(dashboard.url)]
    assert ("sign_in.failed", WITH_APP, {"step": "second_factor"}) in log
    assert log[-1] == ("sign_in.success", WITH_APP, {"method": "password+totp"})


def test_required_enrolment_then_recovery_code_and_audit_page(
        page: Any, seeded: tuple[Dashboard, str, list[str]]) -> None:
    dashboard, _, codes = seeded
    _password_step(page, dashboard, WITHOUT_APP)
    page.get_by_text("requires two-factor sign-in").wait_for(timeout=60_000)
    _settle(page)
    qr = page.locator("[data-testid='stHtml'] img[alt^='QR code']")
    assert qr.count() == 1 and qr.get_attribute("src").startswith("data:image/svg+xml;base64,")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 100")
    # Only the Account page until a second factor is set up.
    assert page.get_by_role("link", name="Sites & settings").count() == 0
    _both_widths(page, "43-required-enrolment")
    key = re.sub(r"\s", "", page.locator("[data-testid='stCode']").first.inner_text())
    field = page.get_by_role("textbox", name="Code from the app")
    field.fill(two_factor.current_code(key, utc_now()))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    page.get_by_text("Keep these recovery codes").wait_for(timeout=60_000)
    _settle(page)
    shown = page.locator("[data-testid='stCode']").first.inner_text().split()
    assert len(shown) == 10
    _both_widths(page, "44-recovery-codes")
    page.get_by_role("button", name="I have saved them").click()
    page.get_by_role("link", name="Sites & settings").first.wait_for(timeout=60_000)

    # Another browser: Ada signs in with a recovery code, then reads the audit log.
    page.context.clear_cookies()
    _password_step(page, dashboard, WITH_APP)
    _code_step(page, codes[0])
    _signed_in(page, WITH_APP)
    page.get_by_role("link", name="Audit log").first.click()
    _settle(page)
    page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=30_000)
    _both_widths(page, "45-audit-log")
    actions = [e.action for e in _log(dashboard.url)]
    assert "two_factor.enable" in actions and actions[-1] == "sign_in.success"
    assert _log(dashboard.url)[-1].details == {"method": "password+recovery_code"}

