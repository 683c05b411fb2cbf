"""Building blocks the views share: page context, safe tables, empty states, number format.

Tables are the one place visitor data is shown in bulk: `st.dataframe` renders cells as
text, and only columns of validated http(s) URLs become links (LinkColumn). The table
toolbar's own CSV download is switched off (`client.disableDataExport` in
dashboard_app/.streamlit/config.toml) because it exports cells raw; `data_table` puts our
formula-safe "Download CSV" under every table instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from dashboard_app.auth import Access
from dashboard_app.frame import Frame
from dashboard_app.sidebar import current_frame
from shared.sites import Site

_HTTP_URL = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?(/[^\s<>\"']*)?$")


@dataclass(frozen=True)
class PageContext:
    access: Access
    site: Site | None
    frame: Frame
    sites: list[Site]

    @property
    def can_edit(self) -> bool:
        return self.site is not None and self.access.can_edit(self.site.id)


def page_context() -> PageContext:
    """Access, the sites it may see and the frame's site, as app.py left them this run."""
    access: Access = st.session_state["access"]
    sites: list[Site] = st.session_state.get("sites", [])
    frame = current_frame()
    site = next((s for s in sites if s.domain == frame.site_domain), sites[0] if sites else None)
    return PageContext(access=access, site=site, frame=frame, sites=sites)


def site_page(title: str | None) -> tuple[PageContext, Site] | None:
    """Start a page that reports on one site: its title, then the context and the site;
    None, after showing how to get a site, when the user has none to see."""
    ctx = page_context()
    if title:
        st.title(title)
    if ctx.site is None:
        no_site_state(ctx.access)
        return None
    return ctx, ctx.site


def safe_url(value: Any) -> str | None:
    """`value` if it is a plain http(s) URL that can be offered as a link, else None."""
    text = str(value or "")
    return text if len(text) <= 2000 and _HTTP_URL.match(text) else None


def link_column_config(df: pd.DataFrame, columns: tuple[str, ...]) -> dict[str, Any]:
    """LinkColumn for each column of `columns` in `df` (cells already made safe)."""
    return {c: st.column_config.LinkColumn(c) for c in columns if c in df}


def with_safe_links(df: pd.DataFrame, column: str, link_column: str) -> pd.DataFrame:
    """Add `link_column` holding `column` where it is a safe http(s) URL, else empty."""
    out = df.copy()
    out[link_column] = [safe_url(v) for v in out[column]]
    return out


def download_button(df: pd.DataFrame, name: str, key: str) -> None:
    """Our CSV download of `df`: cells a spreadsheet would run as formulas are neutralised."""
    from dashboard_app.downloads import to_csv_bytes

    st.download_button("Download CSV", to_csv_bytes(df), file_name=f"{name}.csv",
                       mime="text/csv", key=key, icon=":material/download:",
                       on_click="ignore")


def data_table(df: pd.DataFrame, name: str, key: str, **options: Any) -> Any:
    """`st.dataframe(df, **options)` with our CSV download under it; returns what
    st.dataframe returns (the selection event when `on_select` is given)."""
    options.setdefault("hide_index", True)
    event = st.dataframe(df, **options)
    download_button(df, name, key=f"dl_{key}")
    return event


def fmt_int(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def fmt_seconds(value: float | None) -> str:
    if value is None:
        return "–"
    minutes, seconds = divmod(round(value), 60)
    return f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"


def fmt_change(value: float | None, points: bool = False) -> str | None:
    """"+3.1%" / "-2.0 pt"; "–" when there is nothing to compare with."""
    if value is None:
        return "–"
    return f"{value:+.1f} pt" if points else f"{value:+.1f}%"


def no_site_state(access: Access) -> None:
    st.info("There is no site to show yet.")
    if access.is_admin:
        st.write("Add one under **Sites & settings**, or on the command line:")
    else:
        st.write("Ask an administrator to give you a role on a site. They can add sites "
                 "and roles on the command line:")
    st.code("beacon sites add example.com --timezone Europe/Berlin\n"
            "beacon users grant you@example.com example.com viewer", language="bash")


def no_data_state(site: Site) -> None:
    st.info("No visits in this period yet.")
    st.write("If the site is new, paste the tracking code into its pages; it is under "
             "**Sites & settings**. With no JavaScript, this one line counts a page view:")
    st.code(f'<img src="https://YOUR-BEACON-HOST/p.gif?d={site.domain}" alt="" '
            'referrerpolicy="no-referrer-when-downgrade">', language="html")
