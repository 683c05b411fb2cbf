"""The Account page's two-factor forms: set it up (QR code, first code, recovery codes
shown once), turn it off, make new recovery codes. Each change is one write transaction
with its audit entry; the rules live in `shared.accounts.two_factor`.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard_app import audit_trail, data
from dashboard_app.auth import client_address
from shared.accounts import two_factor
from shared.accounts import users as auth
from shared.accounts.sign_in_throttle import ThrottlePolicy
from shared.storage import write_transaction

SECRET_KEY = "two_factor_new_secret"  # noqa: S105 - a session-state key; holds the secret being set up
CODES_KEY = "two_factor_codes_to_show"  # recovery codes just made, shown until dismissed


def manage(email: str, require: str) -> None:
    """The two-factor part of the Account page for the signed-in user `email`."""
    with data.current_engine().connect() as conn:
        user = auth.require_user(conn, email)
        state = two_factor.status(conn, user)
    if st.session_state.get(CODES_KEY):
        _show_recovery_codes()
        return
    if not user.has_password:
        st.info("You sign in with single sign-on: your identity provider asks for the "
                "second factor.")
        return
    if not state.enabled:
        _enrol(user)
        return
    st.success(f"Two-factor sign-in is on (since {state.enabled_at:%Y-%m-%d %H:%M} UTC). "
               f"Recovery codes left: {state.recovery_codes_left} of "
               f"{two_factor.RECOVERY_CODE_COUNT}.")
    _new_codes_form(user)
    if two_factor.required_for(user, require):
        st.caption("This dashboard requires a second factor for your account, so it cannot "
                   "be turned off here; an administrator can reset it (`beacon users 2fa "
                   "reset`) when you lose your phone and your recovery codes.")
    else:
        _disable_form(user)


def _enrol(user: auth.User) -> None:
    secret = st.session_state.setdefault(SECRET_KEY, two_factor.new_secret())
    st.write("1. Scan this code with an authenticator app (any app for TOTP codes: "
             "FreeOTP, Aegis, Google Authenticator, 1Password, ...).")
    uri = two_factor.provisioning_uri(secret, user.email)
    # Made from a random base32 secret and a normalised e-mail only; drawn inline.
    st.html(f'<div class="two-factor-qr">{two_factor.qr_img_tag(uri)}</div>')
    st.caption("Cannot scan? Type this key into the app instead (time-based, 6 digits, "
               "30 seconds):")
    st.code(" ".join(secret[i:i + 4] for i in range(0, len(secret), 4)), language=None)
    st.write("2. Type the six-digit code the app shows now.")
    with st.form("two_factor_enrol"):
        code = st.text_input("Code from the app", autocomplete="one-time-code")
        submitted = st.form_submit_button("Turn on two-factor sign-in", type="primary")
    if not submitted:
        return
    try:
        with write_transaction(data.current_engine()) as conn:
            codes = two_factor.enable(conn, user, secret, code)
            audit_trail.record(conn, "two_factor.enable", user.email)
    except two_factor.TwoFactorError as exc:
        st.error("Not turned on.")
        st.text(str(exc))
        return
    st.session_state.pop(SECRET_KEY, None)
    st.session_state[CODES_KEY] = codes
    st.rerun()


def _show_recovery_codes() -> None:
    codes: list[str] = st.session_state[CODES_KEY]
    st.success("Two-factor sign-in is on. Keep these recovery codes somewhere safe: each "
               "signs you in once when you do not have your phone. They are not shown again.")
    st.code("\n".join(codes), language=None)
    st.download_button("Download the recovery codes (text)", "\n".join(codes) + "\n",
                       file_name="beacon-recovery-codes.txt", mime="text/plain",
                       on_click="ignore", icon=":material/download:")
    if st.button("I have saved them", type="primary"):
        st.session_state.pop(CODES_KEY, None)
        st.rerun()


def _throttle() -> dict[str, Any]:
    settings = data.settings()
    return {"client_ip": client_address(settings),
            "policy": ThrottlePolicy.from_settings(settings)}


def _code_form(key: str, button: str) -> str | None:
    with st.form(key, clear_on_submit=True):
        code = st.text_input("Current code from the app", autocomplete="one-time-code",
                             key=f"{key}_code")
        if st.form_submit_button(button):
            return code
    return None


def _new_codes_form(user: auth.User) -> None:
    st.subheader("New recovery codes", anchor=False)
    st.caption("The old codes stop working.")
    code = _code_form("two_factor_new_codes", "Make new recovery codes")
    if code is None:
        return
    with write_transaction(data.current_engine()) as conn:
        ok = two_factor.check_current_code(conn, user, code, **_throttle())
        codes = two_factor.new_recovery_codes(conn, user) if ok else []
        if ok:
            audit_trail.record(conn, "two_factor.recovery_codes", user.email)
    if not ok:
        st.error("That is not the app's current code (or it was used already).")
        return
    st.session_state[CODES_KEY] = codes
    st.rerun()


def _disable_form(user: auth.User) -> None:
    st.subheader("Turn off", anchor=False)
    code = _code_form("two_factor_disable", "Turn off two-factor sign-in")
    if code is None:
        return
    with write_transaction(data.current_engine()) as conn:
        ok = two_factor.check_current_code(conn, user, code, **_throttle())
        if ok:
            two_factor.disable(conn, user)
            audit_trail.record(conn, "two_factor.disable", user.email)
    if not ok:
        st.error("That is not the app's current code (or it was used already).")
        return
    st.rerun()
