"""Notify stage: the outbox - every e-mail and webhook call, queued, tried, logged.

A row is queued once: its `dedupe_key` ("report:week:2026-11-30:7:a@example.com",
"spike:3:2026-12-07T10:15:00:webhook:2") is unique, so the worker may schedule the same
report or alert any number of times and one row - one delivery - results. A worker
claims a row by moving it from `pending` to `sending` in one UPDATE (only one worker
wins); a failed try goes back to `pending` with twice the previous wait, up to the
configured number of tries, then stays `failed`. The rows are the delivery log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared.core import schema
from shared.storage import insert_ignoring_duplicates

N = schema.notifications
FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=6)
# A row left `sending` this long belongs to a worker that died while delivering it.
LEASE = timedelta(minutes=10)
INTERRUPTED = ("interrupted while sending (the worker stopped); not tried again so that "
               "it cannot arrive twice")


@dataclass(frozen=True)
class Notification:
    id: int
    site_id: int
    channel: str            # "email" or "webhook"
    target: str             # the address, or the webhook's id
    event: str              # report, spike, drop, goal
    payload: dict[str, Any]
    attempts: int
    status: str
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None
    response_code: int | None


def _from_row(row: Any) -> Notification:
    m = row._mapping
    return Notification(m["id"], m["site_id"], m["channel"], m["target"], m["event"],
                        dict(m["payload"]), m["attempts"], m["status"], m["created_at"],
                        m["sent_at"], m["last_error"], m["response_code"])


def enqueue(conn: Connection, *, site_id: int, channel: str, target: str, event: str,
            dedupe_key: str, payload: dict[str, Any], now: datetime) -> bool:
    """Queue one delivery unless one with `dedupe_key` exists; True when queued now."""
    before = conn.execute(sa.select(N.c.id).where(N.c.dedupe_key == dedupe_key)).first()
    if before is not None:
        return False
    insert_ignoring_duplicates(conn, N, [dict(
        site_id=site_id, channel=channel, target=target, event=event, dedupe_key=dedupe_key,
        payload=payload, status="pending", attempts=0, next_attempt_at=now, created_at=now,
    )], ["dedupe_key"])
    return True


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed try: 1, 2, 4, 8 ... minutes, at most 6 h."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_WAIT)


def claim_due(conn: Connection, now: datetime, *, channels: tuple[str, ...] = ("email", "webhook"),
              keys: tuple[str, ...] | None = None, limit: int = 50) -> list[Notification]:
    """Rows of `channels` (or with these dedupe `keys`) due now, each moved to `sending`
    by this caller alone."""
    _recover_interrupted(conn, now)
    due = sa.select(N.c.id).where(N.c.status == "pending", N.c.next_attempt_at <= now,
                                  N.c.channel.in_(channels))
    if keys is not None:
        due = due.where(N.c.dedupe_key.in_(keys))
    ids = conn.execute(due.order_by(N.c.next_attempt_at, N.c.id).limit(limit)).scalars().all()
    claimed = []
    for row_id in ids:
        won = conn.execute(sa.update(N).where(N.c.id == row_id, N.c.status == "pending")
                           .values(status="sending", next_attempt_at=now + LEASE)).rowcount
        if won == 1:
            claimed.append(row_id)
    if not claimed:
        return []
    rows = conn.execute(sa.select(N).where(N.c.id.in_(claimed)).order_by(N.c.id))
    return [_from_row(r) for r in rows]


def _recover_interrupted(conn: Connection, now: datetime) -> None:
    """A webhook call left `sending` is tried again (receivers tell repeats apart by the
    delivery id); an e-mail is not, because it may have been accepted already."""
    stale = sa.and_(N.c.status == "sending", N.c.next_attempt_at <= now)
    conn.execute(sa.update(N).where(stale, N.c.channel == "webhook")
                 .values(status="pending", next_attempt_at=now))
    conn.execute(sa.update(N).where(stale, N.c.channel == "email")
                 .values(status="failed", last_error=INTERRUPTED))


def mark_sent(conn: Connection, item: Notification, now: datetime,
              response_code: int | None = None) -> None:
    conn.execute(sa.update(N).where(N.c.id == item.id).values(
        status="sent", attempts=item.attempts + 1, sent_at=now, last_error=None,
        response_code=response_code))


def mark_failed(conn: Connection, item: Notification, now: datetime, error: str,
                max_attempts: int, response_code: int | None = None) -> str:
    """Record a failed try; the row waits for its next try or, after the last, is
    `failed`. Returns the new status."""
    attempts = item.attempts + 1
    status = "failed" if attempts >= max_attempts else "pending"
    conn.execute(sa.update(N).where(N.c.id == item.id).values(
        status=status, attempts=attempts, next_attempt_at=now + backoff(attempts),
        last_error=error[:500], response_code=response_code))
    return status


def entry(conn: Connection, item_id: int) -> Notification:
    return _from_row(conn.execute(sa.select(N).where(N.c.id == item_id)).one())


def delivery_log(conn: Connection, site_id: int, *, channel: str | None = None,
                 limit: int = 200) -> list[Notification]:
    """The site's latest deliveries, newest first."""
    query = sa.select(N).where(N.c.site_id == site_id)
    if channel is not None:
        query = query.where(N.c.channel == channel)
    rows = conn.execute(query.order_by(N.c.created_at.desc(), N.c.id.desc()).limit(limit))
    return [_from_row(r) for r in rows]

