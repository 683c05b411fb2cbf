"""Notifications page (owners): e-mail reports, traffic alerts, webhooks and the log of
what was sent. Viewers see why they cannot change anything here."""

from __future__ import annotations

import streamlit as st

from dashboard_app import data, notify_forms
from dashboard_app.ui import site_page
from shared.notify.smtp import smtp_config


def render() -> None:
    started = site_page("Notifications")
    if started is None:
        return
    ctx, site = started
    st.caption("E-mail reports, alerts and webhooks of the site picked in the sidebar")
    st.text(site.domain)
    if not ctx.can_edit:
        st.info("Only owners of the site manage its reports, alerts and webhooks.")
        return
    if not smtp_config(data.settings()).configured:
        st.warning("No mail server is configured (BEACON_SMTP_URL): e-mails wait in the "
                   "queue until one is. Webhooks are sent.")
    reports, alerts, hooks, log = st.tabs(["E-mail reports", "Alerts", "Webhooks",
                                           "Delivery log"])
    with reports:
        notify_forms.report_recipients(site)
    with alerts:
        notify_forms.alert_rules(site)
    with hooks:
        notify_forms.webhooks(site)
    with log:
        notify_forms.deliveries(site)


render()
