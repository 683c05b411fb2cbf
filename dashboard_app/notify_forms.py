"""Notifications page building blocks: report recipients, alert rules, webhooks and the
delivery log. Each change is one `shared.notify` function in one write transaction;
only owners (and admins) get here - the page checks it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from dashboard_app import audit_trail, data
from dashboard_app.ui import data_table
from shared.core.clock import utc_now
from shared.notify.alert_rules import (
    add_goal_threshold,
    get_alert_rules,
    list_goal_thresholds,
    remove_goal_threshold,
    set_alert_rules,
)
from shared.notify.deliver import delivery_settings, send_test_call
from shared.notify.outbox import delivery_log
from shared.notify.subscriptions import list_subscriptions, subscribe, unsubscribe
from shared.notify.webhooks import EVENTS, add_webhook, list_webhooks, remove_webhook
from shared.reports import list_goals
from shared.sites import Site
from shared.storage import write_transaction


def _write(fn: Callable[..., Any], site_id: int, *args: Any,
           audit_as: tuple[str, str], **kwargs: Any) -> Any:
    """Run one change of a site's notifications and record it in the audit log in the
    same transaction; a refused value is shown with its reason and returns None."""
    try:
        with write_transaction(data.current_engine()) as conn:
            result = fn(conn, site_id, *args, **kwargs)
            action, target = audit_as
            audit_trail.record(conn, action, target, site_id=site_id, after=kwargs or None)
            return result
    except ValueError as exc:
        st.error("Not saved.")
        st.text(str(exc))
        return None


def _read(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    with data.current_engine().connect() as conn:
        return fn(conn, *args, **kwargs)


def report_recipients(site: Site) -> None:
    subs = _read(list_subscriptions, site.id)
    if subs:
        data_table(pd.DataFrame([{"e-mail": s.email, "weekly": s.weekly,
                                  "monthly": s.monthly, "since (UTC)": s.created_at}
                                 for s in subs]), f"{site.domain}-report-recipients",
                   f"report_subs_{site.id}", width="stretch")
    else:
        st.caption("Nobody gets e-mail reports of this site yet.")
    with st.form(f"subscribe_{site.id}", clear_on_submit=True):
        email = st.text_input("Recipient's e-mail", placeholder="owner@example.com")
        left, right = st.columns(2)
        weekly = left.toggle("Weekly (Mondays)", True)
        monthly = right.toggle("Monthly (on the 1st)", False)
        if st.form_submit_button("Add or change recipient", type="primary") and _write(
                subscribe, site.id, email, weekly=weekly, monthly=monthly, now=utc_now(),
                audit_as=("report.subscribe", f"report recipient {email}")):
            st.rerun()
    if subs:
        with st.form(f"unsubscribe_{site.id}"):
            chosen = st.selectbox("Remove a recipient", [s.email for s in subs])
            removed = st.form_submit_button("Remove") and _write(
                unsubscribe, site.id, chosen,
                audit_as=("report.unsubscribe", f"report recipient {chosen}"))
            if removed:
                st.rerun()


def alert_rules(site: Site) -> None:
    rules = _read(get_alert_rules, site.id)
    with st.form(f"alerts_{site.id}"):
        spike_on = st.toggle("Traffic spike", rules.spike_visitors is not None)
        spike = st.number_input("…when current visitors are more than", 1, 1_000_000,
                                rules.spike_visitors or 100)
        drop_on = st.toggle("Traffic drop (also: the snippet stopped sending)",
                            rules.drop_percent is not None)
        drop = st.number_input("…when today so far is below this % of the usual for the "
                               "weekday and hour", 1, 99, rules.drop_percent or 50)
        emails = st.text_area("E-mail alerts to (one address per line; webhooks choose "
                              "their events themselves)", "\n".join(rules.emails))
        if st.form_submit_button("Save alerts", type="primary") and _write(
                set_alert_rules, site.id, spike_visitors=int(spike) if spike_on else None,
                drop_percent=int(drop) if drop_on else None, emails=emails.splitlines(),
                now=utc_now(), audit_as=("alert.update", "traffic alerts")):
            st.success("Saved.")
    for kind, since in (("spike", rules.spike_since), ("drop", rules.drop_since)):
        if since is not None:
            st.warning(f"A traffic {kind} is going on since {since:%Y-%m-%d %H:%M} UTC "
                       "(notified once; the next notice comes with the next episode).")
    goal_thresholds(site)


def goal_thresholds(site: Site) -> None:
    st.subheader("Goal thresholds")
    goals = {g.id: g.display_name for g in _read(list_goals, site.id)}
    thresholds = _read(list_goal_thresholds, site.id)
    if thresholds:
        data_table(pd.DataFrame([{"id": t.id, "goal": goals.get(t.goal_id, "(removed)"),
                                  "conversions a day": t.conversions} for t in thresholds]),
                   f"{site.domain}-goal-thresholds", f"goal_thr_{site.id}")
    if not goals:
        st.caption("Add goals on the Goals & funnels page to be told when one is reached.")
        return
    with st.form(f"goal_threshold_{site.id}", clear_on_submit=True):
        goal = st.selectbox("Goal", list(goals), format_func=lambda i: goals[i])
        count = st.number_input("Notify when it reaches this many conversions in a day",
                                1, 1_000_000, 10)
        if st.form_submit_button("Add threshold") and _write(
                add_goal_threshold, site.id, int(goal), int(count), now=utc_now(),
                audit_as=("goal_threshold.add", f"threshold of goal {goals[goal]}")):
            st.rerun()
    if thresholds:
        with st.form(f"rm_goal_threshold_{site.id}"):
            chosen = st.selectbox("Remove threshold (id)", [t.id for t in thresholds])
            if st.form_submit_button("Remove threshold"):
                _write(remove_goal_threshold, site.id, int(chosen),
                       audit_as=("goal_threshold.remove", f"goal threshold {chosen}"))
                st.rerun()


def webhooks(site: Site) -> None:
    hooks = _read(list_webhooks, site.id)
    if hooks:
        data_table(pd.DataFrame([{"id": h.id, "URL": h.url, "events": ", ".join(h.events),
                                  "format": h.payload_format} for h in hooks]),
                   f"{site.domain}-webhooks", f"webhooks_{site.id}", width="stretch")
    with st.form(f"webhook_{site.id}", clear_on_submit=True):
        url = st.text_input("URL (https://…)", placeholder="https://hooks.example.com/beacon")
        events = st.multiselect("Events", EVENTS, default=list(EVENTS))
        slack = st.toggle("Slack-compatible body ({\"text\": …})", False)
        if st.form_submit_button("Add webhook", type="primary"):
            hook = _write(add_webhook, site.id, url, events,
                          payload_format="slack" if slack else "json", now=utc_now(),
                          audit_as=("webhook.add", f"webhook to {url}"))
            if hook is not None:
                st.success("Webhook added. Its signing secret (also shown below):")
                st.code(hook.secret, language=None)
    if hooks:
        with st.form(f"webhook_manage_{site.id}"):
            chosen = st.selectbox("Webhook (id)", [h.id for h in hooks])
            left, middle, right = st.columns(3)
            show = left.form_submit_button("Show signing secret")
            test = middle.form_submit_button("Send a test call")
            remove = right.form_submit_button("Remove webhook")
        if test:
            result = send_test_call(data.current_engine(), site, int(chosen), utc_now(),
                                    delivery_settings(data.settings()))
            if result.status == "sent":
                st.success(f"The receiver answered {result.response_code}.")
            else:
                st.error("The test call failed (it is retried; see the delivery log).")
                st.text(result.last_error or "")
        if show:
            st.code(next(h.secret for h in hooks if h.id == chosen), language=None)
        if remove and _write(remove_webhook, site.id, int(chosen),
                                     audit_as=("webhook.remove", f"webhook {chosen}")):
            st.rerun()


def deliveries(site: Site) -> None:
    hooks = {str(h.id): h.url for h in _read(list_webhooks, site.id)}
    log = _read(delivery_log, site.id)
    if not log:
        st.caption("Nothing sent yet.")
        return
    data_table(pd.DataFrame([{
        "queued (UTC)": n.created_at, "event": n.event, "by": n.channel,
        "to": n.target if n.channel == "email" else hooks.get(n.target, f"#{n.target}"),
        "status": n.status, "tries": n.attempts,
        "response": "" if n.response_code is None else str(n.response_code),
        "sent (UTC)": n.sent_at, "last error": n.last_error or ""} for n in log]),
        f"{site.domain}-deliveries", f"deliveries_{site.id}", width="stretch")
