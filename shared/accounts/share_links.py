"""Public read-only share links for one site's dashboard.

The token is 32 random bytes shown once; only its SHA-256 is stored, so a copy of the
database does not reveal working links. A link may carry a password (argon2) and is
revoked by setting `revoked_at`, which keeps the record of when it existed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared.accounts.users import hash_password, verify_password
from shared.core import schema
from shared.core.clock import utc_now
from shared.sites import hash_token

TOKEN_PREFIX = "sh_"  # noqa: S105 - a prefix, not a secret


@dataclass(frozen=True)
class ShareLink:
    id: int
    site_id: int
    has_password: bool
    created_at: datetime
    revoked_at: datetime | None


def _link(row: sa.Row) -> ShareLink:
    m = row._mapping
    return ShareLink(id=m["id"], site_id=m["site_id"],
                     has_password=m["password_hash"] is not None,
                     created_at=m["created_at"], revoked_at=m["revoked_at"])


def create_share_link(conn: Connection, site_id: int, *, password: str | None = None,
                      now: datetime | None = None) -> tuple[ShareLink, str]:
    """A new link for `site_id`; returns (link, token). The token cannot be shown again."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    t = schema.share_links
    conn.execute(sa.insert(t).values(
        site_id=site_id, token_hash=hash_token(token),
        password_hash=hash_password(password) if password else None,
        created_at=now or utc_now()))
    row = conn.execute(sa.select(t).where(t.c.token_hash == hash_token(token))).one()
    return _link(row), token


def list_share_links(conn: Connection, site_id: int) -> list[ShareLink]:
    t = schema.share_links
    rows = conn.execute(sa.select(t).where(t.c.site_id == site_id).order_by(t.c.id))
    return [_link(r) for r in rows]


def resolve_share_link(conn: Connection, token: str) -> ShareLink | None:
    """The live link for `token`, or None when it is unknown or revoked."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    t = schema.share_links
    row = conn.execute(sa.select(t).where(t.c.token_hash == hash_token(token),
                                          t.c.revoked_at.is_(None))).first()
    return _link(row) if row else None


def check_share_password(conn: Connection, link: ShareLink, password: str) -> bool:
    if not link.has_password:
        return True
    t = schema.share_links
    stored = conn.execute(sa.select(t.c.password_hash).where(t.c.id == link.id)).scalar()
    return verify_password(stored, password)


def revoke_share_link(conn: Connection, link_id: int, site_id: int,
                      *, now: datetime | None = None) -> bool:
    """Revoke a link of `site_id` (the site check stops revoking another site's link)."""
    t = schema.share_links
    result = conn.execute(sa.update(t).where(t.c.id == link_id, t.c.site_id == site_id,
                                             t.c.revoked_at.is_(None))
                          .values(revoked_at=now or utc_now()))
    return bool(result.rowcount)
