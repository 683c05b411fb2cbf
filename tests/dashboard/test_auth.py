"""Accounts, roles, throttled sign-in and share links on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy.engine import Engine

from shared.accounts import users as auth
from shared.accounts.share_links import (
    check_share_password,
    create_share_link,
    list_share_links,
    resolve_share_link,
    revoke_share_link,
)
from shared.accounts.users import AuthError, LoginOutcome
from shared.sites import add_site

NOW = datetime(2026, 3, 10, 12, 0, 0)
PASSWORD = "correct horse battery"  # noqa: S105 - test account


def _login(engine: Engine, email: str, password: str, now: datetime = NOW) -> auth.LoginResult:
    with engine.begin() as conn:
        return auth.login(conn, email, password, now=now)


def test_login_ok_and_wrong(engine: Engine) -> None:
    with engine.begin() as conn:
        auth.add_user(conn, "Ann@Example.com", PASSWORD)
    ok = _login(engine, "ann@example.com", PASSWORD)
    assert ok.outcome is LoginOutcome.OK and ok.user and ok.user.email == "ann@example.com"
    assert _login(engine, "ann@example.com", "wrong password!").outcome is LoginOutcome.WRONG
    assert _login(engine, "nobody@example.com", PASSWORD).outcome is LoginOutcome.WRONG
    assert _login(engine, "not an email", PASSWORD).outcome is LoginOutcome.WRONG


def test_passwords_are_argon2_and_short_ones_refused(engine: Engine) -> None:
    with engine.begin() as conn:
        with pytest.raises(AuthError):
            auth.add_user(conn, "a@example.com", "short")
        auth.add_user(conn, "b@example.com", PASSWORD)
        stored = conn.exec_driver_sql("SELECT password_hash FROM users").scalar()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_oidc_only_user_cannot_log_in_with_password(engine: Engine) -> None:
    with engine.begin() as conn:
        auth.add_user(conn, "o@example.com", None)
    assert _login(engine, "o@example.com", "not-a-real-password").outcome is LoginOutcome.WRONG


def test_roles_and_admin(engine: Engine) -> None:
    with engine.begin() as conn:
        a = add_site(conn, "a.example")
        b = add_site(conn, "b.example")
        viewer = auth.add_user(conn, "v@example.com", PASSWORD)
        admin = auth.add_user(conn, "root@example.com", PASSWORD, is_admin=True)
        auth.grant_role(conn, "v@example.com", "a.example", "viewer")
        assert auth.roles_of(conn, viewer) == {a.id: "viewer"}
        assert auth.roles_of(conn, admin) == {a.id: "owner", b.id: "owner"}
        auth.grant_role(conn, "v@example.com", "a.example", "owner")
        assert auth.roles_of(conn, viewer) == {a.id: "owner"}
        assert [s.domain for s in auth.visible_sites(conn, viewer)] == ["a.example"]
        auth.revoke_role(conn, "v@example.com", "a.example")
        assert auth.roles_of(conn, viewer) == {}
        with pytest.raises(AuthError):
            auth.grant_role(conn, "v@example.com", "a.example", "god")


def test_oidc_allow_list(engine: Engine) -> None:
    with engine.begin() as conn:
        allowed = ("boss@example.com", "@team.example")
        assert auth.oidc_user(conn, "Boss@example.com", allowed) is not None
        assert auth.oidc_user(conn, "x@team.example", allowed) is not None
        assert auth.oidc_user(conn, "x@evil.example", allowed) is None
        assert auth.get_user(conn, "x@evil.example") is None
        assert not auth.get_user(conn, "x@team.example").has_password


def test_share_links(engine: Engine) -> None:
    with engine.begin() as conn:
        site = add_site(conn, "a.example")
        link, token = create_share_link(conn, site.id, now=NOW)
        _, locked_token = create_share_link(conn, site.id, password="share secret 1", now=NOW)  # noqa: S106
        stored = conn.exec_driver_sql("SELECT token_hash FROM share_links").scalars().all()
    assert token not in stored and len(token) > 40
    with engine.begin() as conn:
        assert resolve_share_link(conn, token, now=NOW) == link
        assert resolve_share_link(conn, token + "x", now=NOW) is None
        assert resolve_share_link(conn, "anything", now=NOW) is None
        found = resolve_share_link(conn, locked_token, now=NOW)
        assert found and found.has_password
        assert check_share_password(conn, found, "share secret 1", now=NOW)
        assert not check_share_password(conn, found, "guess", now=NOW)
        assert not revoke_share_link(conn, link.id, site.id + 1)
        assert revoke_share_link(conn, link.id, site.id, now=NOW)
        assert resolve_share_link(conn, token, now=NOW) is None
        assert [x.revoked_at for x in list_share_links(conn, site.id)] == [NOW, None]


def test_api_keys(engine: Engine) -> None:
    from shared.accounts.api_keys import create_key, list_keys, revoke_key, verify_key

    with engine.begin() as conn:
        site = add_site(conn, "a.example")
        token, key = create_key(conn, site.id, "reporting", NOW)
        stored = conn.exec_driver_sql("SELECT key_hash, prefix FROM api_keys").one()
        assert token not in stored and token.startswith(key.prefix)
        assert verify_key(conn, token) == key
        assert verify_key(conn, token[:-1]) is None
        with pytest.raises(ValueError):
            create_key(conn, site.id, "  ")
        other = add_site(conn, "b.example")
        with pytest.raises(ValueError):
            revoke_key(conn, other.id, key.id)
        assert revoke_key(conn, site.id, key.prefix, NOW).revoked_at == NOW
        with pytest.raises(ValueError):
            revoke_key(conn, site.id, key.id)
        assert verify_key(conn, token) is None
        assert [k.revoked_at for k in list_keys(conn, site.id)] == [NOW]
