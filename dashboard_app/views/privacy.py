"""Privacy page: the record of processing, generated from the live configuration, with a
printable plain-text copy to download."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard_app import data
from dashboard_app.ui import data_table, page_context
from shared.core.clock import utc_now
from shared.dataout.privacy_record import as_text, build_record


def render() -> None:
    ctx = page_context()
    now = utc_now()
    with data.current_engine().connect() as conn:
        sections = build_record(conn, data.settings(), ctx.sites, now)
    st.title("Privacy")
    st.caption("Record of processing, generated now from this installation's settings. "
               "Download it to print or to hand to your data-protection officer.")
    st.download_button("Download the record (text)", as_text(sections, now),
                       file_name="record-of-processing.txt", mime="text/plain",
                       icon=":material/print:")
    if ctx.access.is_admin:
        st.page_link("views/audit.py", label="Audit log: who changed what, and when",
                     icon=":material/history:")
    for number, section in enumerate(sections, start=1):
        st.subheader(section.title, anchor=False)
        df = pd.DataFrame(section.rows, columns=["Item", "Details"])
        data_table(df, f"record-of-processing-{number}", f"privacy_{number}", width="stretch",
                   column_config={"Details": st.column_config.TextColumn(width="large")})


render()
