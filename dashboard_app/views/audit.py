"""Audit log page (admins only): who changed what, when, from where; filter and export.

Every cell is shown as text (`st.dataframe`); the CSV export is formula-safe and handed
out like the other exports, to the signed-in admin's browser only (`export_store`).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pandas as pd
import streamlit as st

from dashboard_app import data, export_store
from dashboard_app.auth import TOKEN_KEY
from dashboard_app.ui import page_context
from shared.accounts.audit import ACTIONS, AuditEntry, AuditFilter, entries
from shared.accounts.users import get_user
from shared.core.clock import utc_now
from shared.dataout.audit_export import csv_bytes

SHOWN = 500
GROUPS = ("", *sorted({a.split(".")[0] + "." if "." in a else a for a in ACTIONS}))


def _group_label(group: str) -> str:
    return "All actions" if not group else group.rstrip(".").replace("_", " ")


def _frame(rows: list[AuditEntry], domains: dict[int, str]) -> pd.DataFrame:
    return pd.DataFrame([{
        "time (UTC)": e.at.strftime("%Y-%m-%d %H:%M:%S"), "actor": e.actor,
        "source": e.source, "action": e.action, "target": e.target,
        "site": "" if e.site_id is None else domains.get(e.site_id, f"#{e.site_id}"),
        "details": json.dumps(e.details, ensure_ascii=False, sort_keys=True)
        if e.details else ""} for e in rows],
        columns=["time (UTC)", "actor", "source", "action", "target", "site", "details"])


def _filter() -> AuditFilter:
    today = utc_now().date()
    left, middle, right = st.columns(3)
    group = left.selectbox("Action", GROUPS, format_func=_group_label, key="audit_group")
    actor = middle.text_input("Actor (exact e-mail)", key="audit_actor")
    days = right.date_input("Days (UTC)", (today - timedelta(days=30), today),
                            max_value=today, key="audit_days")
    first, last = (days[0], days[-1]) if isinstance(days, tuple) and days else (today, today)
    return AuditFilter(since=datetime.combine(first, datetime.min.time()),
                       until=datetime.combine(last + timedelta(days=1), datetime.min.time()),
                       actor=actor.strip().lower() if "@" in actor else actor.strip(),
                       action=group)


def _export(f: AuditFilter, email: str | None) -> None:
    with data.current_engine().connect() as conn:
        payload = csv_bytes(conn, f)
        user = get_user(conn, email) if email else None
    name = f"audit-log-{f.since:%Y-%m-%d}-{(f.until or utc_now()) - timedelta(days=1):%Y-%m-%d}"
    note = export_store.AuditNote("export.audit_log", f"{name}.csv", details={
        "action": f.action, "actor": f.actor, "since": f.since, "until": f.until})
    if user is None or not st.session_state.get(TOKEN_KEY):
        st.info("Downloads need a remembered sign-in (BEACON_LOGIN_REMEMBER_DAYS above 0): "
                "the file is handed only to the browser holding it.")
        return
    export_id = export_store.put(user.id, payload, "text/csv", f"{name}.csv", audit=note)
    st.link_button(f"Download {name}.csv", f"_beacon/export/{export_id}", type="primary")
    st.caption(f"The link works for {export_store.EXPIRY_SECONDS // 60} minutes, only for you.")


def render() -> None:
    ctx = page_context()
    st.title("Audit log")
    if not ctx.access.is_admin:
        st.info("Only administrators read the audit log.")
        return
    st.caption("Every change made by a person: sign-ins, users and roles, sites and their "
               "settings, goals, funnels, keys, share links, exports and purges - with "
               "who, when, and from where (dashboard, command line, API). Kept for "
               + (f"{data.settings().audit_retention_days} days."
                  if data.settings().audit_retention_days else "ever."))
    f = _filter()
    with data.current_engine().connect() as conn:
        rows = entries(conn, f, limit=SHOWN)
    domains = {s.id: s.domain for s in ctx.sites}
    if not rows:
        st.info("No entries match.")
    else:
        st.dataframe(_frame(rows, domains), hide_index=True, width="stretch",
                     column_config={"details": st.column_config.TextColumn(width="large")})
        if len(rows) == SHOWN:
            st.caption(f"The newest {SHOWN} entries; the export holds all that match.")
    if st.button("Export as CSV", icon=":material/download:", key="audit_export"):
        _export(f, ctx.access.email)


render()
