"""Dashboard accounts: users with argon2 password hashes, per-site roles, throttled
password checks (no lock-out: `shared.accounts.sign_in_throttle` says why).

Used by the dashboard's login form and by `beacon users`; it knows nothing about
Streamlit. Roles: "owner" may change a site (goals, settings, keys), "viewer" may only
read it; an admin is owner of every site and may manage users.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Connection

from shared.accounts.login_tokens import revoke_user_tokens
from shared.accounts.sign_in_throttle import ThrottlePolicy, may_try, record_failure, record_success
from shared.core import schema
from shared.core.clock import utc_now
from shared.sites import Site, list_sites, require_site

ROLES = ("owner", "viewer")
MIN_PASSWORD_LENGTH = 10
_EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")
_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so a wrong e-mail costs as much time
# as a wrong password and response times do not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class AuthError(ValueError):
    """An account operation was refused; the message says why, in one line."""


class LoginOutcome(StrEnum):
    OK = "ok"
    WRONG = "wrong"   # unknown e-mail, wrong password or a throttled try: never say which


@dataclass(frozen=True)
class User:
    id: int
    email: str
    is_admin: bool
    has_password: bool
    locked_until: datetime | None = None


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    user: User | None = None



def normalise_email(raw: str) -> str:
    email = raw.strip().lower()
    if not _EMAIL_RE.match(email):
        raise AuthError(f"{raw!r} is not an e-mail address")
    return email


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when `password` matches; a missing or corrupt hash never matches."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and bool(stored_hash)
    except (VerificationError, InvalidHashError):
        return False


def _user(row: sa.Row) -> User:
    m = row._mapping
    return User(id=m["id"], email=m["email"], is_admin=bool(m["is_admin"]),
                has_password=m["password_hash"] is not None, locked_until=m["locked_until"])


def get_user(conn: Connection, email: str) -> User | None:
    row = conn.execute(sa.select(schema.users)
                       .where(schema.users.c.email == normalise_email(email))).first()
    return _user(row) if row else None


def user_by_id(conn: Connection, user_id: int) -> User | None:
    row = conn.execute(sa.select(schema.users).where(schema.users.c.id == user_id)).first()
    return _user(row) if row else None


def require_user(conn: Connection, email: str) -> User:
    user = get_user(conn, email)
    if user is None:
        raise AuthError(f"no user {email!r} (see `beacon users list`)")
    return user


def add_user(conn: Connection, email: str, password: str | None, *, is_admin: bool = False,
             now: datetime | None = None) -> User:
    """Create a user; `password=None` makes an account that can only sign in with OIDC."""
    email = normalise_email(email)
    if get_user(conn, email) is not None:
        raise AuthError(f"user {email} already exists")
    conn.execute(sa.insert(schema.users).values(
        email=email, password_hash=hash_password(password) if password is not None else None,
        is_admin=is_admin, failed_logins=0, created_at=now or utc_now()))
    return require_user(conn, email)


def list_users(conn: Connection) -> list[User]:
    rows = conn.execute(sa.select(schema.users).order_by(schema.users.c.email))
    return [_user(r) for r in rows]


def remove_user(conn: Connection, email: str) -> User:
    """Delete a user, their roles, recovery codes and remembered logins."""
    user = require_user(conn, email)
    conn.execute(sa.delete(schema.site_roles).where(schema.site_roles.c.user_id == user.id))
    conn.execute(sa.delete(schema.recovery_codes)
                 .where(schema.recovery_codes.c.user_id == user.id))
    revoke_user_tokens(conn, user.id)
    conn.execute(sa.delete(schema.users).where(schema.users.c.id == user.id))
    return user


def set_password(conn: Connection, email: str, password: str) -> User:
    """Replace the password, lift any lock-out and end every remembered login of the user:
    whoever knew the old password may have a browser that is still signed in."""
    user = require_user(conn, email)
    conn.execute(sa.update(schema.users).where(schema.users.c.id == user.id).values(
        password_hash=hash_password(password), failed_logins=0, locked_until=None))
    revoke_user_tokens(conn, user.id)
    return require_user(conn, email)


def set_admin(conn: Connection, email: str, is_admin: bool) -> User:
    user = require_user(conn, email)
    conn.execute(sa.update(schema.users).where(schema.users.c.id == user.id)
                 .values(is_admin=is_admin))
    return require_user(conn, email)


def login(conn: Connection, email: str, password: str, *, client_ip: str = "",
          now: datetime | None = None, policy: ThrottlePolicy | None = None) -> LoginResult:
    """Check a password, throttled per (e-mail, client address); never locks an account.

    Every refusal is the same WRONG - wrong password, unknown e-mail or a try that has
    to wait (`shared.accounts.sign_in_throttle`) - so answers reveal neither which accounts exist
    nor whose guesses are slowed down. Call inside a write transaction.
    """
    now = now or utc_now()
    policy = policy or ThrottlePolicy()
    try:
        email = normalise_email(email)
    except AuthError:
        email = email.strip().lower()[:320]
    row = conn.execute(sa.select(schema.users).where(schema.users.c.email == email)).first()
    user_id = row._mapping["id"] if row is not None else None
    subject = "login:" + email
    if not may_try(conn, policy, subject, client_ip, now, user_id=user_id):
        return LoginResult(LoginOutcome.WRONG)
    if row is not None and verify_password(row._mapping["password_hash"], password):
        record_success(conn, policy, subject, client_ip, now, user_id=user_id)
        return LoginResult(LoginOutcome.OK, user=_user(row))
    if row is None:
        verify_password(None, password)   # the same time as a wrong password
    record_failure(conn, policy, subject, client_ip, now)
    return LoginResult(LoginOutcome.WRONG)


def oidc_user(conn: Connection, email: str, allowed: tuple[str, ...]) -> User | None:
    """The account for an e-mail the identity provider vouched for, if it is allowed.

    `allowed` holds addresses or `@domain` entries; an allowed address without an
    account gets one (no password, no roles until an admin grants them).
    """
    email = normalise_email(email)
    domain = "@" + email.split("@", 1)[1]
    wanted = {a.strip().lower() for a in allowed if a.strip()}
    if email not in wanted and domain not in wanted:
        return None
    return get_user(conn, email) or add_user(conn, email, None)


def grant_role(conn: Connection, email: str, site_domain: str, role: str) -> None:
    if role not in ROLES:
        raise AuthError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    user, site = require_user(conn, email), require_site(conn, site_domain)
    t = schema.site_roles
    conn.execute(sa.delete(t).where(t.c.user_id == user.id, t.c.site_id == site.id))
    conn.execute(sa.insert(t).values(user_id=user.id, site_id=site.id, role=role))


def revoke_role(conn: Connection, email: str, site_domain: str) -> None:
    user, site = require_user(conn, email), require_site(conn, site_domain)
    t = schema.site_roles
    conn.execute(sa.delete(t).where(t.c.user_id == user.id, t.c.site_id == site.id))


def roles_of(conn: Connection, user: User) -> dict[int, str]:
    """site id -> role; an admin owns every site."""
    if user.is_admin:
        return {s.id: "owner" for s in list_sites(conn)}
    t = schema.site_roles
    rows = conn.execute(sa.select(t.c.site_id, t.c.role).where(t.c.user_id == user.id))
    return {r.site_id: r.role for r in rows}


def visible_sites(conn: Connection, user: User) -> list[Site]:
    roles = roles_of(conn, user)
    return [s for s in list_sites(conn) if s.id in roles]
