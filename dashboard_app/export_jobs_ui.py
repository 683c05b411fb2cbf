"""The Export page's raw-events part: start an export of the frame's raw events, which
the worker writes in the background (`shared.dataout.export_jobs`), and follow it.

Nothing is written inside the page run: the button queues a row and the list below
reads the rows back, so leaving the page, a rerun or a second tab neither stops nor
repeats an export (the queue finds the same one). The list refreshes itself while an
export is queued or running. Labels and errors are shown as text: filter values may
come from tracked pages.
"""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from dashboard_app import data
from dashboard_app.frame import filter_label
from shared.core.clock import utc_now
from shared.dataout.export_queue import ACTIVE, ExportJob, jobs_of, request_export
from shared.sites import Site
from shared.stats.query import StatsQuery
from shared.storage import write_transaction

FORMATS = {"CSV": "csv", "Parquet": "parquet", "NDJSON": "ndjson"}
REFRESH_SECONDS = 2


def label_of(query: StatsQuery) -> str:
    r = query.date_range
    parts = [f"{r.first} to {r.last}", *(filter_label(f) for f in query.filters)]
    return "; ".join(parts)


def start_export(user_id: int, query: StatsQuery, fmt: str) -> ExportJob:
    with write_transaction(data.current_engine()) as conn:
        return request_export(conn, user_id=user_id, query=query, fmt=fmt,
                              label=label_of(query), now=utc_now())


def raw_events_section(site: Site, query: StatsQuery, user_id: int | None,
                       can_download: bool) -> None:
    """`user_id`: who is signed in (None: a share link, which cannot export raw events);
    `can_download`: the browser holds the sign-in cookie the download link needs."""
    st.subheader("Raw events", anchor=False)
    if user_id is None:
        st.info("Sign in to export raw events.")
        return
    keep = data.settings().export_keep_hours
    st.caption("Every stored event of the frame, written in the background by the worker: "
               "you may leave this page and come back for the file. Files are kept for "
               f"{keep} hours.")
    choice = st.segmented_control("Raw events format", list(FORMATS), default="CSV",
                                  key="exp_raw_fmt")
    if st.button("Start export", key="exp_raw"):
        job = start_export(user_id, query, FORMATS[choice or "CSV"])
        st.toast("Export queued" if job.status == "queued" else "This export is running")
    _jobs_list(site, user_id, can_download)


def _jobs_list(site: Site, user_id: int, can_download: bool) -> None:
    with data.current_engine().connect() as conn:
        jobs = jobs_of(conn, site.id, user_id)
    active = any(j.status in ACTIVE for j in jobs)

    # A fragment that reruns on its own while something is under way; the page does not.
    @st.fragment(run_every=timedelta(seconds=REFRESH_SECONDS) if active else None)
    def jobs_fragment() -> None:
        with data.current_engine().connect() as conn:
            for job in jobs_of(conn, site.id, user_id):
                _job_row(site, job, can_download)

    jobs_fragment()


def _job_row(site: Site, job: ExportJob, can_download: bool) -> None:
    with st.container(border=True):
        st.text(f"{job.format.upper()} · {job.label}")
        if job.status == "queued":
            st.caption("Waiting for the worker (`beacon worker`) to start it.")
        elif job.status == "running":
            total = job.rows_total
            fraction = min(job.rows_written / total, 1.0) if total else 0.0
            shown = f"{job.rows_written:,} of {total:,} rows" if total is not None \
                else f"{job.rows_written:,} rows"
            st.progress(fraction, text=shown)
        elif job.status == "failed":
            st.error("This export failed.")
            st.text(job.error)
        elif not can_download:
            st.info("Downloads need a remembered sign-in (BEACON_LOGIN_REMEMBER_DAYS above "
                    "0): the file is handed only to the browser holding it.")
        else:
            size = f"{(job.file_bytes or 0) / 1e6:,.1f} MB"
            st.link_button(f"Download {job.download_name(site.domain)} "
                           f"({job.rows_written:,} rows, {size})",
                           f"_beacon/export-file/{job.token}", type="primary")
