"""Dashboard access glue: the login form, OIDC sign-in, share links, and who may do what.

The account rules live in `shared.accounts.users` and `shared.accounts.share_links`; this
module only asks them and keeps the answer in session state. Roles are re-read on every
run, so a role taken away or a share link revoked stops working at the next click, not at
next login. The dashboard is never open: without a user or a live share link only the login shows.

A password sign-in asks for a second factor when the user has set one up
(`shared.accounts.two_factor`): the password check leaves the e-mail "pending" in session
state for PENDING_SECONDS, and only a right code completes the sign-in. When
BEACON_REQUIRE_2FA applies to a user without a second factor, `Access.must_enrol` keeps
every page but the set-up away. Sign-ins, refused sign-ins and sign-outs go to the audit
log (`audit_trail`).

A password sign-in is remembered (`shared.accounts.login_tokens`, cookie in `login_cookie`): a new
session (a reload, a new tab) with a live token signs in without the form. The token
is checked again on every run, so signing out elsewhere, a new password or a removed
user ends the session at the next click.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import streamlit as st
from sqlalchemy.engine import Connection, Engine

from dashboard_app import audit_trail, login_cookie
from shared.accounts import login_tokens, two_factor
from shared.accounts import users as auth
from shared.accounts.share_links import check_share_password, resolve_share_link
from shared.accounts.sign_in_throttle import ThrottlePolicy
from shared.core.client_address import client_ip
from shared.core.settings import Settings
from shared.storage import write_transaction

USER_KEY = "auth_user_email"
SHARE_KEY = "auth_share_ok"   # id of the share link whose password this session gave
TOKEN_KEY = "auth_login_token"  # noqa: S105 - a session-state key; holds the user's token
SET_COOKIE_KEY = "auth_set_cookie"   # (token, max_age) the browser is to keep
CLEAR_COOKIE_KEY = "auth_clear_cookie"  # the browser is to forget its cookie
COOKIE_TRIED_KEY = "auth_cookie_tried"  # this session's cookie was looked at already
PENDING_KEY = "auth_pending_second_factor"  # (e-mail, deadline): password right, code due
NOTICE_KEY = "auth_notice"   # one message for the first page after sign-in
PENDING_SECONDS = 300
OIDC_AUDITED_KEY = "auth_oidc_audited"   # the single sign-on e-mail already in the audit log
# One message for every refusal: which accounts exist and whose tries wait stays unsaid.
FAILED_SIGN_IN = ("Sign-in failed: wrong e-mail or password, or too many tries from your "
                  "address - wait a little before the next one.")
FAILED_CODE = ("Sign-in failed: wrong or already used code, or too many tries - wait a "
               "little before the next one.")
FAILED_SHARE_OPEN = ("Wrong password, or too many tries from your address - wait a "
                     "little before the next one.")


@dataclass(frozen=True)
class Access:
    """Who is looking: a user with roles per site, or a visitor of one share link."""

    email: str | None
    roles: dict[int, str] = field(default_factory=dict)
    is_admin: bool = False
    share_site_id: int | None = None
    share_expires_at: datetime | None = None
    must_enrol: bool = False   # BEACON_REQUIRE_2FA applies and no second factor is set up

    @property
    def is_share(self) -> bool:
        return self.share_site_id is not None

    def can_edit(self, site_id: int | None) -> bool:
        return site_id is not None and self.roles.get(site_id) == "owner"


def client_address(settings: Settings) -> str:
    """The browser's address, through as many proxies as BEACON_TRUSTED_PROXIES says."""
    try:
        forwarded = st.context.headers.get("X-Forwarded-For")
        peer = st.context.ip_address or "127.0.0.1"   # None means a localhost connection
    except Exception:  # no browser connection (a script run without a client)
        return ""
    return client_ip(peer, forwarded, settings.trusted_proxies)


