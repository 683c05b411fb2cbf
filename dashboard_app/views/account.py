"""Account page (every signed-in user): who you are and your two-factor sign-in."""

from __future__ import annotations

import streamlit as st

from dashboard_app import data, two_factor_forms
from dashboard_app.ui import page_context


def render() -> None:
    access = page_context().access
    st.title("Account")
    st.caption("Signed in as")
    st.text(access.email or "")
    if access.must_enrol:
        st.warning("This dashboard requires two-factor sign-in for your account. Set it up "
                   "to continue; the other pages open once it is on.")
    st.subheader("Two-factor sign-in", anchor=False)
    st.caption("After the password, a six-digit code from an app on your phone: a stolen "
               "password alone no longer signs anyone in.")
    two_factor_forms.manage(access.email or "", data.settings().require_2fa)


render()
