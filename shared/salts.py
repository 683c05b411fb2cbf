"""Daily salts for the visitor hash.

One random 32-byte salt per UTC day, kept in the database so every process agrees.
The previous day's salt is still offered (a visit across midnight continues);
anything older than 48 hours is deleted, after which nobody - us included - can
link a visitor hash back to an IP address and user agent.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared import schema
from shared.storage import insert_ignoring_duplicates

KEEP = timedelta(hours=48)


def ensure_salts(conn: Connection, now: datetime) -> tuple[bytes, bytes | None]:
    """(today's salt, yesterday's salt or None) for the UTC day of `now`; creates
    today's salt if no process has yet. Safe when several processes race."""
    today = now.date()
    insert_ignoring_duplicates(conn, schema.salts, [
        {"day": today, "salt": secrets.token_bytes(32), "created_at": now}], ["day"])
    rows = conn.execute(sa.select(schema.salts.c.day, schema.salts.c.salt)
                        .where(schema.salts.c.day >= today - timedelta(days=1))).all()
    by_day: dict[date, bytes] = {r.day: bytes(r.salt) for r in rows}
    return by_day[today], by_day.get(today - timedelta(days=1))


def delete_old_salts(conn: Connection, now: datetime) -> int:
    """Delete salts created more than 48 hours before `now`; returns how many."""
    result = conn.execute(sa.delete(schema.salts).where(schema.salts.c.created_at < now - KEEP))
    return result.rowcount or 0