def oidc_configured() -> bool:
    """True when `[auth]` is in the Streamlit secrets: only then can st.login work."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def _oidc_email() -> str | None:
    try:
        if st.user.is_logged_in:
            email = st.user.get("email")
            return str(email) if email else None
    except Exception:  # st.user without an auth configuration
        return None
    return None


def _user_access(engine: Engine, settings: Settings, email: str) -> Access | None:
    with engine.connect() as conn:
        user = auth.get_user(conn, email)
        if user is None:
            return None
        # Password accounts only: an OpenID Connect sign-in relies on the provider's factors.
        must_enrol = (user.has_password
                      and two_factor.required_for(user, settings.require_2fa)
                      and not two_factor.is_enabled(conn, user))
        return Access(email=user.email, roles=auth.roles_of(conn, user), is_admin=user.is_admin,
                      must_enrol=must_enrol)


def _share_access(engine: Engine, settings: Settings, token: str) -> Access | None:
    with engine.connect() as conn:
        link = resolve_share_link(conn, token)
        if link is None:
            st.error("This share link is not valid (it may have expired or been revoked).")
            st.stop()
        assert link is not None
        if link.has_password and st.session_state.get(SHARE_KEY) != link.id:
            _share_password_form(engine, settings, token)
            return None
    return Access(email=None, roles={link.site_id: "viewer"}, share_site_id=link.site_id,
                  share_expires_at=link.expires_at)


def _share_password_form(engine: Engine, settings: Settings, token: str) -> None:
    st.subheader("This shared dashboard is protected")
    with st.form("share_password"):
        password = st.text_input("Password", type="password")
        if st.form_submit_button("Open"):
            with write_transaction(engine) as conn:
                link = resolve_share_link(conn, token)
                opened = link is not None and check_share_password(
                    conn, link, password, client_ip=client_address(settings),
                    policy=ThrottlePolicy.from_settings(settings))
            if link is not None and opened:
                st.session_state[SHARE_KEY] = link.id
                st.rerun()
            st.error(FAILED_SHARE_OPEN)


def _oidc_access(engine: Engine, settings: Settings, email: str) -> Access | None:
    allowed = tuple(settings.oidc_allowed_emails.split(","))
    with write_transaction(engine) as conn:
        known = _known_email(conn, email)
        user = auth.oidc_user(conn, email, allowed)
        if user is not None and not known:   # an allowed address's first sign-in
            audit_trail.record(conn, "user.add", user.email, as_actor=user.email,
                               after={"admin": False, "password": False},
                               details={"via": "oidc allow-list"})
    if user is None:
        st.error("Your account is not on this dashboard's allow-list.")
        if st.button("Sign out"):
            st.logout()
        st.stop()
    if st.session_state.get(OIDC_AUDITED_KEY) != email:  # once per session, not per run
        audit_trail.record(engine, "sign_in.success", email, as_actor=email,
                           details={"method": "oidc"})
        st.session_state[OIDC_AUDITED_KEY] = email
    return _user_access(engine, settings, email)


def _known_email(conn: Connection, email: str) -> bool:
    try:
        return auth.get_user(conn, email) is not None
    except auth.AuthError:
        return False


def _forget_user() -> None:
    """Drop the session's user; a remembered login is to be cleared from the browser."""
    st.session_state.pop(USER_KEY, None)
    st.session_state.pop(SET_COOKIE_KEY, None)
    if st.session_state.pop(TOKEN_KEY, None):
        st.session_state[CLEAR_COOKIE_KEY] = True


def _token_still_live(engine: Engine) -> bool:
    token = st.session_state.get(TOKEN_KEY)
    if not token:
        return True  # a session that was never remembered has nothing to re-check
    with engine.connect() as conn:
        return login_tokens.token_is_live(conn, token)


def _restore_from_cookie(engine: Engine) -> str | None:
    """Sign in from the browser's cookie, once per session; the e-mail or None."""
    if st.session_state.get(COOKIE_TRIED_KEY):
        return None
    st.session_state[COOKIE_TRIED_KEY] = True
    token = login_cookie.cookie_token()
    if token is None:
        return None
    with write_transaction(engine) as conn:
        email = login_tokens.user_for_token(conn, token)
    if email is None:  # expired, signed out elsewhere, user gone or locked
        st.session_state[CLEAR_COOKIE_KEY] = True
        return None
    st.session_state[USER_KEY] = email
    st.session_state[TOKEN_KEY] = token
    return email


def current_access(engine: Engine, settings: Settings) -> Access | None:
    """The access of this session, or None after drawing the way in (login, password)."""
    token = st.query_params.get("share")
    if token:
        return _share_access(engine, settings, token)
    email = st.session_state.get(USER_KEY) or _restore_from_cookie(engine)
    if email:
        access = _user_access(engine, settings, email) if _token_still_live(engine) else None
        if access is not None:
            return access
        _forget_user()  # the account was removed or its login ended meanwhile
    oidc_email = _oidc_email()
    if oidc_email and settings.oidc_allowed_emails:
        return _oidc_access(engine, settings, oidc_email)
    login_form(engine, settings)
    return None


LOGIN_WIDTH = 400   # px: a sign-in box, centred, as wide as on a phone


