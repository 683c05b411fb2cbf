"""Test traffic written through the real write path (tests.queries.factory): a week of
visits with known visitors, pages, sources, countries and goal completions."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

from sqlalchemy.engine import Engine

from tests.queries.factory import event, store

_ids = itertools.count(1)


def visit(site_id: int, start: datetime, *, pages: tuple[str, ...] = ("/",),
          source: str = "", country: str = "DE", signup: bool = False,
          visitor: int | None = None) -> list[dict]:
    """One visit: its pageviews a minute apart, optionally a signup event."""
    session = next(_ids)
    who = visitor if visitor is not None else next(_ids)
    rows = [event(site_id, start + timedelta(minutes=i), "pageview", session, who,
                  pathname=p, referrer_source=source, country=country)
            for i, p in enumerate(pages)]
    if signup:
        rows.append(event(site_id, start + timedelta(minutes=len(pages)), "signup", session,
                          who, pathname=pages[-1], country=country))
    return rows


def week_of_traffic(site_id: int, monday: date, per_day: int) -> list[dict]:
    """`per_day + i` visitors on day i (local noon-ish, UTC given): every third on
    /pricing from Google in the US with a signup, the rest one page, direct, DE."""
    rows: list[dict] = []
    for day in range(7):
        for v in range(per_day + day):
            start = datetime(monday.year, monday.month, monday.day, 9) + timedelta(
                days=day, minutes=3 * v)
            if v % 3 == 0:
                rows += visit(site_id, start, pages=("/", "/pricing"), source="Google",
                              country="US", signup=True)
            else:
                rows += visit(site_id, start)
    return rows


def write(engine: Engine, rows: list[dict], site_id: int, tz: str, now: datetime) -> None:
    store(engine, rows, {site_id: tz}, now)
