"""The remembered-login cookie: read it from the request, have the server set or clear it.

Streamlit reads cookies (`st.context.cookies`, sent when the page opens its connection)
but cannot set them. A tiny same-origin iframe asks the dashboard's own server to:
`POST <base>/_beacon/session` with the token (answered by `guard`, which checks that it
is a live sign-in and sets the cookie HttpOnly, SameSite=Strict, Secure over https), or
`DELETE` to clear it. No script ever reads or writes the cookie itself. The script is
built from constants and `json.dumps` of a token that was checked against the token
shape first: nothing from a request or the database is interpolated into it.
"""

from __future__ import annotations

import json

import streamlit as st

from shared.accounts.login_tokens import well_formed

COOKIE_NAME = "beacon_login"
# Relative: the dashboard may be served at / or under a prefix (`beacon web`: /dashboard/),
# and its pages are one level deep, so this resolves to <base>/_beacon/session.
SESSION_ROUTE = "_beacon/session"


def cookie_token() -> str | None:
    """The token in this session's cookie, if it has the shape of one."""
    try:
        value = st.context.cookies.get(COOKIE_NAME)
    except Exception:  # no browser connection (e.g. a script run without a client)
        return None
    return value if isinstance(value, str) and well_formed(value) else None


def cookie_script(token: str | None) -> str:
    """HTML whose script has the server set the cookie to `token`, or clear it when
    `token` is None (the lifetime is the token's own, decided by the server)."""
    if token is not None and not well_formed(token):
        raise ValueError("not a login token")
    # json.dumps makes a JavaScript string literal; the "<" escape keeps "</script>" out.
    body_js = json.dumps(token or "").replace("<", "\\u003c")
    method = '"POST"' if token else '"DELETE"'
    return (
        "<script>(function () {"
        " var page = window.parent;"
        f' var url = new URL({json.dumps(SESSION_ROUTE)}, page.location.href);'
        f" page.fetch(url, {{method: {method}, body: {body_js} || null,"
        ' credentials: "same-origin", headers: {"Content-Type": "text/plain"}});'
        " })();</script>"
    )


def _run_script(html: str) -> None:
    # The smallest iframe Streamlit draws (1 px): it only runs the script. Its srcdoc
    # document shares the page's origin, so it may call the page's server.
    st.iframe(html, height=1, alt="sign-in cookie")


def set_cookie(token: str) -> None:
    """Have the server give the browser `token` as an HttpOnly cookie (for as long as
    the token lives)."""
    _run_script(cookie_script(token))


def clear_cookie() -> None:
    """Ask the browser to forget the cookie."""
    _run_script(cookie_script(None))
