"""Remembered password logins through AppTest: the cookie script after sign-in, a new
session signed in by the cookie's token, sign-out, and logins that ended meanwhile.

AppTest has no browser, so the cookie a new session would send is handed to the app by
replacing `login_cookie.cookie_token`; the real browser round trip is in
tests/browser/test_dashboard_browser.py.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from dashboard_app import login_cookie
from shared.accounts import users as auth
from shared.core import schema
from shared.sites import hash_token
from tests.dashboard.conftest import PASSWORD, Seeded, app_as, no_exception

# The page asks the server to set (POST, the token) or clear (DELETE) the HttpOnly cookie.
COOKIE_SCRIPT = re.compile(r'method: "(POST|DELETE)", body: "([^"]*)" \|\| null')


def _login(at, email: str = "viewer@example.com", password: str = PASSWORD):
    at.text_input[0].input(email)
    at.text_input[1].input(password)
    at.button[0].click()
    return no_exception(at.run())


def _cookie_scripts(at) -> list[tuple[str, str]]:
    """(token, method) of every cookie script the run drew."""
    found = []
    for element in at.get("iframe"):
        match = COOKIE_SCRIPT.search(element.proto.srcdoc)
        if match:
            found.append((match.group(2), match.group(1)))
    return found


def _token_rows(seeded: Seeded) -> list[dict]:
    with seeded.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(schema.login_tokens)).mappings()]


def _new_session(monkeypatch: pytest.MonkeyPatch, cookie: str | None):
    """A new AppTest session whose browser sends `cookie` as the login cookie."""
    monkeypatch.setattr(login_cookie, "cookie_token", lambda: cookie)
    return no_exception(app_as(None).run())


def test_password_login_sets_a_cookie_holding_only_a_token(seeded: Seeded) -> None:
    at = _login(app_as(None).run())
    assert at.metric
    ((value, method),) = _cookie_scripts(at)
    assert method == "POST" and value.startswith("bl_") and len(value) >= 46
    (row,) = _token_rows(seeded)
    assert row["token_hash"] == hash_token(value) and value not in json.dumps(row, default=str)
    with seeded.engine.connect() as conn:
        assert row["user_id"] == auth.get_user(conn, "viewer@example.com").id
    at.run()  # the script stays the same on later runs, so the browser does not reload it
    assert _cookie_scripts(at) == [(value, method)]


def test_new_session_with_the_cookie_is_signed_in(seeded: Seeded,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    first = _login(app_as(None).run())
    ((token, _),) = _cookie_scripts(first)
    before = _token_rows(seeded)[0]["last_used"]
    reloaded = _new_session(monkeypatch, token)
    assert reloaded.metric and "Sign in" not in [b.label for b in reloaded.button]
    assert reloaded.session_state["auth_user_email"] == "viewer@example.com"
    assert _cookie_scripts(reloaded) == []  # the browser has the cookie already
    assert _token_rows(seeded)[0]["last_used"] >= before


def test_sign_out_deletes_the_token_and_clears_the_cookie(
        seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _login(app_as(None).run())
    ((token, _),) = _cookie_scripts(at)
    at.sidebar.button(key="sign_out").click().run()
    no_exception(at)
    assert not at.metric and _token_rows(seeded) == []
    assert _cookie_scripts(at) == [("", "DELETE")]
    reloaded = _new_session(monkeypatch, token)  # the cookie, had the browser kept it
    assert not reloaded.metric and "Sign in" in [b.label for b in reloaded.button]
    assert _cookie_scripts(reloaded) == [("", "DELETE")]


def test_new_password_ends_open_and_future_sessions(
        seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _login(app_as(None).run())
    ((token, _),) = _cookie_scripts(at)
    with seeded.engine.begin() as conn:
        auth.set_password(conn, "viewer@example.com", "another long password")
    no_exception(at.run())  # the next click of the open session
    assert not at.metric and "Sign in" in [b.label for b in at.button]
    assert not _new_session(monkeypatch, token).metric


def test_removed_user_is_not_signed_in_by_the_cookie(
        seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    tokens = []
    for email in ("viewer@example.com", "owner@example.com"):
        ((token, _),) = _cookie_scripts(_login(app_as(None).run(), email))
        tokens.append(token)
    with seeded.engine.begin() as conn:
        for _ in range(5):   # others' wrong guesses do not end the viewer's sign-in
            auth.login(conn, "viewer@example.com", "wrong password", client_ip="203.0.113.9")
        auth.remove_user(conn, "owner@example.com")
    assert _new_session(monkeypatch, tokens[0]).metric
    assert not _new_session(monkeypatch, tokens[1]).metric


def test_forged_cookie_shows_the_login_form(seeded: Seeded,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    at = _new_session(monkeypatch, "bl_" + "A" * 43)
    assert not at.metric and "Sign in" in [b.label for b in at.button]
    assert _cookie_scripts(at) == [("", "DELETE")]


def test_remembering_can_be_switched_off(seeded: Seeded,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEACON_LOGIN_REMEMBER_DAYS", "0")
    at = _login(app_as(None).run())
    assert at.metric and _cookie_scripts(at) == [] and _token_rows(seeded) == []


def test_remember_days_sets_the_token_lifetime(seeded: Seeded,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEACON_LOGIN_REMEMBER_DAYS", "7")
    at = _login(app_as(None).run())
    assert len(_cookie_scripts(at)) == 1   # the server sets Max-Age from the token's life
    (row,) = _token_rows(seeded)
    assert row["expires_at"] - row["created_at"] == timedelta(days=7)


@pytest.mark.parametrize("value", ["</script><script>alert(1)</script>", "a\"; x=1",
                                   "bl_" + "a" * 43 + "\";alert(1);//"])
def test_cookie_script_refuses_anything_but_a_token(value: str) -> None:
    with pytest.raises(ValueError):
        login_cookie.cookie_script(value)


def test_cookie_script_only_asks_the_server() -> None:
    token = "bl_" + "a" * 43
    script = login_cookie.cookie_script(token)
    assert COOKIE_SCRIPT.search(script).groups() == ("POST", token)
    assert '"_beacon/session"' in script and "document.cookie" not in script
    assert script.count("<script>") == 1 and script.count("</script>") == 1
    assert COOKIE_SCRIPT.search(login_cookie.cookie_script(None)).groups() == ("DELETE", "")
