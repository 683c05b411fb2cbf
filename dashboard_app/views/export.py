"""Export page: any report as CSV or Parquet, or the raw events of the current frame.

CSV cells that a spreadsheet would run as a formula are neutralised. Raw events are
written by the worker in the background (`export_jobs_ui`), never inside a page run, so
an export of any size cannot take the dashboard process's memory or time. Files are
handed out by the dashboard's guard to the signed-in user who made them only, not
through Streamlit's public /media/ URLs.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard_app import data, export_store
from dashboard_app.auth import TOKEN_KEY
from dashboard_app.downloads import to_csv_bytes, to_parquet_bytes
from dashboard_app.export_jobs_ui import raw_events_section
from dashboard_app.frame import dimension_label, filter_label
from dashboard_app.tables import breakdown_frame, points_frame, rounded
from dashboard_app.ui import site_page
from shared.accounts.users import get_user
from shared.stats.dimensions import DIMENSIONS
from shared.stats.query import StatsQuery
from shared.stats.results import METRICS

REPORTS = ("totals", "timeseries", *DIMENSIONS)


def report_frame(query: StatsQuery, report: str) -> pd.DataFrame:
    if report == "totals":
        totals = data.totals(data.url(), query)
        return pd.DataFrame([{"period_start": totals.first_day, "period_end": totals.last_day,
                              **totals.metrics.as_dict()}])
    if report == "timeseries":
        return points_frame(data.timeseries(data.url(), query).points)
    return breakdown_frame(data.breakdown(data.url(), query, report, 1000), report, METRICS)


def offer(df: pd.DataFrame, name: str, fmt: str, user_id: int | None,
          what: dict[str, object] | None = None) -> None:
    """A download link that only this signed-in user's browser can use (`export_store`);
    `what` (action, site_id, details) goes to the audit log when the file is downloaded."""
    if fmt == "CSV":
        payload, mime, ext = to_csv_bytes(df), "text/csv", "csv"
    else:
        payload, mime, ext = to_parquet_bytes(df), "application/vnd.apache.parquet", "parquet"
    if user_id is None:
        st.info("Downloads need a remembered sign-in (BEACON_LOGIN_REMEMBER_DAYS above 0): "
                "the file is handed only to the browser holding it.")
        return
    entry = None if what is None else export_store.AuditNote(
        action=str(what["action"]), target=f"{name}.{ext}",
        site_id=int(str(what["site_id"])),
        details={**dict(what.get("details") or {}), "format": fmt, "rows": len(df)})  # type: ignore[call-overload]
    export_id = export_store.put(user_id, payload, mime, f"{name}.{ext}", audit=entry)
    st.link_button(f"Download {name}.{ext} ({len(df):,} rows)",
                   f"_beacon/export/{export_id}", type="primary")
    st.caption(f"The link works for {export_store.EXPIRY_SECONDS // 60} minutes, only for "
               "you (signed in in this browser).")


def _user_id(email: str | None) -> int | None:
    """The signed-in user's id (None for a share link)."""
    if not email:
        return None
    with data.current_engine().connect() as conn:
        user = get_user(conn, email)
    return user.id if user else None


def render() -> None:
    page = site_page("Export")
    if page is None:
        return
    ctx, site = page
    query = data.query_for(ctx.frame, site)
    r = query.date_range
    st.caption(f"Current frame: {r.first} to {r.last}")
    for f in ctx.frame.filters:
        st.text(filter_label(f))
    fmt = st.segmented_control("Format", ["CSV", "Parquet"], default="CSV", key="exp_fmt")
    report = st.selectbox("Report", REPORTS, key="exp_report",
                          format_func=lambda x: x.title() if x in ("totals", "timeseries")
                          else f"Breakdown by {dimension_label(x)}")
    df = rounded(report_frame(query, report))
    st.dataframe(df.head(20), hide_index=True, width="stretch")
    user_id = _user_id(ctx.access.email)
    # The download links need the sign-in cookie the browser holds (or is being given).
    can_download = bool(st.session_state.get(TOKEN_KEY))
    what = {"first": r.first, "last": r.last,
            "filters": [filter_label(f) for f in ctx.frame.filters]}
    offer(df, f"{site.domain}-{report}-{r.first}-{r.last}", fmt or "CSV",
          user_id if can_download else None,
          {"action": "export.report", "site_id": site.id,
           "details": {**what, "report": report}})
    raw_events_section(site, query, user_id, can_download)


render()
