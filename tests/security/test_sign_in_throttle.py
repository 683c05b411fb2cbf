"""Password guessing cannot lock anyone out, reveals no account, and is slowed down per
address and capped for the whole server; share-link passwords and expiry likewise.
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from shared.accounts import users as auth
from shared.accounts.share_links import (
    DEFAULT_EXPIRY_DAYS,
    MAX_EXPIRY_DAYS,
    check_share_password,
    create_share_link,
    resolve_share_link,
)
from shared.accounts.sign_in_throttle import ThrottlePolicy, delete_old_entries
from shared.accounts.users import AuthError, LoginOutcome
from shared.core import schema
from shared.sites import add_site

NOW = datetime(2026, 3, 10, 12, 0, 0)
PASSWORD = "the owner's password"  # noqa: S105 - test account
ATTACKER = "203.0.113.66"
OWNER_HOME = "198.51.100.20"
POLICY = ThrottlePolicy(free_failures=5, max_delay=timedelta(minutes=15), global_per_hour=500)


def _login(engine: Engine, email: str, password: str, ip: str, now: datetime = NOW,
           policy: ThrottlePolicy = POLICY) -> auth.LoginResult:
    with engine.begin() as conn:
        return auth.login(conn, email, password, client_ip=ip, now=now, policy=policy)


@pytest.fixture
def owner(engine: Engine) -> Engine:
    with engine.begin() as conn:
        auth.add_user(conn, "admin@example.com", PASSWORD, is_admin=True)
    return engine


def test_guesses_never_lock_the_owner_out(owner: Engine) -> None:
    for _ in range(30):   # the attack of the report: keep the admin out, repeatedly
        assert _login(owner, "admin@example.com", "guess", ATTACKER).outcome is \
            LoginOutcome.WRONG
    ok = _login(owner, "admin@example.com", PASSWORD, OWNER_HOME)
    assert ok.outcome is LoginOutcome.OK
    with owner.connect() as conn:
        assert auth.get_user(conn, "admin@example.com").locked_until is None


def test_every_failure_gets_the_same_answer(owner: Engine) -> None:
    answers = [_login(owner, "admin@example.com", "guess", ATTACKER) for _ in range(8)]
    answers += [_login(owner, "nobody@example.com", "guess", ATTACKER) for _ in range(8)]
    answers.append(_login(owner, "not an e-mail", "guess", ATTACKER))
    # Wrong password, a throttled try and an unknown account are indistinguishable.
    assert {(a.outcome, a.user) for a in answers} == {(LoginOutcome.WRONG, None)}


def test_waits_grow_per_address_and_account(owner: Engine) -> None:
    now, waits = NOW, []
    t = schema.sign_in_failures
    for attempt in range(12):
        assert _login(owner, "admin@example.com", "guess", ATTACKER, now).outcome is \
            LoginOutcome.WRONG
        with owner.connect() as conn:
            blocked = conn.scalar(sa.select(sa.func.max(t.c.blocked_until))
                                  .where(t.c.key.like("pair|%")))
        if attempt < 5:
            assert blocked is None   # the first few typos cost nothing
            continue
        assert blocked is not None
        waits.append(blocked - now)
        # While it waits, even the right password from that address is not checked...
        assert _login(owner, "admin@example.com", PASSWORD, ATTACKER,
                      now + (blocked - now) / 2).outcome is LoginOutcome.WRONG
        now = blocked + timedelta(milliseconds=1)
    assert waits == sorted(waits) and waits[-1] > 16 * waits[0]
    assert max(waits) <= POLICY.max_delay
    # ...and once the wait is over the owner on that address gets in.
    assert _login(owner, "admin@example.com", PASSWORD, ATTACKER, now).outcome is LoginOutcome.OK


def test_ipv6_attacker_cannot_escape_by_rotating_addresses(owner: Engine) -> None:
    for host in range(1, 30):
        _login(owner, "admin@example.com", "guess", f"2001:db8:1:2::{host:x}")
    with owner.connect() as conn:
        pairs = conn.scalar(sa.select(sa.func.count()).select_from(schema.sign_in_failures)
                            .where(schema.sign_in_failures.c.key.like("pair|%")))
        stored = [r.key for r in conn.execute(sa.select(schema.sign_in_failures.c.key))]
    assert pairs == 1   # one /64, one counter
    assert not any("2001" in key or "admin" in key for key in stored)   # only HMACs stored


def test_global_limit_lets_only_known_networks_try(owner: Engine) -> None:
    policy = ThrottlePolicy(free_failures=5, global_per_hour=20)
    assert _login(owner, "admin@example.com", PASSWORD, OWNER_HOME, policy=policy).outcome \
        is LoginOutcome.OK
    with owner.begin() as conn:
        auth.add_user(conn, "newbie@example.com", PASSWORD)
    for n in range(20):   # a botnet: one guess per address, over many accounts
        _login(owner, f"user{n}@example.com", "guess", f"192.0.2.{n + 1}", policy=policy)
    # Now a never-seen network gets no password check, however right the password...
    assert _login(owner, "newbie@example.com", PASSWORD, "100.64.7.7", policy=policy).outcome \
        is LoginOutcome.WRONG
    # ...while the admin's usual network (another address in the same /24) still works.
    assert _login(owner, "admin@example.com", PASSWORD, "198.51.100.77", policy=policy).outcome \
        is LoginOutcome.OK
    # The next hour starts a new count.
    later = NOW + timedelta(hours=1)
    assert _login(owner, "newbie@example.com", PASSWORD, "100.64.7.7", later,
                  policy=policy).outcome is LoginOutcome.OK


def test_old_throttle_rows_are_deleted(owner: Engine) -> None:
    _login(owner, "admin@example.com", "guess", ATTACKER)
    _login(owner, "admin@example.com", PASSWORD, OWNER_HOME)
    with owner.begin() as conn:
        assert delete_old_entries(conn, NOW + timedelta(hours=1)) == 0
        assert delete_old_entries(conn, NOW + timedelta(days=91)) == 3  # pair, global, network


def test_share_link_password_guesses_are_throttled(engine: Engine) -> None:
    with engine.begin() as conn:
        site = add_site(conn, "a.example")
        link, _ = create_share_link(conn, site.id, password="share secret 1", now=NOW)  # noqa: S106
    results = []
    with engine.begin() as conn:
        for n in range(20):   # 20 guesses in a row, as in the report
            results.append(check_share_password(conn, link, f"guess {n}", client_ip=ATTACKER,
                                                now=NOW, policy=POLICY))
        # The 20th try would have been right: it is not even checked from that address.
        assert not check_share_password(conn, link, "share secret 1", client_ip=ATTACKER,
                                        now=NOW, policy=POLICY)
        assert check_share_password(conn, link, "share secret 1", client_ip=OWNER_HOME,
                                    now=NOW, policy=POLICY)
        waiting = conn.scalar(sa.select(sa.func.count()).select_from(schema.sign_in_failures)
                              .where(schema.sign_in_failures.c.blocked_until > NOW))
    assert not any(results) and waiting == 1


def test_share_links_expire(engine: Engine) -> None:
    with engine.begin() as conn:
        site = add_site(conn, "a.example")
        default, token = create_share_link(conn, site.id, now=NOW)
        short, short_token = create_share_link(conn, site.id, days=2, now=NOW)
        for days in (0, MAX_EXPIRY_DAYS + 1):
            with pytest.raises(AuthError, match=f"1 to {MAX_EXPIRY_DAYS} days"):
                create_share_link(conn, site.id, days=days, now=NOW)
        # A link made before links expired counts from its creation.
        legacy, legacy_token = create_share_link(conn, site.id, now=NOW)
        conn.execute(sa.update(schema.share_links).where(schema.share_links.c.id == legacy.id)
                     .values(expires_at=None))
    assert default.expires_at == NOW + timedelta(days=DEFAULT_EXPIRY_DAYS)
    with engine.connect() as conn:
        assert resolve_share_link(conn, short_token, now=NOW + timedelta(days=1)) == short
        assert resolve_share_link(conn, short_token, now=NOW + timedelta(days=2)) is None
        assert resolve_share_link(conn, token, now=NOW + timedelta(days=29)) == default
        assert resolve_share_link(conn, token, now=NOW + timedelta(days=30)) is None
        assert resolve_share_link(conn, legacy_token, now=NOW + timedelta(days=364))
        assert resolve_share_link(conn, legacy_token,
                                  now=NOW + timedelta(days=MAX_EXPIRY_DAYS)) is None
