"""API keys: created in the dashboard or the CLI, hashed at rest, revocable.

A key is `bk_live_` + 32 random bytes, shown once. Only its SHA-256 and a short prefix
(to tell keys apart in lists) are stored; `verify_key` finds the live key for a token.
Two scopes: a site's "stats" key reads that site's stats; a user's "sites" key manages
the sites that user may see (the Sites API) and reads their stats.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared.core import schema
from shared.core.clock import utc_now
from shared.sites import hash_token

KEY_PREFIX = "bk_live_"  # noqa: S105 - a prefix, not a secret
_SHOWN = 12   # characters of the key kept in clear to recognise it in a list
STATS, SITES = "stats", "sites"


@dataclass(frozen=True)
class ApiKey:
    id: int
    site_id: int | None          # a stats key's site; None for a user's sites key
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    scopes: tuple[str, ...] = (STATS,)
    user_id: int | None = None   # a sites key's user

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _key(row: sa.Row) -> ApiKey:
    m = row._mapping
    return ApiKey(id=m["id"], site_id=m["site_id"], name=m["name"], prefix=m["prefix"],
                  created_at=m["created_at"], revoked_at=m["revoked_at"],
                  scopes=tuple(m["scopes"].split(",")), user_id=m["user_id"])


def _now(now: datetime | None) -> datetime:
    return now or utc_now()


def create_key(conn: Connection, site_id: int, name: str,
               now: datetime | None = None) -> tuple[str, ApiKey]:
    """A new stats key for `site_id`; returns (token, key). The token cannot be shown
    again."""
    return _insert(conn, name, now, site_id=site_id, scopes=STATS)


def create_sites_key(conn: Connection, user_id: int, name: str,
                     now: datetime | None = None) -> tuple[str, ApiKey]:
    """A new sites key of `user_id` (the Sites API, and the stats of the user's sites)."""
    return _insert(conn, name, now, user_id=user_id, scopes=SITES)


def _insert(conn: Connection, name: str, now: datetime | None,
            **owner: Any) -> tuple[str, ApiKey]:
    name = name.strip()
    if not name or len(name) > 200:
        raise ValueError("an API key needs a name of 1 to 200 characters")
    token = KEY_PREFIX + secrets.token_urlsafe(32)
    t = schema.api_keys
    conn.execute(sa.insert(t).values(name=name, key_hash=hash_token(token),
                                     prefix=token[:_SHOWN], created_at=_now(now), **owner))
    row = conn.execute(sa.select(t).where(t.c.key_hash == hash_token(token))).one()
    return token, _key(row)


def list_user_keys(conn: Connection, user_id: int) -> list[ApiKey]:
    t = schema.api_keys
    return [_key(r) for r in conn.execute(sa.select(t).where(t.c.user_id == user_id)
                                          .order_by(t.c.id))]


def revoke_user_key(conn: Connection, user_id: int, key: int | str,
                    now: datetime | None = None) -> ApiKey:
    """Revoke a live sites key of `user_id` given by id or prefix."""
    return _revoke(conn, schema.api_keys.c.user_id == user_id, key, now)


def list_keys(conn: Connection, site_id: int) -> list[ApiKey]:
    t = schema.api_keys
    return [_key(r) for r in conn.execute(sa.select(t).where(t.c.site_id == site_id)
                                          .order_by(t.c.id))]


def revoke_key(conn: Connection, site_id: int, key: int | str,
               now: datetime | None = None) -> ApiKey:
    """Revoke a live key of `site_id` given by id or prefix; the site check stops revoking
    another site's key. Raises ValueError when no such live key exists."""
    return _revoke(conn, schema.api_keys.c.site_id == site_id, key, now)


def _revoke(conn: Connection, owned: Any, key: int | str, now: datetime | None) -> ApiKey:
    t = schema.api_keys
    text = str(key).strip()
    which = t.c.id == int(text) if text.isdigit() else t.c.prefix == text.rstrip("…")
    row = conn.execute(sa.select(t).where(which, owned, t.c.revoked_at.is_(None))).first()
    if row is None:
        raise ValueError(f"no active key {text!r} for this owner")
    conn.execute(sa.update(t).where(t.c.id == row.id).values(revoked_at=_now(now)))
    return replace(_key(row), revoked_at=_now(now))


def verify_key(conn: Connection, token: str) -> ApiKey | None:
    """The live key for `token`, or None when unknown or revoked."""
    if not token.startswith(KEY_PREFIX) or len(token) > 100:
        return None
    t = schema.api_keys
    row = conn.execute(sa.select(t).where(t.c.key_hash == hash_token(token),
                                          t.c.revoked_at.is_(None))).first()
    return _key(row) if row else None
