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

from shared.core import schema
from shared.reports import (
    BreakdownSpec,
    StatsQuery,
    breakdowns,
    rebuild_day,
    rebuild_dirty,
    totals,
)
from shared.rollups import build as rollups
from shared.rollups import helper as rollup_helper
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


# --- SQLite: a big day's visits computed by a helper process --------------------------
HELPER_NOW = datetime(2026, 3, 11, 12, 0)


def _stored(engine, site: int) -> dict[str, list[tuple]]:
    """Every rollup row of the site, sorted (the three tables the build writes)."""
    out = {}
    with engine.connect() as conn:
        for table in (schema.rollup_visits, schema.rollup_visit_events, schema.daily_rollups):
            rows = conn.execute(sa.select(table).where(table.c.site_id == site)).all()
            out[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return out


def _demo_site(engine) -> int:
    from shared.demo.run import DemoSpec, run_demo

    spec = DemoSpec("helper.test", days=3, events=3000, seed=5, timezone="Europe/Berlin")
    return run_demo(engine, spec, now=HELPER_NOW, rebuild=False).site.id


def _built_in_one_process(engine, monkeypatch) -> tuple[int, dict, date]:
    """A demo site built without the helper: (site, its stored rows, one of its days);
    then every day is big enough for the helper."""
    site = _demo_site(engine)
    monkeypatch.setattr(rollup_helper, "MIN_EVENTS", 10**9)
    rollups.rebuild_site(engine, site)
    with engine.connect() as conn:
        day = rollups.event_days(conn, site)[1]
    monkeypatch.setattr(rollup_helper, "MIN_EVENTS", 1)
    return site, _stored(engine, site), day


def _helper_calls(monkeypatch) -> list[object]:
    """Count the builds that handed their visits to the helper (and that it answered)."""
    calls: list[object] = []
    ask = rollup_helper.visits_elsewhere

    def counted(*args):
        pending = ask(*args)
        calls.append(pending)
        return pending

    monkeypatch.setattr(rollup_helper, "visits_elsewhere", counted)
    return calls


def test_sqlite_helper_build_stores_the_same_rows_as_one_process(sqlite_engine, monkeypatch):
    site = _demo_site(sqlite_engine)
    monkeypatch.setattr(rollup_helper, "MIN_EVENTS", 10**9)   # one process
    assert rebuild_dirty(sqlite_engine, HELPER_NOW) >= 3
    alone = _stored(sqlite_engine, site)
    assert all(alone.values())

    monkeypatch.setattr(rollup_helper, "MIN_EVENTS", 1)       # every day: the helper
    calls = _helper_calls(monkeypatch)
    assert rollups.rebuild_site(sqlite_engine, site) >= 3
    assert len(calls) >= 3 and all(c is not None for c in calls)
    assert _stored(sqlite_engine, site) == alone


def test_sqlite_build_survives_a_dead_helper(sqlite_engine, monkeypatch):
    site, alone, day = _built_in_one_process(sqlite_engine, monkeypatch)
    rollup_helper.start()
    helper = rollup_helper._helper
    assert helper is not None
    helper.process.kill()                               # the helper dies (OOM killer, ...)
    helper.process.wait()
    asked = _helper_calls(monkeypatch)
    assert rebuild_day(sqlite_engine, site, day)        # a new helper is started for it
    assert asked and asked[0] is not None
    assert rollup_helper._helper is not None and rollup_helper._helper is not helper
    assert _stored(sqlite_engine, site) == alone

    rollup_helper._helper.process.kill()                # dies while asked: the build
    assert rebuild_day(sqlite_engine, site, day)        # computes the visits itself
    assert _stored(sqlite_engine, site) == alone


def test_sqlite_build_computes_the_visits_itself_when_the_helper_fails(sqlite_engine,
                                                                       monkeypatch, caplog):
    site, alone, day = _built_in_one_process(sqlite_engine, monkeypatch)

    # The helper cannot read the database (its URL names a file that is not there):
    # it answers with an error and the build computes the visits itself.
    missing = sa.engine.make_url(f"sqlite:///{sqlite_engine.url.database}-missing/x.db")
    ask = rollup_helper.visits_elsewhere
    monkeypatch.setattr(rollup_helper, "visits_elsewhere",
                        lambda engine, *args: ask(sa.create_engine(missing), *args))
    assert rollups.rebuild_site(sqlite_engine, site) >= 3
    assert "the rollup helper failed" in caplog.text
    assert _stored(sqlite_engine, site) == alone


def test_sqlite_build_sums_the_visits_itself_when_the_helper_fails_after_them(
        sqlite_engine, monkeypatch):
    site, alone, day = _built_in_one_process(sqlite_engine, monkeypatch)
    answer = rollup_helper._Pending.next
    answers: list[str] = []

    def visits_then_failure(pending):
        value = answer(pending)           # read, so the helper is free afterwards
        answers.append("visits" if not answers else "sums (lost)")
        return value if len(answers) == 1 else None

    monkeypatch.setattr(rollup_helper._Pending, "next", visits_then_failure)
    assert rebuild_day(sqlite_engine, site, day)
    assert answers == ["visits", "sums (lost)"]
    assert _stored(sqlite_engine, site) == alone


def test_a_failed_sqlite_build_leaves_the_helper_free(sqlite_engine, monkeypatch):
    site, alone, day = _built_in_one_process(sqlite_engine, monkeypatch)
    groups = rollups._store_groups

    def fail(*args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(rollups, "_store_groups", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        rebuild_day(sqlite_engine, site, day)
    monkeypatch.setattr(rollups, "_store_groups", groups)
    asked = _helper_calls(monkeypatch)
    assert rebuild_day(sqlite_engine, site, day)   # the answer was dropped: not read now
    assert asked and asked[0] is not None
    assert _stored(sqlite_engine, site) == alone


def test_an_in_memory_database_never_uses_the_helper():
    from shared.storage import make_engine

    assert not rollup_helper.usable(make_engine("sqlite://"))
    assert not rollup_helper.usable(make_engine("sqlite:///file:x?mode=memory&uri=true",
                                                poolclass=sa.pool.StaticPool))
    assert rollup_helper.usable(make_engine("sqlite:////tmp/beacon-file.db"))


def _exited(pid: int) -> bool:
    """Gone, or a zombie waiting for whoever adopted it to reap it."""
    from pathlib import Path

    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def test_the_helper_ends_with_the_process_that_started_it():
    """A build's process killed outright (kill -9) leaves no helper behind: the helper
    sees its request pipe close and exits."""
    import subprocess
    import sys
    import time
    from pathlib import Path

    import shared

    starter = subprocess.Popen(
        [sys.executable, "-c",
         "from shared.rollups import helper as h; h.start();"
         "print(h._helper.process.pid, flush=True); import time; time.sleep(60)"],
        stdout=subprocess.PIPE, text=True, cwd=Path(shared.__file__).resolve().parents[1])
    assert starter.stdout is not None
    helper_pid = int(starter.stdout.readline())
    assert not _exited(helper_pid)
    starter.kill()
    starter.wait()
    deadline = time.monotonic() + 10
    while not _exited(helper_pid):
        if time.monotonic() > deadline:
            pytest.fail("the helper outlived the process that started it")
        time.sleep(0.05)
