"""Remembered dashboard logins: a random token per password sign-in, kept by the browser.

The token is 32 random bytes (`secrets`); only its SHA-256 is stored, so a copy of the
database does not reveal a working login. A token lasts a fixed time from sign-in
(`expires_at`, BEACON_LOGIN_REMEMBER_DAYS); `last_used` records when it last opened a
session. Signing out deletes the token, a new password or removing the user deletes all
of the user's tokens, and the worker deletes expired ones. Knows nothing about Streamlit
or cookies: the dashboard's cookie glue is `dashboard_app/login_cookie.py`.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared.core import schema
from shared.core.clock import utc_now
from shared.sites import hash_token

TOKEN_PREFIX = "bl_"  # noqa: S105 - a prefix, not a secret
TOKEN_BYTES = 32
# What a token can look like: the prefix and URL-safe base64. Anything else (a cookie is
# whatever the browser sends) is refused before it reaches the database.
_TOKEN_RE = re.compile(r"^bl_[A-Za-z0-9_-]{40,60}$")


@dataclass(frozen=True)
class LoginToken:
    id: int
    user_id: int
    created_at: datetime
    expires_at: datetime
    last_used: datetime



def well_formed(token: str | None) -> bool:
    """True when `token` has the shape of a token this module makes (not that it is live)."""
    return bool(token) and _TOKEN_RE.match(token or "") is not None


def create_login_token(conn: Connection, user_id: int, lifetime: timedelta,
                       *, now: datetime | None = None) -> str:
    """A new token for `user_id`, valid for `lifetime`; returns it. It is not stored."""
    now = now or utc_now()
    token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    conn.execute(sa.insert(schema.login_tokens).values(
        user_id=user_id, token_hash=hash_token(token), created_at=now,
        expires_at=now + lifetime, last_used=now))
    return token


def get_login_token(conn: Connection, token: str) -> LoginToken | None:
    """The stored record of `token` (expired or not), or None."""
    if not well_formed(token):
        return None
    t = schema.login_tokens
    row = conn.execute(sa.select(t).where(t.c.token_hash == hash_token(token))).first()
    if row is None:
        return None
    m = row._mapping
    return LoginToken(id=m["id"], user_id=m["user_id"], created_at=m["created_at"],
                      expires_at=m["expires_at"], last_used=m["last_used"])


def _live_user(conn: Connection, token: str, now: datetime) -> sa.Row | None:
    if not well_formed(token):
        return None
    t, u = schema.login_tokens, schema.users
    return conn.execute(
        sa.select(t.c.id, u.c.email, u.c.locked_until)
        .select_from(t.join(u, u.c.id == t.c.user_id))
        .where(t.c.token_hash == hash_token(token), t.c.expires_at > now)).first()


def user_for_token(conn: Connection, token: str, *, now: datetime | None = None) -> str | None:
    """The e-mail of the user `token` signs in, or None.

    None when the token is unknown, malformed or expired, when its user is gone, or while
    the user is locked out (a lock-out stops remembered logins as it stops passwords).
    Records the use in `last_used`: call inside a write transaction.
    """
    now = now or utc_now()
    row = _live_user(conn, token, now)
    if row is None:
        return None
    if row.locked_until is not None and row.locked_until > now:
        return None
    t = schema.login_tokens
    conn.execute(sa.update(t).where(t.c.id == row.id).values(last_used=now))
    return str(row.email)


def token_is_live(conn: Connection, token: str, *, now: datetime | None = None) -> bool:
    """True while `token` is stored, unexpired and its user exists (read-only).

    The dashboard asks this on every click of a remembered session, so a new password
    or a removed user ends sessions already open, not only future ones.
    """
    return _live_user(conn, token, now or utc_now()) is not None


def revoke_login_token(conn: Connection, token: str) -> bool:
    """Delete `token` (signing out); False when it was not stored."""
    if not well_formed(token):
        return False
    t = schema.login_tokens
    result = conn.execute(sa.delete(t).where(t.c.token_hash == hash_token(token)))
    return bool(result.rowcount)


def revoke_user_tokens(conn: Connection, user_id: int) -> int:
    """Delete every token of `user_id` (new password, user removed); returns how many."""
    t = schema.login_tokens
    return conn.execute(sa.delete(t).where(t.c.user_id == user_id)).rowcount or 0


def delete_expired_tokens(conn: Connection, now: datetime) -> int:
    """Delete tokens past their expiry: they can no longer sign anyone in."""
    t = schema.login_tokens
    return conn.execute(sa.delete(t).where(t.c.expires_at <= now)).rowcount or 0
