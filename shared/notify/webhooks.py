"""Notify stage: a site's outgoing webhooks - URL, events, payload format, secret.

Only http(s) URLs the owner typed are ever called (checked here and again before each
call); the secret is random, shown to the owner, and signs every body (signing.py).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared.core import schema
from shared.notify.errors import NotifyError

W = schema.webhooks
EVENTS = ("report", "spike", "drop", "goal")
FORMATS = ("json", "slack")
MAX_URL = 2000


@dataclass(frozen=True)
class Webhook:
    id: int
    site_id: int
    url: str
    events: tuple[str, ...]
    payload_format: str
    secret: str
    created_at: datetime


def _from_row(row: Any) -> Webhook:
    m = row._mapping
    return Webhook(m["id"], m["site_id"], m["url"], tuple(m["events"]), m["payload_format"],
                   m["secret"], m["created_at"])


def check_url(raw: str) -> str:
    """An absolute http(s) URL with a host; NotifyError naming the problem otherwise."""
    url = raw.strip()
    if not url:
        raise NotifyError("a webhook needs a URL")
    if len(url) > MAX_URL or any(c.isspace() or ord(c) < 32 for c in url):
        raise NotifyError("the webhook URL is too long or contains spaces or control "
                          "characters")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise NotifyError(f"webhook URLs must start with https:// or http:// (got "
                          f"{parts.scheme or 'no scheme'!r})")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise NotifyError("the webhook URL has an invalid port") from None
    if not parts.hostname:
        raise NotifyError("the webhook URL has no host name")
    return url


def check_events(events: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    unknown = [e for e in events if e not in EVENTS]
    if unknown:
        raise NotifyError(f"unknown webhook event {unknown[0]!r} (expected "
                          f"{', '.join(EVENTS)})")
    if not events:
        raise NotifyError(f"choose at least one event ({', '.join(EVENTS)})")
    return tuple(e for e in EVENTS if e in events)


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def add_webhook(conn: Connection, site_id: int, url: str, events: list[str] | tuple[str, ...],
                *, payload_format: str = "json", now: datetime) -> Webhook:
    if payload_format not in FORMATS:
        raise NotifyError(f"unknown payload format {payload_format!r} (expected json or slack)")
    new_id = conn.execute(sa.insert(W).values(
        site_id=site_id, url=check_url(url), events=list(check_events(events)),
        payload_format=payload_format, secret=new_secret(), created_at=now,
    ).returning(W.c.id)).scalar_one()
    return require_webhook(conn, site_id, new_id)


def list_webhooks(conn: Connection, site_id: int, event: str | None = None) -> list[Webhook]:
    hooks = [_from_row(r) for r in conn.execute(
        sa.select(W).where(W.c.site_id == site_id).order_by(W.c.id))]
    return [h for h in hooks if event is None or event in h.events]


def get_webhook(conn: Connection, webhook_id: int) -> Webhook | None:
    row = conn.execute(sa.select(W).where(W.c.id == webhook_id)).first()
    return _from_row(row) if row else None


def require_webhook(conn: Connection, site_id: int, webhook_id: int) -> Webhook:
    hook = get_webhook(conn, webhook_id)
    if hook is None or hook.site_id != site_id:
        raise NotifyError(f"no webhook {webhook_id} on this site")
    return hook


def remove_webhook(conn: Connection, site_id: int, webhook_id: int) -> Webhook:
    """Delete a webhook and its queued calls (its delivery log goes with it)."""
    hook = require_webhook(conn, site_id, webhook_id)
    n = schema.notifications
    conn.execute(sa.delete(n).where(n.c.channel == "webhook", n.c.target == str(hook.id)))
    conn.execute(sa.delete(W).where(W.c.id == hook.id))
    return hook

