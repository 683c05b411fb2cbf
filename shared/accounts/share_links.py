"""Public read-only share links for one site's dashboard.

The token is 32 random bytes shown once; only its SHA-256 is stored, so a copy of the
database does not reveal working links. A link may carry a password (argon2) and is
revoked by setting `revoked_at`, which keeps the record of when it existed.

Every link expires: DEFAULT_EXPIRY_DAYS unless its creator picks another time, never
later than MAX_EXPIRY_DAYS (a link made before expiry existed counts from its creation).
Password guesses go through the same throttle as sign-ins (`shared.accounts.sign_in_throttle`),
keyed by link and client address.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared.accounts.sign_in_throttle import ThrottlePolicy, may_try, record_failure, record_success
from shared.accounts.users import AuthError, hash_password, verify_password
from shared.core import schema
from shared.core.clock import utc_now
from shared.sites import hash_token

TOKEN_PREFIX = "sh_"  # noqa: S105 - a prefix, not a secret
DEFAULT_EXPIRY_DAYS = 30
MAX_EXPIRY_DAYS = 365


@dataclass(frozen=True)
class ShareLink:
    id: int
    site_id: int
    has_password: bool
    created_at: datetime
    revoked_at: datetime | None
    expires_at: datetime
    name: str | None = None      # set by the Sites API, which finds links by name


def _link(row: sa.Row) -> ShareLink:
    m = row._mapping
    expires = m["expires_at"] or m["created_at"] + timedelta(days=MAX_EXPIRY_DAYS)
    return ShareLink(id=m["id"], site_id=m["site_id"],
                     has_password=m["password_hash"] is not None,
                     created_at=m["created_at"], revoked_at=m["revoked_at"], expires_at=expires,
                     name=m["name"])


def create_share_link(conn: Connection, site_id: int, *, password: str | None = None,
                      days: int = DEFAULT_EXPIRY_DAYS, now: datetime | None = None,
                      name: str | None = None) -> tuple[ShareLink, str]:
    """A new link for `site_id` that works for `days`; returns (link, token). The token
    cannot be shown again."""
    if not 1 <= days <= MAX_EXPIRY_DAYS:
        raise AuthError(f"a share link lasts 1 to {MAX_EXPIRY_DAYS} days, not {days}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    t = schema.share_links
    now = now or utc_now()
    conn.execute(sa.insert(t).values(
        site_id=site_id, token_hash=hash_token(token),
        password_hash=hash_password(password) if password else None,
        created_at=now, expires_at=now + timedelta(days=days), name=name))
    row = conn.execute(sa.select(t).where(t.c.token_hash == hash_token(token))).one()
    return _link(row), token


def list_share_links(conn: Connection, site_id: int) -> list[ShareLink]:
    t = schema.share_links
    rows = conn.execute(sa.select(t).where(t.c.site_id == site_id).order_by(t.c.id))
    return [_link(r) for r in rows]


def resolve_share_link(conn: Connection, token: str, *,
                       now: datetime | None = None) -> ShareLink | None:
    """The live link for `token`, or None when it is unknown, revoked or expired."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    t = schema.share_links
    row = conn.execute(sa.select(t).where(t.c.token_hash == hash_token(token),
                                          t.c.revoked_at.is_(None))).first()
    link = _link(row) if row else None
    return link if link and link.expires_at > (now or utc_now()) else None


def check_share_password(conn: Connection, link: ShareLink, password: str, *,
                         client_ip: str = "", now: datetime | None = None,
                         policy: ThrottlePolicy | None = None) -> bool:
    """True when `password` opens `link`; guesses are throttled per (link, address).
    Call inside a write transaction (the throttle records failures)."""
    if not link.has_password:
        return True
    now, policy = now or utc_now(), policy or ThrottlePolicy()
    subject = f"share:{link.id}"
    if not may_try(conn, policy, subject, client_ip, now):
        return False
    t = schema.share_links
    stored = conn.execute(sa.select(t.c.password_hash).where(t.c.id == link.id)).scalar()
    if verify_password(stored, password):
        record_success(conn, policy, subject, client_ip, now)
        return True
    record_failure(conn, policy, subject, client_ip, now)
    return False


def revoke_share_link(conn: Connection, link_id: int, site_id: int,
                      *, now: datetime | None = None) -> bool:
    """Revoke a link of `site_id` (the site check stops revoking another site's link)."""
    t = schema.share_links
    result = conn.execute(sa.update(t).where(t.c.id == link_id, t.c.site_id == site_id,
                                             t.c.revoked_at.is_(None))
                          .values(revoked_at=now or utc_now()))
    return bool(result.rowcount)
