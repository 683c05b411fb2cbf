"""`beacon users` against a real database."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.engine import Engine

from beacon_cli.main import main
from shared.accounts import users as auth
from shared.sites import add_site


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, db_url: str, engine: Engine) -> Engine:
    # Only this command module: the test must not depend on the others being importable.
    monkeypatch.setattr("beacon_cli.main.COMMAND_MODULES", ("beacon_cli.users",))
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("BEACON_NEW_PASSWORD", "a long enough password")
    with engine.begin() as conn:
        add_site(conn, "a.example")
    return engine


def test_users_lifecycle(cli_env: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["users", "add", "ann@example.com", "--site", "a.example:owner"]) == 0
    assert main(["users", "add", "root@example.com", "--admin"]) == 0
    capsys.readouterr()
    assert main(["users", "list", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["email"], r["roles"]) for r in rows] == [
        ("ann@example.com", "a.example:owner"), ("root@example.com", "all (admin)")]
    with cli_env.begin() as conn:
        assert auth.login(conn, "ann@example.com", "a long enough password").outcome == "ok"
    assert main(["users", "add", "ann@example.com"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["users", "remove", "ann@example.com"]) == 0
    with cli_env.connect() as conn:
        assert auth.get_user(conn, "ann@example.com") is None


def test_passwd_after_failed_guesses(cli_env: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(["users", "add", "ann@example.com"]) == 0
    with cli_env.begin() as conn:
        for _ in range(5):
            auth.login(conn, "ann@example.com", "wrong wrong", client_ip="203.0.113.9")
        assert auth.get_user(conn, "ann@example.com").locked_until is None   # never locked
    monkeypatch.setenv("BEACON_NEW_PASSWORD", "another long password")
    assert main(["users", "passwd", "ann@example.com"]) == 0
    with cli_env.begin() as conn:
        assert auth.login(conn, "ann@example.com", "another long password").outcome == "ok"


def test_grant_and_revoke(cli_env: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["users", "add", "v@example.com"]) == 0
    assert main(["users", "grant", "v@example.com", "a.example", "viewer"]) == 0
    assert main(["users", "grant", "v@example.com", "nope.example", "viewer"]) == 2
    with cli_env.connect() as conn:
        user = auth.require_user(conn, "v@example.com")
        assert list(auth.roles_of(conn, user).values()) == ["viewer"]
    assert main(["users", "revoke", "v@example.com", "a.example"]) == 0
    with cli_env.connect() as conn:
        assert auth.roles_of(conn, user) == {}
