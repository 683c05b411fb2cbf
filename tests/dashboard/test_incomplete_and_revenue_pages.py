"""The Overview leaves the incomplete day out of its changes and says so; the Events
table shows revenue per currency, on the page and in its CSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta
from typing import Any

import pytest
import streamlit as st

from shared.core.records import Event
from shared.ingest.events import write_events
from shared.rollups.mark import mark_dirty_range
from shared.sites import add_site
from tests.dashboard.conftest import Seeded, app_as, no_exception, utcnow

CUT = "cut.example"


def _event(site_id: int, ts: datetime, n: int, name: str = "pageview",
           **fields: Any) -> dict[str, Any]:
    return Event(site_id=site_id, ts=ts, name=name, hostname=CUT, pathname="/",
                 uid=5_000_000 + n * 10 + (name != "pageview"), visitor_id=6_000_000 + n,
                 session_id=7_000_000 + n, **fields).to_row()


@pytest.fixture
def cut_site(seeded: Seeded) -> Seeded:
    """A UTC site: 2 visitors on each of the 13 days before today, 1 so far today (at
    midnight); yesterday's first visitor bought for 1,234.50 EUR and 3 USD."""
    now = utcnow()
    today = datetime.combine(now.date(), time())
    with seeded.engine.begin() as conn:
        site = add_site(conn, CUT, timezone="UTC")
        rows = [_event(site.id, today - timedelta(days=d) + timedelta(hours=1, minutes=v),
                       d * 2 + v) for d in range(1, 14) for v in range(2)]
        rows.append(_event(site.id, today, 0))
        rows += [_event(site.id, today - timedelta(days=1) + timedelta(hours=1, minutes=5),
                        2, "purchase", revenue_amount=amount, revenue_currency=code)
                 for amount, code in ((1234.5, "EUR"), (3.0, "USD"))]
        rows[-1]["uid"] += 5
        write_events(conn, rows)
        mark_dirty_range(conn, site.id, "UTC", today - timedelta(days=14), now, now)
    return seeded


def test_overview_changes_leave_today_out_of_both_periods(cut_site: Seeded) -> None:
    at = no_exception(app_as("admin@example.com", site=CUT, period="7d",
                             compare="previous_period").run())
    cards = {m.label: m for m in at.metric}
    # The whole periods: 13 visitors against 14 (-7.1%); the complete days: 12 and 12.
    assert cards["Unique visitors"].value == "13"
    assert cards["Unique visitors"].delta == "+0.0%"
    assert cards["Visits"].delta == "+0.0%"
    notes = [c.value for c in at.caption]
    assert any(n.startswith("Dotted: today, not over yet. The changes on the cards leave "
                            "it out") for n in notes), notes


def test_events_table_shows_revenue_per_currency(cut_site: Seeded,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, bytes] = {}
    original = st.download_button

    def record(label: str, data: Any, file_name: str | None = None, *args: Any,
               **kwargs: Any) -> Any:
        seen[file_name or ""] = data if isinstance(data, bytes) else str(data).encode()
        return original(label, data, file_name, *args, **kwargs)

    monkeypatch.setattr(st, "download_button", record)
    at = no_exception(app_as("admin@example.com", site=CUT, period="7d").run())
    no_exception(at.switch_page("views/events.py").run())
    table = at.dataframe[0].value
    revenue = dict(zip(table["Event"], table["Revenue"], strict=True))
    assert revenue == {"pageview": "–", "purchase": "EUR 1,234.50; USD 3.00"}
    rows = list(csv.DictReader(io.StringIO(seen["events.csv"].decode(), newline="")))
    assert {r["Event"]: r["Revenue"] for r in rows} == revenue


@pytest.mark.parametrize("period", ["today", "all", "12mo"])
def test_overview_notes_the_incomplete_bucket_of_every_period_ending_now(
        cut_site: Seeded, period: str) -> None:
    """Hours (a cut inside today, read raw), "all" and months: the page draws and says
    which bucket is left out of the changes."""
    at = no_exception(app_as("admin@example.com", site=CUT, period=period,
                             compare="previous_period").run())
    name = {"today": "this hour", "all": "today", "12mo": "this month"}[period]
    assert any(c.value.startswith(f"Dotted: {name}, not over yet.") for c in at.caption)
    assert len(at.metric) == 6 and all(m.delta for m in at.metric)
