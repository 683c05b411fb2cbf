"""Stats API keys of a site: created in the dashboard, hashed at rest, revocable.

A key is `bk_live_` + 32 random bytes, shown once. Only its SHA-256 and a short prefix
(to tell keys apart in lists) are stored; `verify_key` finds the live key for a token.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared.core import schema
from shared.core.clock import utc_now
from shared.sites import hash_token

KEY_PREFIX = "bk_live_"  # noqa: S105 - a prefix, not a secret
_SHOWN = 12   # characters of the key kept in clear to recognise it in a list


@dataclass(frozen=True)
class ApiKey:
    id: int
    site_id: int
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _key(row: sa.Row) -> ApiKey:
    m = row._mapping
    return ApiKey(id=m["id"], site_id=m["site_id"], name=m["name"], prefix=m["prefix"],
                  created_at=m["created_at"], revoked_at=m["revoked_at"])


def _now(now: datetime | None) -> datetime:
    return now or utc_now()


def create_key(conn: Connection, site_id: int, name: str,
               now: datetime | None = None) -> tuple[str, ApiKey]:
    """A new key for `site_id`; returns (token, key). The token cannot be shown again."""
    name = name.strip()
    if not name or len(name) > 200:
        raise ValueError("an API key needs a name of 1 to 200 characters")
    token = KEY_PREFIX + secrets.token_urlsafe(32)
    t = schema.api_keys
    conn.execute(sa.insert(t).values(site_id=site_id, name=name, key_hash=hash_token(token),
                                     prefix=token[:_SHOWN], created_at=_now(now)))
    row = conn.execute(sa.select(t).where(t.c.key_hash == hash_token(token))).one()
    return token, _key(row)


def list_keys(conn: Connection, site_id: int) -> list[ApiKey]:
    t = schema.api_keys
    return [_key(r) for r in conn.execute(sa.select(t).where(t.c.site_id == site_id)
                                          .order_by(t.c.id))]


def revoke_key(conn: Connection, site_id: int, key: int | str,
               now: datetime | None = None) -> ApiKey:
    """Revoke a live key of `site_id` given by id or prefix; the site check stops revoking
    another site's key. Raises ValueError when no such live key exists."""
    t = schema.api_keys
    text = str(key).strip()
    which = t.c.id == int(text) if text.isdigit() else t.c.prefix == text.rstrip("…")
    row = conn.execute(sa.select(t).where(which, t.c.site_id == site_id,
                                          t.c.revoked_at.is_(None))).first()
    if row is None:
        raise ValueError(f"no active key {text!r} for this site")
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
