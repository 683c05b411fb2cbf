"""The worker's housekeeping jobs besides rollups: salt rotation, visit expiry, retention,
expired dashboard logins, the audit log's retention.

Each job is `(engine, now) -> int` (rows touched) and safe to run from several workers
at once: salts are inserted race-free, deletes are idempotent.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shared.accounts import audit
from shared.accounts.login_tokens import delete_expired_tokens
from shared.accounts.sign_in_throttle import delete_old_entries
from shared.core import schema
from shared.core.settings import load_settings
from shared.ingest.salts import create_salts, delete_old_salts, salt_days
from shared.jobs.retention import apply_retention
from shared.storage import write_transaction


def rotate_salts(engine: Engine, now: datetime) -> int:
    """Make today's and tomorrow's salts in UTC and every site's time zone (so midnight
    needs no write on the request path, and a database outage over midnight changes
    nothing) and delete every salt older than yesterday's: then nobody can link a
    visitor hash back to an IP address and user agent."""
    with write_transaction(engine) as conn:
        zones = conn.execute(sa.select(schema.sites.c.timezone).distinct()).scalars()
        create_salts(conn, now, salt_days(now, zones))
        return delete_old_salts(conn, now)


def expire_sessions(conn: Connection, now: datetime, timeout: timedelta) -> int:
    """Forget visits idle for longer than twice the timeout: their rows only served to
    continue a visit, and a visit that old can no longer continue."""
    t = schema.visitor_sessions
    result = conn.execute(sa.delete(t).where(t.c.last_seen < now - 2 * timeout))
    return result.rowcount or 0


def expire_visits(engine: Engine, now: datetime) -> int:
    timeout = timedelta(minutes=load_settings().session_timeout_minutes)
    with write_transaction(engine) as conn:
        return expire_sessions(conn, now, timeout)


def enforce_retention(engine: Engine, now: datetime) -> int:
    purged = apply_retention(engine, now)
    return purged.events + purged.rollups


def expire_login_tokens(engine: Engine, now: datetime) -> int:
    """Delete remembered dashboard logins past their expiry: they no longer sign anyone
    in, and keeping them would only keep a record of who used the dashboard when."""
    with write_transaction(engine) as conn:
        return delete_expired_tokens(conn, now)


def expire_sign_in_throttle(engine: Engine, now: datetime) -> int:
    """Forget failed password tries a day old and networks unused for 90 days."""
    with write_transaction(engine) as conn:
        return delete_old_entries(conn, now)


def prune_audit_log(engine: Engine, now: datetime) -> int:
    """Delete audit entries older than BEACON_AUDIT_RETENTION_DAYS (0 keeps them all)."""
    keep_days = load_settings().audit_retention_days
    if keep_days <= 0:
        return 0
    with write_transaction(engine) as conn:
        return audit.prune(conn, now, keep_days)


# Appended to shared.jobs.worker.JOBS.
HOUSEKEEPING_JOBS = [
    ("salts", rotate_salts),
    ("sessions", expire_visits),
    ("retention", enforce_retention),
    ("login_tokens", expire_login_tokens),
    ("sign_in_throttle", expire_sign_in_throttle),
    ("audit_log", prune_audit_log),
]