def login_form(engine: Engine, settings: Settings) -> None:
    pending = _pending_email()
    if pending:
        _second_factor_form(engine, settings, pending)
        return
    # Centred and narrow; the fields say what they hold (`username`, `current-password`)
    # so password managers offer to fill them.
    outer = st.container(horizontal_alignment="center")
    box = outer.container(width=LOGIN_WIDTH)
    box.title("Beacon Analytics")
    box.caption("Sign in to see your sites' statistics.")
    with box.form("login"):
        email = st.text_input("E-mail", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary", width="stretch")
    if submitted:
        with box:
            _try_password(engine, settings, email, password)
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice:
        box.info(notice)
    if settings.oidc_allowed_emails and oidc_configured():
        box.divider()
        if box.button("Sign in with single sign-on", width="stretch"):
            st.login()
    if st.session_state.get(CLEAR_COOKIE_KEY):
        # Drawn on every run of the form until the next sign-in, so the script is not
        # lost to a quick rerun; the token is already deleted, the cookie is tidiness.
        login_cookie.clear_cookie()


def _try_password(engine: Engine, settings: Settings, email: str, password: str) -> None:
    with write_transaction(engine) as conn:
        result = auth.login(conn, email, password, client_ip=client_address(settings),
                            policy=ThrottlePolicy.from_settings(settings))
        user = result.user if result.outcome is auth.LoginOutcome.OK else None
        code_due = user is not None and two_factor.is_enabled(conn, user)
        if user is None:
            _audit_refusal(conn, email, "password")
        elif not code_due:
            audit_trail.record(conn, "sign_in.success", user.email, as_actor=user.email,
                               details={"method": "password"})
    if user is None:
        st.error(FAILED_SIGN_IN)
        return
    if code_due:
        st.session_state[PENDING_KEY] = (user.email, time.monotonic() + PENDING_SECONDS)
        st.rerun()
    _complete_sign_in(engine, settings, user)


def _audit_refusal(conn: Connection, typed_email: str, step: str) -> None:
    """A refused sign-in names the account only when it exists: what was typed into the
    e-mail field may be a password."""
    try:
        user = auth.get_user(conn, typed_email)
    except auth.AuthError:
        user = None
    who = user.email if user else "(no such account)"
    audit_trail.record(conn, "sign_in.failed", who, as_actor=who, details={"step": step})


def _complete_sign_in(engine: Engine, settings: Settings, user: auth.User) -> None:
    st.session_state[USER_KEY] = user.email
    st.session_state.pop(PENDING_KEY, None)
    st.session_state.pop(CLEAR_COOKIE_KEY, None)
    _remember(engine, settings, user)
    st.rerun()


def _pending_email() -> str | None:
    """The e-mail whose password was right and whose code is due, while there is time."""
    pending = st.session_state.get(PENDING_KEY)
    if not pending:
        return None
    email, deadline = pending
    if time.monotonic() > deadline:
        st.session_state.pop(PENDING_KEY, None)
        st.session_state[NOTICE_KEY] = "The sign-in took too long. Enter the password again."
        return None
    return str(email)


def _second_factor_form(engine: Engine, settings: Settings, email: str) -> None:
    st.title("Beacon Analytics")
    st.caption("Two-factor sign-in")
    st.text(email)
    with st.form("second_factor"):
        code = st.text_input("Code from your authenticator app", autocomplete="one-time-code",
                             help="Six digits; or one of your recovery codes (xxxxx-xxxxx).")
        submitted = st.form_submit_button("Verify", type="primary")
    if st.button("Back to the password"):
        st.session_state.pop(PENDING_KEY, None)
        st.rerun()
    if submitted:
        _try_code(engine, settings, email, code)


def _try_code(engine: Engine, settings: Settings, email: str, code: str) -> None:
    with write_transaction(engine) as conn:
        user = auth.get_user(conn, email)
        outcome = two_factor.CodeOutcome.WRONG if user is None else two_factor.verify(
            conn, user, code, client_ip=client_address(settings),
            policy=ThrottlePolicy.from_settings(settings))
        if user is None or outcome is two_factor.CodeOutcome.WRONG:
            _audit_refusal(conn, email, "second_factor")
        else:
            left = two_factor.status(conn, user).recovery_codes_left
            audit_trail.record(conn, "sign_in.success", user.email, as_actor=user.email,
                               details={"method": f"password+{outcome.value}"})
    if user is None or outcome is two_factor.CodeOutcome.WRONG:
        st.error(FAILED_CODE)
        return
    if outcome is two_factor.CodeOutcome.RECOVERY:
        st.session_state[NOTICE_KEY] = (
            f"You signed in with a recovery code; {left} left. Make new ones under "
            "Account if you are running short.")
    _complete_sign_in(engine, settings, user)


def _remember(engine: Engine, settings: Settings, user: auth.User) -> None:
    """Give the browser a token so a reload does not ask for the password again."""
    days = settings.login_remember_days
    if days <= 0:
        return
    with write_transaction(engine) as conn:
        token = login_tokens.create_login_token(conn, user.id, timedelta(days=days))
    st.session_state[TOKEN_KEY] = token
    st.session_state[SET_COOKIE_KEY] = (token, days * 86_400)


def remembered_login_cookie() -> None:
    """Draw the cookie-setting script after a password sign-in (every run of the session:
    the script is unchanged between runs, so the browser does not reload it)."""
    pending = st.session_state.get(SET_COOKIE_KEY)
    if pending:
        login_cookie.set_cookie(pending[0])


def sign_out(engine: Engine) -> None:
    """Forget the session's user and delete its remembered login; an OIDC user is also
    signed out of the provider cookie."""
    email = st.session_state.get(USER_KEY)
    if email:
        audit_trail.record(engine, "sign_out", email, as_actor=email)
    token = st.session_state.get(TOKEN_KEY) or login_cookie.cookie_token()
    if token:
        with write_transaction(engine) as conn:
            login_tokens.revoke_login_token(conn, token)
    _forget_user()
    st.session_state[CLEAR_COOKIE_KEY] = True  # also a cookie this session did not use
    st.session_state.pop(SHARE_KEY, None)
    if _oidc_email():
        st.logout()
    st.rerun()
