"""Alerts and webhooks end to end: a traffic spike and a traffic drop each produce one
e-mail (real SMTP server) and one signed webhook call (real HTTP receiver that verifies
the signature) per episode; goal thresholds; retries, refusals and the Slack body."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from shared.core import schema
from shared.jobs.notifications import run_notifications
from shared.notify.alert_rules import add_goal_threshold, set_alert_rules
from shared.notify.errors import NotifyError
from shared.notify.outbox import delivery_log
from shared.notify.signing import signature_header, verify_signature
from shared.notify.webhooks import add_webhook, check_url, list_webhooks
from shared.reports import add_goal
from shared.storage import write_transaction
from tests.notify.conftest import Receiver, SmtpServer
from tests.notify.traffic import visit, write
from tests.queries.factory import make_site

TZ = "Europe/Berlin"
NOW = datetime(2026, 12, 8, 11, 0)       # Tuesday 12:00 in Berlin


def _setup(engine: Engine, receiver: Receiver, *, spike: int | None = None,
           drop: int | None = None, fmt: str = "json",
           events: tuple[str, ...] = ("spike", "drop", "goal")) -> int:
    site = make_site(engine, "example.com", TZ)
    with write_transaction(engine) as conn:
        set_alert_rules(conn, site, spike_visitors=spike, drop_percent=drop,
                        emails=["ops@example.com"], now=NOW - timedelta(days=60))
        hook = add_webhook(conn, site, receiver.base + "/hook", events, payload_format=fmt,
                           now=NOW - timedelta(days=60))
    receiver.secrets["/hook"] = hook.secret
    return site


def _visitors_now(engine: Engine, site: int, n: int, at: datetime) -> None:
    rows = [r for i in range(n) for r in visit(site, at - timedelta(seconds=10 * i + 5))]
    write(engine, rows, site, TZ, at)


def test_a_spike_sends_one_email_and_one_signed_webhook_per_episode(
        engine: Engine, notify_env: SmtpServer, receiver: Receiver) -> None:
    site = _setup(engine, receiver, spike=5)
    _visitors_now(engine, site, 6, NOW)
    result = run_notifications(engine, NOW)
    assert result["alerts_queued"] == 2
    (mail,) = notify_env.inbox.messages
    assert mail["Subject"] == "Traffic spike on example.com: 6 current visitors"
    assert notify_env.inbox.envelopes[0][1] == ["ops@example.com"]
    (call,) = receiver.requests
    assert call["verified"] is True
    assert call["headers"]["X-Beacon-Event"] == "spike"
    assert call["json"]["event"] == "spike" and call["json"]["site"] == "example.com"
    assert call["json"]["data"] == {"current_visitors": 6, "threshold": 5}

    # Still above the threshold a minute later: the same episode, nothing new.
    _visitors_now(engine, site, 7, NOW + timedelta(minutes=1))
    run_notifications(engine, NOW + timedelta(minutes=1))
    assert len(notify_env.inbox.messages) == 1 and len(receiver.requests) == 1
    # Calm (no current visitors) ends the episode; a new spike is a new episode.
    run_notifications(engine, NOW + timedelta(minutes=20))
    _visitors_now(engine, site, 9, NOW + timedelta(minutes=40))
    run_notifications(engine, NOW + timedelta(minutes=40))
    assert len(notify_env.inbox.messages) == 2 and len(receiver.requests) == 2
    assert receiver.requests[1]["json"]["data"]["current_visitors"] == 9


def _usual_tuesdays(engine: Engine, site: int, per_day: int) -> None:
    """`per_day` visitors on each of the last four Tuesdays, 07:00-10:00 local."""
    rows = []
    for week in range(1, 5):
        day = date(2026, 12, 8) - timedelta(days=7 * week)
        for v in range(per_day):
            rows += visit(site, datetime(day.year, day.month, day.day, 6) +
                          timedelta(minutes=9 * v))
    write(engine, rows, site, TZ, NOW)


@pytest.mark.parametrize("today", [0, 3], ids=["snippet-stopped", "few-visitors"])
def test_a_drop_sends_one_email_and_one_signed_webhook(
        engine: Engine, notify_env: SmtpServer, receiver: Receiver, today: int) -> None:
    site = _setup(engine, receiver, drop=50)
    _usual_tuesdays(engine, site, 20)
    if today:
        write(engine, [r for v in range(today) for r in visit(
            site, datetime(2026, 12, 8, 7) + timedelta(minutes=v))], site, TZ, NOW)
    run_notifications(engine, NOW)
    (mail,) = notify_env.inbox.messages
    share = round(100 * today / 20)
    assert mail["Subject"] == f"Traffic drop on example.com: {share}% of the usual"
    body = mail.get_body(("plain",)).get_content()
    assert f"{today} visitors today so far" in body
    assert ("tracking snippet" in body) == (today == 0)
    (call,) = receiver.requests
    assert call["verified"] is True
    assert call["json"]["event"] == "drop"
    assert call["json"]["data"] == {"visitors_today": today, "usual": 20.0,
                                    "percent_of_usual": float(share), "threshold": 50}
    for minutes in (5, 60, 24 * 60):        # still low, later and the next day: one episode
        run_notifications(engine, NOW + timedelta(minutes=minutes))
    assert len(notify_env.inbox.messages) == 1 and len(receiver.requests) == 1


def test_no_drop_alert_without_a_usual_to_compare_with(
        engine: Engine, notify_env: SmtpServer, receiver: Receiver) -> None:
    _setup(engine, receiver, drop=50)
    run_notifications(engine, NOW)
    assert notify_env.inbox.messages == [] and receiver.requests == []


def test_a_goal_threshold_notifies_once_a_day(
        engine: Engine, notify_env: SmtpServer, receiver: Receiver) -> None:
    site = _setup(engine, receiver)
    with write_transaction(engine) as conn:
        goal = add_goal(conn, site, event_name="signup", display_name="Signup", now=NOW)
        add_goal_threshold(conn, site, goal.id, 3, now=NOW)
    rows = [r for v in range(2) for r in visit(site, NOW - timedelta(hours=2, minutes=v),
                                               signup=True)]
    write(engine, rows, site, TZ, NOW)
    run_notifications(engine, NOW)
    assert receiver.requests == []
    write(engine, visit(site, NOW - timedelta(minutes=30), signup=True), site, TZ, NOW)
    run_notifications(engine, NOW)
    run_notifications(engine, NOW + timedelta(hours=1))
    (call,) = receiver.requests
    assert call["verified"] and call["json"]["event"] == "goal"
    assert call["json"]["data"]["conversions"] == 3
    assert len(notify_env.inbox.messages) == 1


def test_failed_calls_are_retried_with_backoff_and_logged(
        engine: Engine, notify_env: SmtpServer, receiver: Receiver) -> None:
    site = _setup(engine, receiver, spike=1, events=("spike",))
    _visitors_now(engine, site, 2, NOW)
    receiver.status = 500
    run_notifications(engine, NOW)
    with engine.connect() as conn:
        (entry,) = delivery_log(conn, site, channel="webhook")
    assert (entry.status, entry.attempts, entry.response_code) == ("pending", 1, 500)
    run_notifications(engine, NOW + timedelta(seconds=30))     # not due before 1 minute
    assert len(receiver.requests) == 1
    run_notifications(engine, NOW + timedelta(minutes=1))
    with engine.connect() as conn:
        (entry,) = delivery_log(conn, site, channel="webhook")
        nxt = conn.execute(sa.select(schema.notifications.c.next_attempt_at).where(
            schema.notifications.c.id == entry.id)).scalar()
    assert (entry.status, entry.attempts) == ("pending", 2)
    assert nxt == NOW + timedelta(minutes=3)                    # then 2 minutes
    receiver.status = 204
    run_notifications(engine, NOW + timedelta(minutes=3))
    with engine.connect() as conn:
        (entry,) = delivery_log(conn, site, channel="webhook")
    assert (entry.status, entry.attempts, entry.response_code) == ("sent", 3, 204)
    assert len(receiver.requests) == 3 and all(r["verified"] for r in receiver.requests)
    # One delivery id across the tries, so a receiver can tell repeats apart.
    assert len({r["headers"]["X-Beacon-Delivery"] for r in receiver.requests}) == 1


def test_redirects_are_not_followed(
        engine: Engine, notify_env: SmtpServer, receiver: Receiver) -> None:
    site = _setup(engine, receiver, spike=1, events=("spike",))
    _visitors_now(engine, site, 2, NOW)
    receiver.status = 302
    run_notifications(engine, NOW)
    with engine.connect() as conn:
        (entry,) = delivery_log(conn, site, channel="webhook")
    assert (entry.status, entry.response_code) == ("pending", 302)
    assert [r["path"] for r in receiver.requests] == ["/hook"]


def test_slack_payload_is_a_signed_text_message(
        engine: Engine, notify_env: SmtpServer, receiver: Receiver) -> None:
    site = _setup(engine, receiver, spike=1, fmt="slack")
    _visitors_now(engine, site, 3, NOW)
    run_notifications(engine, NOW)
    (call,) = receiver.requests
    assert call["verified"]
    assert call["json"] == {"text": "Traffic spike on example.com: 3 current visitors "
                                    "(alert above 1)."}


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x",
                                 "javascript:alert(1)", "gopher://example.com",
                                 "https://", "http://exa mple.com/", "example.com/hook",
                                 "http://example.com:99999/"])
def test_only_http_urls_are_accepted(url: str) -> None:
    with pytest.raises(NotifyError):
        check_url(url)


def test_a_receiver_verifies_the_signature() -> None:
    secret, body = "whsec_test", b'{"event":"spike"}'
    now = int(time.time())
    header = signature_header(secret, now, body)
    assert verify_signature(secret, header, body)
    assert not verify_signature(secret, header, body + b" ")          # body changed
    assert not verify_signature("whsec_other", header, body)           # other secret
    assert not verify_signature(secret, header, body, now=now + 301)   # replayed later
    assert not verify_signature(secret, "t=abc,v1=00", body)
    assert not verify_signature(secret, "", body)


def test_a_test_call_reaches_the_receiver_signed_and_is_logged(
        engine: Engine, notify_env: SmtpServer, receiver: Receiver) -> None:
    from shared.core.settings import load_settings
    from shared.notify.deliver import delivery_settings, send_test_call
    from shared.sites import get_site

    site_id = _setup(engine, receiver, events=("spike",))
    with engine.connect() as conn:
        site = get_site(conn, site_id)
        (hook,) = list_webhooks(conn, site_id)
    assert site is not None
    entry = send_test_call(engine, site, hook.id, NOW, delivery_settings(load_settings()))
    assert (entry.status, entry.response_code, entry.event) == ("sent", 200, "test")
    (call,) = receiver.requests
    assert call["verified"] and call["json"]["event"] == "test"
    receiver.status = 404
    failed = send_test_call(engine, site, hook.id, NOW, delivery_settings(load_settings()))
    assert (failed.status, failed.response_code) == ("pending", 404)
    assert "HTTP 404" in (failed.last_error or "")
