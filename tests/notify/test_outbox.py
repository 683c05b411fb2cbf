"""The outbox on both databases: one worker wins each row, a repeated key queues
nothing, an interrupted e-mail is never tried again (it may have arrived) while an
interrupted webhook call is, and a recipient who left before their turn gets nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from shared.core import schema
from shared.notify.deliver import Delivery, deliver_due
from shared.notify.outbox import LEASE, backoff, claim_due, delivery_log, enqueue
from shared.notify.smtp import SmtpConfig
from shared.notify.subscriptions import subscribe, unsubscribe
from shared.sites import remove_site
from shared.storage import write_transaction
from tests.queries.factory import make_site

NOW = datetime(2026, 12, 7, 6, 0)


def _queue(conn: sa.Connection, site: int, key: str, channel: str = "email",
           target: str = "a@example.com") -> bool:
    return enqueue(conn, site_id=site, channel=channel, target=target, event="report",
                   dedupe_key=key, payload={"kind": "week", "first": "2026-11-30",
                                            "last": "2026-12-06"}, now=NOW)


def test_one_row_per_key_and_one_worker_per_row(engine: Engine) -> None:
    site = make_site(engine, "example.com", "UTC")
    with write_transaction(engine) as conn:
        assert _queue(conn, site, "k1") is True
        assert _queue(conn, site, "k1") is False
        assert _queue(conn, site, "k2") is True
    with write_transaction(engine) as conn:
        first = claim_due(conn, NOW)
    with write_transaction(engine) as conn:
        second = claim_due(conn, NOW + timedelta(minutes=1))
    assert len(first) == 2 and second == []


def test_interrupted_email_is_not_retried_but_a_webhook_call_is(engine: Engine) -> None:
    site = make_site(engine, "example.com", "UTC")
    with write_transaction(engine) as conn:
        _queue(conn, site, "mail")
        _queue(conn, site, "hook", channel="webhook", target="1")
        assert len(claim_due(conn, NOW)) == 2        # ... and the worker dies here
    with write_transaction(engine) as conn:
        assert claim_due(conn, NOW + LEASE - timedelta(seconds=1)) == []
        (again,) = claim_due(conn, NOW + LEASE)
    assert again.channel == "webhook"
    with engine.connect() as conn:
        mail = next(n for n in delivery_log(conn, site) if n.channel == "email")
    assert mail.status == "failed" and "cannot arrive twice" in (mail.last_error or "")


def test_a_recipient_who_left_gets_nothing(engine: Engine) -> None:
    site = make_site(engine, "example.com", "UTC")
    with write_transaction(engine) as conn:
        subscribe(conn, site, "a@example.com", weekly=True, monthly=False, now=NOW)
        _queue(conn, site, "k")
        unsubscribe(conn, site, "a@example.com")
    # The mail server address is never reached: the row is cancelled before sending.
    counts = deliver_due(engine, NOW, Delivery(SmtpConfig("127.0.0.1", 9, tls="off",
                                                          sender="b@example.com")))
    assert counts == {"cancelled": 1}


def test_backoff_doubles_up_to_six_hours() -> None:
    assert [backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert backoff(30) == timedelta(hours=6)


def test_removing_a_site_removes_its_notification_setup(engine: Engine) -> None:
    site = make_site(engine, "example.com", "UTC")
    with write_transaction(engine) as conn:
        subscribe(conn, site, "a@example.com", weekly=True, monthly=False, now=NOW)
        _queue(conn, site, "k")
        remove_site(conn, "example.com")
    with engine.connect() as conn:
        for table in (schema.report_subscriptions, schema.notifications):
            assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() == 0


def test_mail_server_settings() -> None:
    from shared.core.settings import load_settings
    from shared.notify.smtp import smtp_config

    url = smtp_config(load_settings({"BEACON_SMTP_URL": "smtp://me%40x.org:p%3Ass@mail.x.org",
                                     "BEACON_MAIL_FROM": "Stats <s@x.org>"}))
    assert (url.host, url.port, url.user, url.password, url.tls, url.sender) == (
        "mail.x.org", 587, "me@x.org", "p:ss", "starttls", "Stats <s@x.org>")
    assert smtp_config(load_settings({"BEACON_SMTP_URL": "smtps://mail.x.org"})).port == 465
    assert smtp_config(load_settings({"BEACON_SMTP_URL": "smtp://h:25?tls=off"})).tls == "off"
    parts = smtp_config(load_settings({"BEACON_SMTP_HOST": "h", "BEACON_SMTP_TLS": "ssl",
                                       "BEACON_SMTP_USER": "u"}))
    assert (parts.host, parts.port, parts.user, parts.tls) == ("h", 465, "u", "ssl")
    assert not smtp_config(load_settings({})).configured


def test_starttls_is_required_unless_turned_off(smtp_server) -> None:
    import pytest

    from shared.notify.payloads import alert_email
    from shared.notify.smtp import MailError, send_message

    message = alert_email(subject="s", text="t", sender="b@example.com", to="a@example.com")
    with pytest.raises(MailError, match="STARTTLS"):
        send_message(SmtpConfig("127.0.0.1", smtp_server.port, user="u", password="pw",  # noqa: S106
                                tls="starttls", sender="b@example.com"), message)
    assert smtp_server.inbox.messages == []
