"""The rollup build of one day: what readers see while it runs, and when it fails.

PostgreSQL builds a day in parts, each in its own transaction; SQLite in one. On both, a
day's stored rows are used only once the whole build has committed: until then the day
stays marked dirty and queries compute it from the raw events.
"""

from __future__ import annotations

import threading
from datetime import date, datetime

import pytest
import sqlalchemy as sa

from shared import schema
from shared.queries import (
    BreakdownSpec,
    StatsQuery,
    breakdowns,
    rebuild_day,
    rebuild_dirty,
    rollups,
    totals,
)
from tests.queries.factory import event, make_site, store

TZ = "Europe/Berlin"
NOW = datetime(2026, 3, 11, 12, 0)
DAY = date(2026, 3, 9)


def _site(engine) -> int:
    site = make_site(engine, "build.example", TZ)
    rows = []
    for n, (page, source) in enumerate((("/", "Google"), ("/a", ""), ("/b", "Bing"))):
        start = datetime(2026, 3, 9, 8 + n)
        rows += [event(site, start, "pageview", session=n + 1, visitor=n, pathname=page,
                       referrer_source=source),
                 event(site, start.replace(minute=5), "pageview", session=n + 1, visitor=n,
                       pathname="/pricing", referrer_source=source)]
    store(engine, rows, {site: TZ}, NOW)
    return site


def _answer(engine, site: int) -> tuple:
    query = StatsQuery(site, TZ, "custom", NOW, start=DAY, end=DAY, interval="day")
    with engine.connect() as conn:
        t = totals(conn, query)
        b = breakdowns(conn, query, [BreakdownSpec("page"), BreakdownSpec("source")])
    return t.source, t.metrics, [(r.value, r.metrics) for x in b.values() for r in x.rows]


def _marked(engine, site: int) -> list[date]:
    d = schema.dirty_days
    with engine.connect() as conn:
        return [r.day for r in conn.execute(sa.select(d.c.day).where(d.c.site_id == site))]


def test_a_failed_build_leaves_the_day_marked_and_read_raw(engine, monkeypatch):
    site = _site(engine)
    source, *raw_answer = _answer(engine, site)
    assert source == "raw"

    def fail(*args: object) -> None:   # the last part of the build fails
        raise RuntimeError("disk full")

    monkeypatch.setattr(rollups, "_store_event_dimension_rows", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        rebuild_dirty(engine, NOW)
    assert _marked(engine, site) == [DAY]
    assert _answer(engine, site) == ("raw", *raw_answer)   # whatever parts were written
    monkeypatch.undo()
    assert rebuild_dirty(engine, NOW) == 1
    assert _marked(engine, site) == []
    assert _answer(engine, site) == ("rollup", *raw_answer)


def test_rebuild_day_of_a_clean_day_is_read_raw_until_it_is_done(engine, monkeypatch):
    site = _site(engine)
    rebuild_dirty(engine, NOW)
    _, *answer = _answer(engine, site)
    seen: list[tuple] = []
    build = rollups._store_event_dimension_rows

    def look_then_build(conn, site_id: int, day: date) -> None:
        # Another reader, mid-build (its own connection and thread, as a dashboard's):
        reader = threading.Thread(target=lambda: seen.append(_answer(engine, site)))
        reader.start()
        reader.join()
        build(conn, site_id, day)

    monkeypatch.setattr(rollups, "_store_event_dimension_rows", look_then_build)
    if engine.dialect.name == "sqlite":   # one writer: the reader sees the old rows
        assert rebuild_day(engine, site, DAY)
        assert seen == [("rollup", *answer)]
    else:                                 # parts commit one by one: the day is read raw
        assert rebuild_day(engine, site, DAY)
        assert seen == [("raw", *answer)]
    assert _marked(engine, site) == []
    assert _answer(engine, site) == ("rollup", *answer)


def test_rebuild_day_of_a_removed_site_says_so(engine):
    site = _site(engine)
    with engine.begin() as conn:
        conn.execute(schema.sites.delete().where(schema.sites.c.id == site))
    assert rebuild_day(engine, site, DAY) is False
    assert _marked(engine, site) == []
