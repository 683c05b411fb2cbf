"""Two-factor sign-in: time-based codes (TOTP, RFC 6238) from an authenticator app, and
ten single-use recovery codes for when the phone is lost.

Enrolment: `new_secret()` makes a secret, the user scans `qr_img_tag(provisioning_uri(...))`
(drawn here, no request leaves the machine) and confirms with a first code
(`enable`); only then is the secret stored and the recovery codes made. Recovery codes
are shown once and stored as SHA-256 hashes; each works once.

Checking a code (`verify`) is throttled like a password (`sign_in_throttle`): per
(account, client address) after BEACON_LOGIN_MAX_FAILURES wrong codes each further try
waits twice as long, and the failures count towards the server-wide hourly cap. Codes
are also throttled per account across all addresses: a six-digit code is guessable from
many addresses where a password is not, and whoever reaches this step already knows the
password. A code is accepted for the current 30-second step and one step either side
(clock drift), and never for a step at or before the last one accepted (no replay).

Knows nothing about Streamlit; the dashboard's forms are in `dashboard_app/two_factor_forms.py`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import pyotp
import segno
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared.accounts.login_tokens import revoke_user_tokens
from shared.accounts.sign_in_throttle import ThrottlePolicy, may_try, record_failure, record_success
from shared.accounts.users import User, require_user
from shared.core import schema
from shared.core.clock import utc_now

ISSUER = "Beacon Analytics"
RECOVERY_CODE_COUNT = 10
STEP_SECONDS = 30
# Characters of recovery codes: no 0/o, 1/l/i, so a code copied from paper is read right.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_RECOVERY_RE = re.compile(r"^[a-z2-9]{10}$")
_TOTP_RE = re.compile(r"^[0-9]{6}$")
# The throttle's "address" for the per-account count (all addresses together).
_ANY_ADDRESS = "any address"


class TwoFactorError(ValueError):
    """A two-factor operation was refused; the message says why, in one line."""


class CodeOutcome(StrEnum):
    TOTP = "totp"                  # a right code from the authenticator app
    RECOVERY = "recovery_code"     # a right, unused recovery code (now used up)
    WRONG = "wrong"                # wrong, reused, malformed, or a try that must wait


@dataclass(frozen=True)
class TwoFactorStatus:
    enabled: bool
    enabled_at: datetime | None
    recovery_codes_left: int


def new_secret() -> str:
    """A random base32 secret of 160 bits (RFC 4226's recommended length)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, email: str, issuer: str = ISSUER) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def qr_svg(uri: str, scale: int = 5) -> str:
    """The QR code of `uri` as an SVG document, drawn here by segno (no network)."""
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", xmldecl=False, svgns=True,
                                    scale=scale, border=4, dark="#000000", light="#ffffff",
                                    title="QR code for the authenticator app")
    return buffer.getvalue().decode("utf-8")


def qr_img_tag(uri: str, scale: int = 5) -> str:
    """An <img> holding the QR code as a data: URI. Inline in the page rather than an
    image URL: the code holds the secret, and Streamlit serves images from URLs that
    other requests may ask for; an SVG shown through <img> runs no script."""
    data = base64.b64encode(qr_svg(uri, scale).encode("utf-8")).decode("ascii")
    return (f'<img src="data:image/svg+xml;base64,{data}" '
            'alt="QR code for the authenticator app" style="max-width: 100%">')


def _step(now: datetime) -> int:
    return int(now.replace(tzinfo=UTC).timestamp()) // STEP_SECONDS


def current_code(secret: str, now: datetime) -> str:
    """The code an authenticator app shows at `now` (tests and the CLI's checks)."""
    return pyotp.TOTP(secret).at(_step(now) * STEP_SECONDS)


