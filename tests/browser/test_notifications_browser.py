"""The Notifications page in a real browser at a phone's and a desktop's width: every
tab renders, a webhook URL from the owner and the delivery log show as text.
Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from shared.core.clock import utc_now
from shared.notify.alert_rules import set_alert_rules
from shared.notify.outbox import enqueue
from shared.notify.subscriptions import subscribe
from shared.notify.webhooks import add_webhook
from shared.sites import get_site
from shared.storage import make_engine
from tests.browser.test_dashboard_browser import (
    DOMAIN,
    ROOT,
    Dashboard,
    _dashboard_command,
    _free_port,
    _no_exception,
    _seed,
    _settle,
    _shot,
    _sign_in,
    _wait_healthy,
)

pytestmark = pytest.mark.browser
TABS = ("E-mail reports", "Alerts", "Webhooks", "Delivery log")


def _seed_notifications(url: str, now: datetime) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        site = get_site(conn, DOMAIN)
        assert site is not None
        subscribe(conn, site.id, "owner@example.com", weekly=True, monthly=True, now=now)
        set_alert_rules(conn, site.id, spike_visitors=50, drop_percent=40,
                        emails=["ops@example.com"], now=now)
        hook = add_webhook(conn, site.id, "https://hooks.example.com/beacon?<b>x</b>",
                           ["spike", "drop"], now=now)
        enqueue(conn, site_id=site.id, channel="webhook", target=str(hook.id),
                event="spike", dedupe_key="seed", payload={"text": "t", "data": {}},
                now=now - timedelta(minutes=5))
    engine.dispose()


@pytest.fixture(scope="module")
def notify_dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    folder = tmp_path_factory.mktemp("notify-dashboard")
    url = f"sqlite:///{folder / 'beacon.db'}"
    _seed(url)
    _seed_notifications(url, utc_now())
    command, origin = _dashboard_command("dashboard", _free_port())
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


@pytest.mark.parametrize("width", [390, 1280])
def test_notifications_page_at_phone_and_desktop_width(browser: Any, width: int,
                                                       notify_dashboard: Dashboard) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        _sign_in(page, notify_dashboard, f"?site={DOMAIN}")
        page.goto(f"{notify_dashboard.origin}/notifications?site={DOMAIN}")
        page.get_by_role("tab", name="E-mail reports").wait_for(timeout=60_000)
        _settle(page)
        for index, tab in enumerate(TABS):
            page.get_by_role("tab", name=tab).click()
            _settle(page)
            _no_exception(page)
            _shot(page, f"40-notifications-{width}-{index}-{tab.split()[0].lower()}")
        # The owner's URL is shown as text in the table (no markup runs).
        page.get_by_role("tab", name="Webhooks").click()
        _settle(page)
        assert page.locator("b", has_text="x").count() == 0
        assert page.get_by_text("No mail server is configured").count() == 1
    finally:
        context.close()
