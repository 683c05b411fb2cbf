"""Dashboard entry point (`streamlit run dashboard_app/app.py`): settings, access, the
shared frame in the sidebar, and the navigation between the pages in `views/`.

Nothing is shown before access is settled: no user and no live share link means the
login form only. Invalid settings (e.g. production without BEACON_SECRET_KEY) stop
every page with the reason.
"""

from __future__ import annotations

import logging
from pathlib import Path

import sqlalchemy as sa
import streamlit as st
from sqlalchemy.engine import Engine

from dashboard_app import auth, data, segments_ui, sidebar
from dashboard_app.auth import Access
from dashboard_app.outage import database_unavailable
from dashboard_app.server_logs import use_json_logs
from shared.core.last_good import is_outage
from shared.core.settings import Settings, SettingsError
from shared.sites import Site
from shared.stats.query import QueryError
from shared.storage.private_files import secure_start
from shared.storage.read_timeout import QueryTimeout

VIEWS = Path(__file__).parent / "views"
FAVICON = Path(__file__).parent / "static" / "favicon.svg"


def _pages(access: Access, has_sites: bool) -> list[st.Page]:
    def page(name: str, title: str, icon: str, default: bool = False) -> st.Page:
        return st.Page(VIEWS / f"{name}.py", title=title, icon=icon, default=default,
                       url_path=name)

    if access.must_enrol:
        # BEACON_REQUIRE_2FA: nothing but the set-up until a second factor is on.
        return [page("account", "Account", ":material/person:", default=True)]
    reports = [page("overview", "Overview", ":material/monitoring:", default=has_sites),
               page("realtime", "Realtime", ":material/bolt:"),
               page("goals", "Goals & funnels", ":material/flag:"),
               page("events", "Events & properties", ":material/label:"),
               page("bots", "Bots & AI agents", ":material/smart_toy:"),
               page("search", "Site search", ":material/search:"),
               page("notes", "Segments & annotations", ":material/bookmarks:")]
    pages = reports if has_sites else []
    if not access.is_share:
        pages.append(page("settings", "Sites & settings", ":material/settings:",
                          default=not has_sites))
        if has_sites:
            pages.append(page("export", "Export", ":material/download:"))
            pages.append(page("notifications", "Notifications",
                              ":material/notifications:"))
    pages.append(page("privacy", "Privacy", ":material/shield:"))
    if not access.is_share:
        pages.append(page("account", "Account", ":material/person:"))
        if access.is_admin:
            pages.append(page("audit", "Audit log", ":material/history:"))
    return pages


def _account_box(access: Access, engine: Engine) -> None:
    if access.is_share:
        until = access.share_expires_at
        st.sidebar.caption("Shared dashboard (read-only)" + (
            f", until {until:%Y-%m-%d %H:%M} UTC" if until else ""))
        return
    st.sidebar.caption("Signed in as")
    st.sidebar.text(access.email or "")
    if st.sidebar.button("Sign out", key="sign_out"):
        auth.sign_out(engine)
    with st.sidebar:
        auth.remembered_login_cookie()


def _frame_controls(sites: list[Site], reports: bool) -> None:
    site = sidebar.site_picker(sites)
    if site is None or not reports:
        sidebar.mirror_to_url(sidebar.current_frame())
        return
    sidebar.period_controls(data.site_today(site))
    st.sidebar.divider()
    sidebar.filter_hint()
    sidebar.filter_builder()
    segments_ui.segment_picker(site)
    segments_ui.save_segment_form(site, st.session_state["access"])
    sidebar.mirror_to_url(sidebar.current_frame())
    sidebar.filter_bar()    # the main area's top, above the page


@st.cache_resource(show_spinner=False)
def _secure_start(settings: Settings) -> None:
    """Once per process: private umask and the warning about readable data files."""
    secure_start(settings)


@st.cache_resource(show_spinner=False)
def _warm_up() -> None:
    """Once per process, after the sign-in form is drawn (while the first user types):
    load what the reports draw with (the panels, the charts, Plotly's figure
    serialisation), about half a second the first sign-in would otherwise wait for."""
    import plotly.io

    from dashboard_app import charts, panels  # noqa: F401 - imported to load them

    plotly.io.to_json(charts.ranked_list(["/"], [1], ["1"]), validate=False)


def main() -> None:
    # The icon is our own file: a material-icon favicon is fetched from a font CDN.
    st.set_page_config(page_title="Beacon Analytics", page_icon=str(FAVICON), layout="wide")
    try:
        _run()
    except sa.exc.SQLAlchemyError as exc:
        if not is_outage(exc):
            raise
        database_unavailable(exc)


def _run() -> None:
    try:
        settings = data.settings()
    except SettingsError as exc:
        st.error("The dashboard cannot start: its configuration is invalid.")
        st.code(str(exc), language=None)
        st.stop()
    use_json_logs(settings.log_level)
    _secure_start(settings)
    engine = data.engine(settings.resolved_database_url)
    access = auth.current_access(engine, settings)
    if access is None:
        _warm_up()
        st.stop()
    assert access is not None
    sites = [] if access.must_enrol else data.sites_for(access)
    notice = st.session_state.pop(auth.NOTICE_KEY, None)
    if notice:
        st.toast(notice)
    st.session_state["access"] = access
    st.session_state["sites"] = sites
    _account_box(access, engine)
    # expanded: every page is listed (13 of them; collapsed, the last would hide behind
    # "View more")
    nav = st.navigation(_pages(access, bool(sites)), expanded=True)
    if sites:
        _frame_controls(sites, reports=nav.url_path not in ("settings", "privacy", "account",
                                                                 "audit", "notifications"))
    try:
        nav.run()
    except (QueryError, QueryTimeout) as exc:
        # A period, filter or interval out of bounds (e.g. from a hand-edited or shared
        # URL), or a report stopped at the time limit: the reason, never a traceback.
        st.error("This report cannot be shown.")
        st.text(str(exc))
    except sa.exc.DBAPIError as exc:
        # Its text holds the SQL and the parameters (the URL's filter values): the log
        # gets the driver's error class, the page a plain sentence.
        logging.getLogger(__name__).error("report failed in the database: %s",
                                          type(exc.orig).__name__)
        st.error("The database could not answer this report. Try again later.")


main()
