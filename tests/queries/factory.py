"""Test helpers: event rows with sensible defaults, written through the real write path."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy.engine import Engine

from shared.core.clock import local_day
from shared.ingest.events import write_events
from shared.rollups.mark import mark_dirty_days
from shared.sites import add_site

_uid = itertools.count(1)

DEFAULTS: dict[str, Any] = dict(
    hostname="example.com", pathname="/", referrer="", referrer_source="", channel="Direct",
    utm_source="", utm_medium="", utm_campaign="", utm_term="", utm_content="",
    click_id=False, country="DE", region="", city="", browser="Firefox",
    browser_version="120", os="Linux", os_version="", device="Desktop", language="en",
    props={}, revenue_amount=None, revenue_currency=None, engagement_ms=None,
    scroll_depth=None, interactive=True, screen_size="",
)


def event(site_id: int, ts: datetime, name: str, session: int, visitor: int,
          **fields: Any) -> dict[str, Any]:
    row = dict(DEFAULTS, uid=next(_uid), site_id=site_id, ts=ts, name=name,
               session_id=session, visitor_id=visitor)
    row.update(fields)
    return row


def make_site(engine: Engine, domain: str, timezone: str) -> int:
    with engine.begin() as conn:
        return add_site(conn, domain, timezone=timezone).id


def store(engine: Engine, rows: Iterable[dict[str, Any]], timezones: dict[int, str],
          now: datetime) -> set[tuple[int, date]]:
    """Write events and mark their local days dirty, as the beacon's writer does."""
    from zoneinfo import ZoneInfo

    rows = list(rows)
    days = {(r["site_id"], local_day(r["ts"], ZoneInfo(timezones[r["site_id"]])))
            for r in rows}
    with engine.begin() as conn:
        write_events(conn, rows)
        mark_dirty_days(conn, days, now)
    return days
