"""Notify stage: deliver what the outbox holds - e-mails through the mail server,
webhook calls signed with their secret - and record each try.

A report's numbers are computed when it is sent (the period has ended by then). A
recipient who unsubscribed, or a webhook deleted, before its turn gets nothing: the row
is marked `cancelled`.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shared.core import schema
from shared.core.settings import Settings
from shared.notify import outbox, payloads
from shared.notify.http_post import PostError, post_json
from shared.notify.outbox import Notification
from shared.notify.report_data import build_report
from shared.notify.report_email import build_message
from shared.notify.signing import SIGNATURE_HEADER, signature_header
from shared.notify.smtp import MailError, SmtpConfig, send_message, smtp_config
from shared.notify.subscriptions import get_subscription
from shared.notify.webhooks import get_webhook
from shared.sites import Site, get_site
from shared.storage import write_transaction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """What the deliveries need besides the database."""

    smtp: SmtpConfig
    public_url: str = ""
    max_attempts: int = 8


def delivery_settings(settings: Settings) -> Delivery:
    return Delivery(smtp_config(settings), settings.public_url, settings.notify_max_attempts)


class Cancelled(Exception):
    """Nothing to deliver any more (unsubscribed, webhook or site removed)."""


def unsubscribe_url(public_url: str, token: str) -> str | None:
    return f"{public_url.rstrip('/')}/notify/unsubscribe?token={token}" if public_url else None


def report_message(conn: Connection, site: Site, item: Notification, now: datetime,
                   delivery: Delivery) -> EmailMessage:
    sub = get_subscription(conn, site.id, item.target)
    if sub is None or item.payload["kind"] not in sub.periods:
        raise Cancelled("the recipient unsubscribed before the report was sent")
    data = build_report(conn, site, item.payload["kind"], date.fromisoformat(
        item.payload["first"]), date.fromisoformat(item.payload["last"]), now)
    return build_message(data, sender=delivery.smtp.sender, to=item.target,
                         unsubscribe_url=unsubscribe_url(delivery.public_url,
                                                         sub.unsubscribe_token))


def webhook_body(conn: Connection, site: Site, item: Notification, fmt: str,
                 now: datetime) -> bytes:
    if item.event == "report":
        data = build_report(conn, site, item.payload["kind"], date.fromisoformat(
            item.payload["first"]), date.fromisoformat(item.payload["last"]), now)
        text, numbers = payloads.report_summary(data)
        return payloads.body("report", site.domain, item.created_at, text, numbers, fmt)
    return payloads.body(item.event, site.domain, item.created_at, item.payload["text"],
                         item.payload["data"], fmt)


def _send_email(conn: Connection, site: Site, item: Notification, now: datetime,
                delivery: Delivery) -> None:
    if item.event == "report":
        message = report_message(conn, site, item, now, delivery)
    else:
        message = payloads.alert_email(subject=item.payload["subject"],
                                       text=item.payload["text"],
                                       sender=delivery.smtp.sender, to=item.target)
    send_message(delivery.smtp, message)


def _call_webhook(conn: Connection, site: Site, item: Notification, now: datetime) -> int:
    hook = get_webhook(conn, int(item.target))
    if hook is None or hook.site_id != site.id:
        raise Cancelled("the webhook was removed")
    body = webhook_body(conn, site, item, hook.payload_format, now)
    # The wall clock at sending, not the worker's `now`: the receiver compares it with
    # its own clock to refuse a replayed request.
    timestamp = int(time.time())
    return post_json(hook.url, body, {
        SIGNATURE_HEADER: signature_header(hook.secret, timestamp, body),
        "X-Beacon-Event": item.event, "X-Beacon-Delivery": str(item.id)})


def deliver_one(engine: Engine, item: Notification, now: datetime, delivery: Delivery) -> str:
    """Try one claimed row; returns its new status."""
    code: int | None = None
    try:
        with engine.connect() as conn:
            site = get_site(conn, item.site_id)
            if site is None:
                raise Cancelled("the site was removed")
            if item.channel == "email":
                _send_email(conn, site, item, now, delivery)
            else:
                code = _call_webhook(conn, site, item, now)
    except Cancelled as exc:
        with write_transaction(engine) as conn:
            _cancel(conn, item, str(exc))
        return "cancelled"
    except (MailError, PostError) as exc:
        with write_transaction(engine) as conn:
            return outbox.mark_failed(conn, item, now, str(exc), delivery.max_attempts,
                                      getattr(exc, "status", None))
    with write_transaction(engine) as conn:
        outbox.mark_sent(conn, item, now, code)
    return "sent"


def _cancel(conn: Connection, item: Notification, reason: str) -> None:
    n = schema.notifications
    conn.execute(sa.update(n).where(n.c.id == item.id).values(status="cancelled",
                                                               last_error=reason))


def deliver_due(engine: Engine, now: datetime, delivery: Delivery) -> dict[str, int]:
    """Claim the due rows and try each; counts per resulting status."""
    # Without a mail server e-mails stay queued (untried) until one is configured.
    channels = ("email", "webhook") if delivery.smtp.configured else ("webhook",)
    with write_transaction(engine) as conn:
        items = outbox.claim_due(conn, now, channels=channels)
    counts: dict[str, int] = {}
    for item in items:
        try:
            status = deliver_one(engine, item, now, delivery)
        except Exception as exc:  # a bug or a database error: retried, not lost
            log.exception("delivery %s failed", item.id)
            with write_transaction(engine) as conn:
                status = outbox.mark_failed(conn, item, now, f"internal error: {exc!r}"[:500],
                                            delivery.max_attempts)
        counts[status] = counts.get(status, 0) + 1
    return counts


def send_test_call(engine: Engine, site: Site, webhook_id: int, now: datetime,
                   delivery: Delivery) -> Notification:
    """Call a webhook now with a signed `test` event (logged like any delivery, retried
    like any if it fails); returns its log entry after the first try."""
    key = f"test:{site.id}:{webhook_id}:{secrets.token_hex(8)}"
    text = f"Test call from Beacon Analytics for {site.domain}: the webhook works."
    with write_transaction(engine) as conn:
        outbox.enqueue(conn, site_id=site.id, channel="webhook", target=str(webhook_id),
                       event="test", dedupe_key=key, now=now,
                       payload={"text": text, "data": {}})
        (item,) = outbox.claim_due(conn, now, keys=(key,))
    deliver_one(engine, item, now, delivery)
    with engine.connect() as conn:
        return outbox.entry(conn, item.id)
