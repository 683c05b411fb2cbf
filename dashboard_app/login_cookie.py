"""The remembered-login cookie: read it from the request, set or clear it in the browser.

Streamlit reads cookies (`st.context.cookies`, sent when the page opens its connection)
but cannot set them, so a tiny same-origin iframe sets `document.cookie` of the page
that holds it. The script is built from constants and `json.dumps` of a token that was
checked against the token shape first: nothing from a request or the database is
interpolated into it. `SameSite=Strict` keeps other sites from sending the cookie, and
`Secure` is added when the page itself is served over https.
"""

from __future__ import annotations

import json

import streamlit as st

from shared.accounts.login_tokens import well_formed

COOKIE_NAME = "beacon_login"


def cookie_token() -> str | None:
    """The token in this session's cookie, if it has the shape of one."""
    try:
        value = st.context.cookies.get(COOKIE_NAME)
    except Exception:  # no browser connection (e.g. a script run without a client)
        return None
    return value if isinstance(value, str) and well_formed(value) else None


def cookie_script(token: str | None, max_age: int) -> str:
    """HTML whose script sets the cookie to `token` for `max_age` seconds, or clears it
    when `token` is None."""
    if token is not None and not well_formed(token):
        raise ValueError("not a login token")
    value = token or ""
    seconds = max(0, int(max_age)) if token else 0
    # json.dumps makes JavaScript string literals; the "<" escape keeps "</script>" out.
    name_js = json.dumps(COOKIE_NAME).replace("<", "\\u003c")
    value_js = json.dumps(value).replace("<", "\\u003c")
    return (
        "<script>(function () {"
        " var page = window.parent;"
        ' var secure = page.location.protocol === "https:" ? "; Secure" : "";'
        f" page.document.cookie = {name_js} + \"=\" + {value_js} +"
        f' "; Max-Age={seconds}; Path=/; SameSite=Strict" + secure;'
        " })();</script>"
    )


def _run_script(html: str) -> None:
    # The smallest iframe Streamlit draws (1 px): it only runs the script. Its srcdoc
    # document shares the page's origin, so it may write the page's cookie.
    st.iframe(html, height=1, alt="sign-in cookie")


def set_cookie(token: str, max_age: int) -> None:
    """Ask the browser to keep `token` for `max_age` seconds."""
    _run_script(cookie_script(token, max_age))


def clear_cookie() -> None:
    """Ask the browser to forget the cookie."""
    _run_script(cookie_script(None, 0))
