"""The Notifications page: owners add report recipients, alert rules and webhooks (bad
input refused with its reason, nothing stored); viewers change nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from shared.notify.alert_rules import get_alert_rules
from shared.notify.subscriptions import list_subscriptions
from shared.notify.webhooks import list_webhooks
from tests.dashboard.conftest import DOMAIN, Seeded, app_as, no_exception
from tests.notify.conftest import Receiver

PAGE = "views/notifications.py"


def _by_label(elements: Any, label: str) -> Any:
    return next(e for e in elements if e.label.startswith(label))


def _page(email: str) -> AppTest:
    at = no_exception(app_as(email, site=DOMAIN).run())
    return no_exception(at.switch_page(PAGE).run())


def test_owner_adds_a_report_recipient(seeded: Seeded) -> None:
    at = _page("owner@example.com")
    _by_label(at.text_input, "Recipient's e-mail").input("not an address")
    _by_label(at.button, "Add or change recipient").click().run()
    no_exception(at)
    assert any("not an e-mail address" in t.value for t in at.text)
    with seeded.engine.connect() as conn:
        assert list_subscriptions(conn, seeded.site.id) == []
    _by_label(at.text_input, "Recipient's e-mail").input("Alice@Example.com")
    _by_label(at.toggle, "Monthly").set_value(True)
    _by_label(at.button, "Add or change recipient").click().run()
    no_exception(at)
    with seeded.engine.connect() as conn:
        (sub,) = list_subscriptions(conn, seeded.site.id)
    assert (sub.email, sub.weekly, sub.monthly) == ("alice@example.com", True, True)


def test_owner_sets_alerts_and_adds_a_webhook(seeded: Seeded) -> None:
    at = _page("owner@example.com")
    _by_label(at.toggle, "Traffic spike").set_value(True)
    _by_label(at.number_input, "…when current visitors").set_value(40)
    _by_label(at.text_area, "E-mail alerts to").input("ops@example.com")
    _by_label(at.button, "Save alerts").click().run()
    no_exception(at)
    with seeded.engine.connect() as conn:
        rules = get_alert_rules(conn, seeded.site.id)
    assert (rules.spike_visitors, rules.drop_percent, rules.emails) == (
        40, None, ("ops@example.com",))

    _by_label(at.text_input, "URL").input("file:///etc/passwd")
    _by_label(at.button, "Add webhook").click().run()
    assert any("must start with https://" in t.value for t in at.text)
    _by_label(at.text_input, "URL").input("https://hooks.example.com/beacon")
    _by_label(at.button, "Add webhook").click().run()
    no_exception(at)
    with seeded.engine.connect() as conn:
        (hook,) = list_webhooks(conn, seeded.site.id)
    assert hook.url == "https://hooks.example.com/beacon"
    assert any(c.value == hook.secret for c in at.code)


def test_viewer_cannot_change_notifications(seeded: Seeded) -> None:
    at = _page("viewer@example.com")
    assert any("Only owners" in i.value for i in at.info)
    assert not [b for b in at.button if b.label.startswith("Add")]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


def test_owner_sends_a_test_call(seeded: Seeded, receiver: Receiver) -> None:
    at = _page("owner@example.com")
    _by_label(at.text_input, "URL").input(receiver.base + "/hook")
    _by_label(at.button, "Add webhook").click().run()
    with seeded.engine.connect() as conn:
        (hook,) = list_webhooks(conn, seeded.site.id)
    receiver.secrets["/hook"] = hook.secret
    at.run()
    _by_label(at.button, "Send a test call").click().run()
    no_exception(at)
    assert any("answered 200" in s.value for s in at.success)
    (call,) = receiver.requests
    assert call["verified"] and call["json"]["event"] == "test"
