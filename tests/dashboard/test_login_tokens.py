"""Remembered logins (`shared.accounts.login_tokens`) on SQLite and PostgreSQL: only a hash is
stored, tokens expire, sign-out / new password / removed user / lock-out end them, the
worker deletes expired ones, and the migration builds the table schema.py declares."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from shared.accounts import users as auth
from shared.accounts.login_tokens import (
    create_login_token,
    delete_expired_tokens,
    get_login_token,
    revoke_login_token,
    revoke_user_tokens,
    token_is_live,
    user_for_token,
    well_formed,
)
from shared.core import schema
from shared.jobs.housekeeping import HOUSEKEEPING_JOBS, expire_login_tokens
from shared.sites import hash_token

NOW = datetime(2026, 3, 10, 12, 0, 0)
DAY = timedelta(days=1)
PASSWORD = "correct horse battery"  # noqa: S105 - test account


def _user(engine: Engine, email: str = "ann@example.com") -> auth.User:
    with engine.begin() as conn:
        return auth.add_user(conn, email, PASSWORD)


def _token(engine: Engine, user: auth.User, lifetime: timedelta = 30 * DAY,
           now: datetime = NOW) -> str:
    with engine.begin() as conn:
        return create_login_token(conn, user.id, lifetime, now=now)


def _sign_in(engine: Engine, token: str, now: datetime = NOW) -> str | None:
    with engine.begin() as conn:
        return user_for_token(conn, token, now=now)


def test_token_is_random_and_only_its_hash_is_stored(engine: Engine) -> None:
    user = _user(engine)
    first, second = _token(engine, user), _token(engine, user)
    assert first != second and well_formed(first)
    assert len(first) >= 3 + 43  # prefix + 32 random bytes in URL-safe base64
    with engine.connect() as conn:
        rows = conn.execute(sa.select(schema.login_tokens)).mappings().all()
    assert {r["token_hash"] for r in rows} == {hash_token(first), hash_token(second)}
    stored = " ".join(str(v) for r in rows for v in r.values())
    assert first not in stored and second not in stored
    row = rows[0]
    assert (row["user_id"], row["created_at"], row["expires_at"], row["last_used"]) == (
        user.id, NOW, NOW + 30 * DAY, NOW)


def test_live_token_signs_in_and_records_its_use(engine: Engine) -> None:
    user = _user(engine)
    token = _token(engine, user)
    later = NOW + 3 * DAY
    assert _sign_in(engine, token, later) == "ann@example.com"
    with engine.connect() as conn:
        record = get_login_token(conn, token)
        assert token_is_live(conn, token, now=later)
    assert record is not None and record.last_used == later and record.created_at == NOW


@pytest.mark.parametrize("token", ["", "bl_", "bl_short", "x" * 46, "bl_" + "a" * 43 + "!",
                                   "bl_" + "a" * 43 + "'; DROP TABLE users; --",
                                   "bl_" + "a" * 500])
def test_unknown_or_malformed_tokens_sign_in_no_one(engine: Engine, token: str) -> None:
    _token(engine, _user(engine))
    assert _sign_in(engine, token) is None
    with engine.begin() as conn:
        assert not token_is_live(conn, token, now=NOW)
        assert not revoke_login_token(conn, token)


def test_expired_token_signs_in_no_one(engine: Engine) -> None:
    token = _token(engine, _user(engine), lifetime=2 * DAY)
    assert _sign_in(engine, token, NOW + 2 * DAY - timedelta(seconds=1)) == "ann@example.com"
    assert _sign_in(engine, token, NOW + 2 * DAY) is None
    with engine.connect() as conn:
        assert not token_is_live(conn, token, now=NOW + 3 * DAY)


def test_sign_out_revokes_only_that_token(engine: Engine) -> None:
    user = _user(engine)
    laptop, phone = _token(engine, user), _token(engine, user)
    with engine.begin() as conn:
        assert revoke_login_token(conn, laptop)
        assert not revoke_login_token(conn, laptop)
    assert _sign_in(engine, laptop) is None
    assert _sign_in(engine, phone) == "ann@example.com"


def test_new_password_ends_every_token_of_that_user_only(engine: Engine) -> None:
    ann, bob = _user(engine), _user(engine, "bob@example.com")
    ann_tokens = [_token(engine, ann), _token(engine, ann)]
    bob_token = _token(engine, bob)
    with engine.begin() as conn:
        auth.set_password(conn, "ann@example.com", "a brand new password")
    assert [_sign_in(engine, t) for t in ann_tokens] == [None, None]
    assert _sign_in(engine, bob_token) == "bob@example.com"


def test_removed_user_tokens_are_deleted(engine: Engine) -> None:
    token = _token(engine, _user(engine))
    with engine.begin() as conn:
        auth.remove_user(conn, "ann@example.com")
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.login_tokens)
                            ).scalar() == 0
    assert _sign_in(engine, token) is None


def test_token_of_a_vanished_user_signs_in_no_one(engine: Engine) -> None:
    """Even if a row outlived its user (e.g. deleted by hand), it must not sign in."""
    user = _user(engine)
    token = _token(engine, user)
    with engine.begin() as conn:
        conn.execute(sa.delete(schema.users).where(schema.users.c.id == user.id))
        assert not token_is_live(conn, token, now=NOW)
    assert _sign_in(engine, token) is None


def test_wrong_passwords_of_others_do_not_sign_the_user_out(engine: Engine) -> None:
    token = _token(engine, _user(engine))
    with engine.begin() as conn:
        for _ in range(20):
            auth.login(conn, "ann@example.com", "wrong password", client_ip="203.0.113.9",
                       now=NOW)
    assert _sign_in(engine, token, NOW + timedelta(minutes=1)) == "ann@example.com"


def test_revoke_user_tokens_counts(engine: Engine) -> None:
    user = _user(engine)
    _token(engine, user)
    _token(engine, user)
    with engine.begin() as conn:
        assert revoke_user_tokens(conn, user.id) == 2
        assert revoke_user_tokens(conn, user.id) == 0


def test_housekeeping_deletes_expired_tokens(engine: Engine) -> None:
    user = _user(engine)
    short = _token(engine, user, lifetime=DAY)
    long = _token(engine, user, lifetime=10 * DAY)
    assert ("login_tokens", expire_login_tokens) in HOUSEKEEPING_JOBS
    assert expire_login_tokens(engine, NOW + 2 * DAY) == 1
    with engine.begin() as conn:
        assert get_login_token(conn, short) is None
        assert get_login_token(conn, long) is not None
        assert delete_expired_tokens(conn, NOW + 2 * DAY) == 0
    assert expire_login_tokens(engine, NOW + 10 * DAY) == 1


def test_migration_matches_schema_for_login_tokens(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, schema.metadata)
    assert not [d for d in diffs if "login_tokens" in repr(d)], diffs
