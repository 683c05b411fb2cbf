"""Notify stage: who gets a site's e-mail reports, weekly and/or monthly.

The unsubscribe token is random (32 bytes) and unique: the link in each report carries
it, so unsubscribing needs no sign-in, and a token can only ever unsubscribe its own
row (a guessed token finds nothing).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared.core import schema
from shared.notify.errors import NotifyError

R = schema.report_subscriptions
# One address, no display name, no list: what goes into a To header as it is.
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*"
                    r"[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")


@dataclass(frozen=True)
class Subscription:
    id: int
    site_id: int
    email: str
    weekly: bool
    monthly: bool
    unsubscribe_token: str
    created_at: datetime

    @property
    def periods(self) -> tuple[str, ...]:
        return tuple(p for p, on in (("week", self.weekly), ("month", self.monthly)) if on)


def _from_row(row: Any) -> Subscription:
    m = row._mapping
    return Subscription(m["id"], m["site_id"], m["email"], bool(m["weekly"]),
                        bool(m["monthly"]), m["unsubscribe_token"], m["created_at"])


def check_email(raw: str) -> str:
    """A single plain e-mail address, lower-cased; NotifyError otherwise."""
    email = raw.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise NotifyError(f"{raw!r} is not an e-mail address (expected e.g. "
                          "owner@example.com)")
    return email


def subscribe(conn: Connection, site_id: int, email: str, *, weekly: bool, monthly: bool,
              now: datetime) -> Subscription:
    """Add a recipient, or change which reports an existing one gets."""
    email = check_email(email)
    if not (weekly or monthly):
        raise NotifyError("choose weekly, monthly or both (to stop all reports, remove "
                          "the recipient)")
    found = get_subscription(conn, site_id, email)
    if found is None:
        conn.execute(sa.insert(R).values(
            site_id=site_id, email=email, weekly=weekly, monthly=monthly,
            unsubscribe_token=secrets.token_urlsafe(32), created_at=now))
    else:
        conn.execute(sa.update(R).where(R.c.id == found.id)
                     .values(weekly=weekly, monthly=monthly))
    result = get_subscription(conn, site_id, email)
    assert result is not None
    return result


def get_subscription(conn: Connection, site_id: int, email: str) -> Subscription | None:
    row = conn.execute(sa.select(R).where(R.c.site_id == site_id,
                                          R.c.email == email.strip().lower())).first()
    return _from_row(row) if row else None


def list_subscriptions(conn: Connection, site_id: int | None = None) -> list[Subscription]:
    query = sa.select(R).order_by(R.c.site_id, R.c.email)
    if site_id is not None:
        query = query.where(R.c.site_id == site_id)
    return [_from_row(r) for r in conn.execute(query)]


def unsubscribe(conn: Connection, site_id: int, email: str) -> Subscription:
    found = get_subscription(conn, site_id, email)
    if found is None:
        raise NotifyError(f"{email} gets no reports of this site")
    conn.execute(sa.delete(R).where(R.c.id == found.id))
    return found


def subscription_by_token(conn: Connection, token: str) -> Subscription | None:
    if not token or len(token) > 64:
        return None
    row = conn.execute(sa.select(R).where(R.c.unsubscribe_token == token)).first()
    return _from_row(row) if row else None


def unsubscribe_by_token(conn: Connection, token: str) -> Subscription | None:
    """The link in a report: removes its recipient; None when the token is unknown
    (already unsubscribed, or never valid)."""
    found = subscription_by_token(conn, token)
    if found is not None:
        conn.execute(sa.delete(R).where(R.c.id == found.id))
    return found
