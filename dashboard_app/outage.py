"""What the dashboard shows while its database cannot be reached: a plain message, no
traceback, and a retry every few seconds that reloads the page once the database answers.

The events themselves are not at risk: the beacon keeps accepting them into its spool and
writes them when the database is back (see docs/durability.md).
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
import streamlit as st

from dashboard_app import data
from shared.core.last_good import first_line

log = logging.getLogger(__name__)

RETRY_SECONDS = 5


def database_unavailable(exc: BaseException) -> None:
    """Say that the database is away (details go to the log, not to the page) and retry."""
    log.warning("dashboard: database unavailable (%s)", first_line(exc))
    st.error("The database is unavailable; retrying every "
             f"{RETRY_SECONDS} seconds. Events keep being collected meanwhile and appear "
             "here once it is back.", icon=":material/cloud_off:")
    _retry()


@st.fragment(run_every=RETRY_SECONDS)
def _retry() -> None:
    """Runs again every few seconds on its own; reloads the page once the database answers."""
    try:
        engine = data.engine(data.settings().resolved_database_url)
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        st.caption("Still unavailable.")
        return
    st.rerun()
