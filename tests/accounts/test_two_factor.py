"""Two-factor sign-in on real databases: enrolment, codes, replay, recovery codes,
throttling (counted like passwords), reset, and the enrolment QR code."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from beacon_cli.main import main
from shared.accounts import login_tokens, two_factor
from shared.accounts import users as auth
from shared.accounts.sign_in_throttle import ThrottlePolicy
from shared.core import schema

NOW = datetime(2026, 3, 10, 12, 0, 0)
PASSWORD = "a long enough password"  # noqa: S105 - a test account
IP = "203.0.113.7"


def _enrolled(engine: Engine, email: str = "ann@example.com",
              admin: bool = False) -> tuple[auth.User, str, list[str]]:
    secret = two_factor.new_secret()
    with engine.begin() as conn:
        user = auth.add_user(conn, email, PASSWORD, is_admin=admin)
        codes = two_factor.enable(conn, user, secret, two_factor.current_code(secret, NOW),
                                  now=NOW)
    return user, secret, codes


def _verify(engine: Engine, user: auth.User, code: str, now: datetime = NOW,
            ip: str = IP) -> two_factor.CodeOutcome:
    with engine.begin() as conn:
        return two_factor.verify(conn, user, code, client_ip=ip, now=now)


def _failures(engine: Engine) -> int:
    t = schema.sign_in_failures
    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.sum(t.c.failures))
                             .where(t.c.key.like("global|%"))).scalar()
    return int(total or 0)


def test_enrolment_needs_the_apps_current_code(engine: Engine) -> None:
    secret = two_factor.new_secret()
    with engine.begin() as conn:
        user = auth.add_user(conn, "ann@example.com", PASSWORD)
    wrong = f"{(int(two_factor.current_code(secret, NOW)) + 1) % 1_000_000:06d}"
    with engine.begin() as conn, pytest.raises(two_factor.TwoFactorError, match="not the one"):
        two_factor.enable(conn, user, secret, wrong, now=NOW)
    with engine.connect() as conn:
        assert not two_factor.is_enabled(conn, user)
    with engine.begin() as conn:
        codes = two_factor.enable(conn, user, secret, two_factor.current_code(secret, NOW),
                                  now=NOW)
    assert len(codes) == two_factor.RECOVERY_CODE_COUNT == len(set(codes))
    with engine.connect() as conn:
        state = two_factor.status(conn, user)
        stored = conn.execute(sa.select(schema.recovery_codes.c.code_hash)).scalars().all()
        with pytest.raises(two_factor.TwoFactorError, match="on already"):
            two_factor.enable(conn, user, secret, two_factor.current_code(secret, NOW))
    assert state.enabled and state.enabled_at == NOW and state.recovery_codes_left == 10
    # Only hashes are stored: no code appears in the table.
    assert not set(stored) & {c for c in codes} and all(len(h) == 64 for h in stored)


def test_app_codes_work_once_within_one_step_either_side(engine: Engine) -> None:
    user, secret, _ = _enrolled(engine)
    later = NOW + timedelta(seconds=60)
    # The enrolment used NOW's step: that code cannot sign in (replay).
    assert _verify(engine, user, two_factor.current_code(secret, NOW)) == "wrong"
    code = two_factor.current_code(secret, later)
    # A phone 30 s ahead: the next step's code is accepted too.
    assert _verify(engine, user, code, now=later - timedelta(seconds=30)) == "totp"
    assert _verify(engine, user, code, now=later) == "wrong"        # used up
    far = NOW + timedelta(minutes=10)
    assert _verify(engine, user, two_factor.current_code(secret, far - timedelta(seconds=90)),
                   now=far) == "wrong"                                # too old
    assert _verify(engine, user, " " + two_factor.current_code(secret, far)[:3] + " "
                   + two_factor.current_code(secret, far)[3:], now=far) == "totp"


def test_recovery_codes_work_once_each(engine: Engine) -> None:
    user, _, codes = _enrolled(engine)
    assert _verify(engine, user, codes[0].upper()) == "recovery_code"
    assert _verify(engine, user, codes[0]) == "wrong"
    assert _verify(engine, user, codes[1].replace("-", "")) == "recovery_code"
    with engine.connect() as conn:
        assert two_factor.status(conn, user).recovery_codes_left == 8
    with engine.begin() as conn:
        fresh = two_factor.new_recovery_codes(conn, user, now=NOW)
    assert _verify(engine, user, codes[2]) == "wrong"               # old set replaced
    assert _verify(engine, user, fresh[0]) == "recovery_code"
    # A recovery code does not count where the app's current code is asked for.
    with engine.begin() as conn:
        assert not two_factor.check_current_code(conn, user, fresh[1], now=NOW)


def test_wrong_codes_are_counted_and_throttled_like_passwords(engine: Engine) -> None:
    user, secret, _ = _enrolled(engine)
    policy = ThrottlePolicy()
    later = NOW + timedelta(minutes=1)
    for n in range(policy.free_failures):
        assert _verify(engine, user, "000000", now=later) == "wrong"
        assert _failures(engine) == n + 1
    # Past the free failures this address waits: even the right code is refused now.
    assert _verify(engine, user, "000000", now=later) == "wrong"
    right = two_factor.current_code(secret, later)
    assert _verify(engine, user, right, now=later) == "wrong"
    # The per-account count also holds another address back (a code is six digits).
    assert _verify(engine, user, right, now=later, ip="198.51.100.4") == "wrong"
    wait = later + policy.max_delay + timedelta(seconds=1)
    assert _verify(engine, user, two_factor.current_code(secret, wait), now=wait) == "totp"


def test_password_and_code_throttles_are_apart(engine: Engine) -> None:
    user, secret, _ = _enrolled(engine)
    for _ in range(7):
        _verify(engine, user, "999999")
    with engine.begin() as conn:   # wrong codes do not keep the password out
        assert auth.login(conn, user.email, PASSWORD, client_ip="198.51.100.9",
                          now=NOW).outcome == "ok"


def test_disable_reset_and_requirement(engine: Engine) -> None:
    user, secret, _ = _enrolled(engine, admin=True)
    assert two_factor.required_for(user, "admins") and two_factor.required_for(user, "all")
    assert not two_factor.required_for(user, "off")
    with engine.begin() as conn:
        token = login_tokens.create_login_token(conn, user.id, timedelta(days=1))
        two_factor.reset(conn, user.email)
    with engine.connect() as conn:
        assert not two_factor.is_enabled(conn, user)
        assert two_factor.status(conn, user).recovery_codes_left == 0
        assert not login_tokens.token_is_live(conn, token)
    assert _verify(engine, user, two_factor.current_code(secret, NOW)) == "wrong"


def test_removing_a_user_removes_their_recovery_codes(engine: Engine) -> None:
    user, _, _ = _enrolled(engine)
    with engine.begin() as conn:
        auth.remove_user(conn, user.email)
    with engine.connect() as conn:
        left = conn.execute(sa.select(sa.func.count()).select_from(schema.recovery_codes))
        assert left.scalar_one() == 0


def test_qr_code_is_inline_svg_of_the_otpauth_uri() -> None:
    secret = two_factor.new_secret()
    uri = two_factor.provisioning_uri(secret, "ann@example.com")
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri
    assert "issuer=Beacon%20Analytics" in uri
    svg = two_factor.qr_svg(uri)
    assert svg.startswith("<svg") and "<path" in svg and "http" not in svg.replace(
        "http://www.w3.org/2000/svg", "")
    tag = two_factor.qr_img_tag(uri)
    assert tag.startswith('<img src="data:image/svg+xml;base64,') and secret not in tag


def test_cli_reset_and_status(engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("BEACON_REQUIRE_2FA", "admins")
    user, _, _ = _enrolled(engine, admin=True)
    assert main(["users", "2fa", "status", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"two_factor": "on"' in out and '"required": true' in out
    assert main(["users", "2fa", "reset", user.email]) == 0
    with engine.connect() as conn:
        assert not two_factor.is_enabled(conn, user)
    assert main(["users", "2fa", "reset", "nobody@example.com"]) == 2
    assert "no user" in capsys.readouterr().err