def _matching_step(secret: str, code: str, now: datetime, after_step: int | None) -> int | None:
    """The time step (now, one before or one after) whose code is `code`, not at or
    before `after_step`; None when there is none."""
    totp = pyotp.TOTP(secret)
    for step in (_step(now) - 1, _step(now), _step(now) + 1):
        if after_step is not None and step <= after_step:
            continue
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def _normalise(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()[:40]


def hash_recovery_code(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode()).hexdigest()


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def _secret_row(conn: Connection, user_id: int) -> Any:
    u = schema.users
    return conn.execute(sa.select(u.c.totp_secret, u.c.totp_enabled_at, u.c.totp_last_step)
                        .where(u.c.id == user_id)).first()


def is_enabled(conn: Connection, user: User) -> bool:
    row = _secret_row(conn, user.id)
    return row is not None and row.totp_secret is not None and row.totp_enabled_at is not None


def status(conn: Connection, user: User) -> TwoFactorStatus:
    r = schema.recovery_codes
    left = conn.execute(sa.select(sa.func.count()).select_from(r).where(
        r.c.user_id == user.id, r.c.used_at.is_(None))).scalar_one()
    row = _secret_row(conn, user.id)
    enabled_at = row.totp_enabled_at if row is not None and row.totp_secret else None
    return TwoFactorStatus(enabled=enabled_at is not None, enabled_at=enabled_at,
                           recovery_codes_left=int(left))


def required_for(user: User, require: str) -> bool:
    """Whether BEACON_REQUIRE_2FA (off, admins, all) asks `user` for a second factor."""
    return require == "all" or (require == "admins" and user.is_admin)


def new_recovery_codes(conn: Connection, user: User, now: datetime | None = None) -> list[str]:
    """Replace the user's recovery codes with ten new ones; returns them (shown once)."""
    now = now or utc_now()
    r = schema.recovery_codes
    conn.execute(sa.delete(r).where(r.c.user_id == user.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    conn.execute(sa.insert(r), [{"user_id": user.id, "code_hash": hash_recovery_code(c),
                                 "created_at": now, "used_at": None} for c in codes])
    return codes


def enable(conn: Connection, user: User, secret: str, code: str,
           now: datetime | None = None) -> list[str]:
    """Store `secret` for `user` once `code` proves the app has it; the recovery codes.

    Refused (TwoFactorError) when the code is not the secret's current one or the user
    has two-factor sign-in already (turn it off first)."""
    now = now or utc_now()
    if is_enabled(conn, user):
        raise TwoFactorError("two-factor sign-in is on already; turn it off first")
    if not re.fullmatch(r"[A-Z2-7]{16,64}", secret or ""):
        raise TwoFactorError("not a secret made by new_secret()")
    step = _matching_step(secret, _normalise(code), now, None)
    if step is None:
        raise TwoFactorError("that code is not the one the app shows now; check the "
                             "phone's clock and try the next code")
    conn.execute(sa.update(schema.users).where(schema.users.c.id == user.id).values(
        totp_secret=secret, totp_enabled_at=now, totp_last_step=step))
    return new_recovery_codes(conn, user, now)


def disable(conn: Connection, user: User) -> None:
    """Remove the secret and the recovery codes of `user`."""
    conn.execute(sa.update(schema.users).where(schema.users.c.id == user.id).values(
        totp_secret=None, totp_enabled_at=None, totp_last_step=None))
    r = schema.recovery_codes
    conn.execute(sa.delete(r).where(r.c.user_id == user.id))


def reset(conn: Connection, email: str) -> User:
    """`beacon users 2fa reset`: a locked-out user signs in with the password alone again
    (and sets up a new second factor if one is required). Every remembered sign-in of
    the user ends too: a lost phone may be in the wrong hands with a signed-in browser."""
    user = require_user(conn, email)
    disable(conn, user)
    revoke_user_tokens(conn, user.id)
    return user


def _subject(user: User) -> str:
    return "2fa:" + user.email


def verify(conn: Connection, user: User, code: str, *, client_ip: str = "",
           now: datetime | None = None, policy: ThrottlePolicy | None = None,
           allow_recovery: bool = True) -> CodeOutcome:
    """Check a sign-in's second factor: an app code or (`allow_recovery`) an unused
    recovery code.

    Throttled like a password (see the module's docstring); every refusal is WRONG.
    A right code is used up: the app code's time step, or the recovery code. Call inside
    a write transaction."""
    now = now or utc_now()
    policy = policy or ThrottlePolicy()
    subject = _subject(user)
    if not (may_try(conn, policy, subject, client_ip, now, user_id=user.id)
            and may_try(conn, policy, subject, _ANY_ADDRESS, now, user_id=user.id)):
        return CodeOutcome.WRONG
    outcome = _check(conn, user, _normalise(code), now, allow_recovery)
    if outcome is CodeOutcome.WRONG:
        record_failure(conn, policy, subject, client_ip, now)
        record_failure(conn, policy, subject, _ANY_ADDRESS, now, count_global=False)
    else:
        record_success(conn, policy, subject, client_ip, now)
        record_success(conn, policy, subject, _ANY_ADDRESS, now)
    return outcome


def _check(conn: Connection, user: User, code: str, now: datetime,
           allow_recovery: bool = True) -> CodeOutcome:
    row = _secret_row(conn, user.id)
    if row is None or row.totp_secret is None:
        return CodeOutcome.WRONG
    if _TOTP_RE.match(code):
        step = _matching_step(row.totp_secret, code, now, row.totp_last_step)
        if step is None:
            return CodeOutcome.WRONG
        # Only a step later than the stored one moves it: two sign-ins racing with the
        # same code cannot both pass.
        u = schema.users
        moved = conn.execute(sa.update(u).where(
            u.c.id == user.id, sa.or_(u.c.totp_last_step.is_(None), u.c.totp_last_step < step))
            .values(totp_last_step=step))
        return CodeOutcome.TOTP if moved.rowcount == 1 else CodeOutcome.WRONG
    if allow_recovery and _RECOVERY_RE.match(code):
        r = schema.recovery_codes
        used = conn.execute(sa.update(r).where(
            r.c.user_id == user.id, r.c.code_hash == hash_recovery_code(code),
            r.c.used_at.is_(None)).values(used_at=now))
        return CodeOutcome.RECOVERY if used.rowcount == 1 else CodeOutcome.WRONG
    return CodeOutcome.WRONG


def check_current_code(conn: Connection, user: User, code: str, *, client_ip: str = "",
                       now: datetime | None = None,
                       policy: ThrottlePolicy | None = None) -> bool:
    """For changes of a signed-in user's set-up (turn off, new recovery codes): True
    when `code` is the app's current code (a recovery code does not count). Throttled
    and used up like a sign-in's code."""
    return verify(conn, user, code, client_ip=client_ip, now=now, policy=policy,
                  allow_recovery=False) is CodeOutcome.TOTP
