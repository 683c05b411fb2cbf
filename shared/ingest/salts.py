"""Daily salts for the visitor hash.

One random 32-byte salt per UTC day, kept in the database so every process agrees.
The previous day's salt is still offered (a visit across midnight continues);
anything older than 48 hours is deleted, after which nobody - us included - can
link a visitor hash back to an IP address and user agent. Tomorrow's salt is made a
day ahead, so the request path only reads, and midnight needs no database write.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared.core import schema
from shared.storage import insert_ignoring_duplicates


def read_salts(conn: Connection, today: date) -> tuple[bytes, bytes | None] | None:
    """(today's salt, yesterday's salt or None), or None when today's is missing."""
    rows = conn.execute(sa.select(schema.salts.c.day, schema.salts.c.salt)
                        .where(schema.salts.c.day >= today - timedelta(days=1),
                               schema.salts.c.day <= today)).all()
    by_day: dict[date, bytes] = {r.day: bytes(r.salt) for r in rows}
    if today not in by_day:
        return None
    return by_day[today], by_day.get(today - timedelta(days=1))


def salt_days(now: datetime, zones: Iterable[str] = ()) -> set[date]:
    """The days whose salts must exist ahead of time: today and tomorrow in UTC and in
    every zone in `zones` (the sites' time zones), so no midnight needs a write."""
    days = {now.date(), now.date() + timedelta(days=1)}
    for name in zones:
        try:
            local = now.replace(tzinfo=UTC).astimezone(ZoneInfo(name)).date()
        except (ZoneInfoNotFoundError, ValueError):
            continue
        days |= {local, local + timedelta(days=1)}
    return days


def create_salts(conn: Connection, now: datetime, days: Iterable[date] | None = None,
                 offered: Mapping[date, bytes] | None = None) -> None:
    """Create the salts of `days` (default today and tomorrow) that no process has made
    yet (race-safe: the first insert wins). `offered` salts are used instead of new
    random ones: a beacon that had to make one while the database was away offers it,
    so the visitor ids it made stay valid."""
    wanted = sorted(set(days) if days is not None else salt_days(now))
    offered = offered or {}
    insert_ignoring_duplicates(conn, schema.salts, [
        {"day": day, "salt": offered.get(day) or secrets.token_bytes(32), "created_at": now}
        for day in wanted], ["day"])


def read_salt_days(conn: Connection, first: date, last: date) -> dict[date, bytes]:
    """Every stored salt from `first` to `last` (inclusive), by day."""
    rows = conn.execute(sa.select(schema.salts.c.day, schema.salts.c.salt)
                        .where(schema.salts.c.day >= first, schema.salts.c.day <= last)).all()
    return {r.day: bytes(r.salt) for r in rows}


def ensure_salts(conn: Connection, now: datetime) -> tuple[bytes, bytes | None]:
    found = read_salts(conn, now.date())
    if found is None:
        create_salts(conn, now)
        found = read_salts(conn, now.date())
    assert found is not None
    return found


def delete_old_salts(conn: Connection, now: datetime) -> int:
    """Delete every salt older than yesterday's: a salt lives 48 hours from the start of
    its day (its day, then the next as the previous salt), and not a moment longer."""
    cutoff = now.date() - timedelta(days=1)
    result = conn.execute(sa.delete(schema.salts).where(schema.salts.c.day < cutoff))
    return result.rowcount or 0


def read_salts_of_days(conn: Connection, days: set[date]) -> dict[date, bytes]:
    """The salts still stored for `days` (a day whose salt was deleted is missing)."""
    if not days:
        return {}
    rows = conn.execute(sa.select(schema.salts.c.day, schema.salts.c.salt)
                        .where(schema.salts.c.day.in_(sorted(days)))).all()
    return {r.day: bytes(r.salt) for r in rows}
