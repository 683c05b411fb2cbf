"""Database outage drills under load, against the production server (gunicorn) and a
private PostgreSQL server that is really stopped (the process, not a proxy cut).

Every drill checks the exact bookkeeping: each event answered 202 without a drop header
is stored once, nothing else is stored (except events whose answer the client never got,
when the beacon was killed), and no answer is a 5xx. What they cost in CI: about 4 min
(PostgreSQL stopped 60, 5, 30 and 120 s), 1.5 min (SQLite locked 60 s), 1 min (restart,
midnight, new site) and 11-12 min (the 10-minute outage at the soak rate,
BEACON_DRILL_OUTAGE_SECONDS shortens it for a local run).
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from beacon_app import create_app, state_of
from beacon_app.enrichment.visitor import visitor_id
from shared.core import schema
from shared.core.settings import load_settings
from shared.sites import add_site
from shared.storage import make_engine, migrate
from tests.beacon.helpers import CHROME_UA, IPHONE_UA
from tests.beacon.server import (
    ROOT,
    BeaconServer,
    EventLoad,
    PrivatePostgres,
    free_port,
    stored_paths,
)
from tests.conftest import FakeClock

pytestmark = pytest.mark.slow

SOAK_RATE = float(os.environ.get("BEACON_DRILL_SOAK_RATE", "250"))   # events/s, see docs
LONG_OUTAGE = float(os.environ.get("BEACON_DRILL_OUTAGE_SECONDS", "600"))


@pytest.fixture(scope="module")
def postgres() -> Iterator[PrivatePostgres]:
    try:
        server = PrivatePostgres()
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"cannot start a private PostgreSQL server: {exc}")
        pytest.skip(f"cannot start a private PostgreSQL server: {exc}")
    server.start()
    yield server
    server.remove()


@pytest.fixture
def pg_db(postgres: PrivatePostgres, request: pytest.FixtureRequest) -> str:
    """A fresh, migrated database on the private server with the site example.com."""
    postgres.start() if not _is_up(postgres) else None
    url = postgres.create_database(re.sub(r"\W", "_", request.node.name)[:50].lower())
    migrate(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        add_site(conn, "example.com")
    engine.dispose()
    return url


def _is_up(postgres: PrivatePostgres) -> bool:
    try:
        engine = sa.create_engine(postgres.url(), connect_args={"connect_timeout": 2})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except sa.exc.OperationalError:
        return False


def _env(url: str, data: Path) -> dict[str, str]:
    return {"DATABASE_URL": url, "BEACON_DATA_DIR": str(data), "BEACON_LOG_LEVEL": "WARNING",
            "BEACON_FLUSH_INTERVAL_MS": "100"}


def _wait_for(condition: object, timeout: float) -> float:
    """Seconds until `condition()` held (raises at the timeout)."""
    started = time.monotonic()
    while not condition():   # type: ignore[operator]
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not reached in {timeout:.0f} s")
        time.sleep(0.2)
    return time.monotonic() - started


def _assert_exact(url: str, load: EventLoad, *, stored: list[str] | None = None) -> None:
    """Every acknowledged event stored once; nothing stored that was not acknowledged
    (or left without an answer); no 5xx."""
    paths = stored if stored is not None else stored_paths(url)
    assert len(paths) == len(set(paths)), "an event was stored twice"
    missing = load.acked - set(paths)
    assert not missing, f"{len(missing)} acknowledged events lost, e.g. {sorted(missing)[:3]}"
    extra = set(paths) - load.acked - load.unanswered
    assert not extra, f"{len(extra)} events stored that were answered as dropped"
    assert not load.server_errors, load.statuses


def _wait_stored(url: str, load: EventLoad, timeout: float) -> float:
    """Seconds until every event acknowledged so far is stored (the replay's length)."""
    acked = load.acked_now()
    return _wait_for(lambda: acked <= set(stored_paths(url)), timeout)


def _serve(env: dict[str, str], servers: list[BeaconServer]) -> BeaconServer:
    server = BeaconServer(env).start()
    servers.append(server)
    return server


def _logged_outages(server: BeaconServer) -> int:
    return server.log.read_text().count("sites: database unavailable")


@pytest.mark.postgres
def test_postgres_stopped_for_60_5_30_and_120_seconds(
        postgres: PrivatePostgres, pg_db: str, tmp_path: Path,
        servers: list[BeaconServer]) -> None:
    server = _serve(_env(pg_db, tmp_path / "data"), servers)
    load = EventLoad(server.port, per_second=SOAK_RATE)
    load.run_until(lambda: len(load.acked) >= 200)
    report = []
    for seconds in (60, 5, 30, 120):
        postgres.stop()
        before = len(load.acked)
        time.sleep(seconds)
        during = len(load.acked) - before
        health = server.get("/healthz")
        assert health[0] == 200 and b'"degraded"' in health[1]
        postgres.start()
        replay = _wait_stored(pg_db, load, timeout=max(60, seconds))
        report.append(f"{seconds} s: {during} acked during it, replayed in {replay:.1f} s")
        assert during > seconds * SOAK_RATE * 0.5, "the beacon stopped answering"
    load.stop()
    _wait_stored(pg_db, load, timeout=60)
    print(f"\npostgres stopped: {'; '.join(report)}; {len(load.acked)} acked, "
          f"{len(stored_paths(pg_db))} stored, statuses {dict(load.statuses)}")
    _assert_exact(pg_db, load)
    assert not load.drops, load.drops
    log = server.log.read_text()
    assert "Traceback" not in log and "unexpected error" not in log
    # Once at the start and once at the end of each outage per process, not per request.
    assert _logged_outages(server) <= 4 * 2


def test_sqlite_write_lock_held_60_seconds_by_another_process(
        sqlite_env: dict[str, str], servers: list[BeaconServer]) -> None:
    data, url = Path(sqlite_env["BEACON_DATA_DIR"]), sqlite_env["DATABASE_URL"]
    server = _serve({**sqlite_env, "BEACON_LOG_LEVEL": "WARNING"}, servers)
    load = EventLoad(server.port, per_second=SOAK_RATE)
    load.run_until(lambda: len(load.acked) >= 200)
    locker = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys, time\n"
         f"c = sqlite3.connect({str(data / 'beacon.db')!r}, isolation_level=None)\n"
         "c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep(60)\n"
         "c.execute('ROLLBACK')"], stdout=subprocess.PIPE, text=True)
    assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"
    before = len(load.acked)
    locker.wait(90)
    during = len(load.acked) - before
    replay = _wait_stored(url, load, timeout=60)
    load.stop()
    _wait_stored(url, load, timeout=60)
    print(f"\nsqlite locked 60 s: {during} acked during it, replayed in {replay:.1f} s, "
          f"{len(load.acked)} acked in all, statuses {dict(load.statuses)}")
    assert during > 60 * SOAK_RATE * 0.5
    _assert_exact(url, load)
    assert "Traceback" not in server.log.read_text()


@pytest.mark.postgres
def test_beacon_killed_and_restarted_while_postgres_is_down(
        postgres: PrivatePostgres, pg_db: str, tmp_path: Path,
        servers: list[BeaconServer]) -> None:
    env = _env(pg_db, tmp_path / "data")
    first = _serve(env, servers)
    load = EventLoad(first.port, per_second=SOAK_RATE)
    load.run_until(lambda: len(load.acked) >= 200)
    postgres.stop()
    time.sleep(5)
    first.kill9()                                   # spool and all, mid-outage
    second = BeaconServer(env, port=first.port).start()   # must start without a database
    servers.append(second)
    after_restart = len(load.acked)
    time.sleep(10)
    assert len(load.acked) > after_restart + 5 * SOAK_RATE, "the restarted beacon answers"
    assert not load.drops, load.drops                # it knew example.com from its copy
    postgres.start()
    load.stop()
    replay = _wait_stored(pg_db, load, timeout=60)
    print(f"\nkill -9 during the outage: {len(load.acked)} acked, "
          f"{len(load.unanswered)} unanswered, replayed in {replay:.1f} s")
    _assert_exact(pg_db, load)
    engine = make_engine(pg_db)
    with engine.connect() as conn:
        ids = conn.execute(sa.select(sa.func.count(sa.distinct(schema.events.c.visitor_id))))
        assert ids.scalar() == 1, "the restarted beacon hashed with another salt"
    engine.dispose()


@pytest.mark.postgres
def test_site_added_with_the_cli_just_before_an_outage_is_counted_during_it(
        postgres: PrivatePostgres, pg_db: str, tmp_path: Path,
        servers: list[BeaconServer]) -> None:
    server = _serve(_env(pg_db, tmp_path / "data"), servers)
    added = subprocess.run([sys.executable, "-m", "beacon_cli.main", "sites", "add",
                            "new.example"], cwd=ROOT, env=server.env, capture_output=True,
                           text=True, check=False)
    assert added.returncode == 0, added.stderr
    _wait_for(lambda: "X-Beacon-Drop" not in server.request(
        "POST", "/api/event", b'{"n":"pageview","u":"https://new.example/probe",'
        b'"d":"new.example"}', {"User-Agent": EventLoad(0).user_agent})[1], timeout=30)
    time.sleep(6)     # one process has seen it; every process refreshes every 5 s
    postgres.stop()
    new = EventLoad(server.port, per_second=SOAK_RATE / 2, domain="new.example")
    unknown = EventLoad(server.port, per_second=SOAK_RATE / 4, domain="unknown.example")
    new.start()
    unknown.start()
    time.sleep(15)
    new.stop()
    unknown.stop()
    postgres.start()
    _wait_stored(pg_db, new, timeout=60)
    stored = [p for p in stored_paths(pg_db) if p.startswith("/new.example/")]
    print(f"\nsite added before the outage: {len(new.acked)} acked, {len(stored)} stored, "
          f"{dict(new.statuses)} {dict(new.drops)}; "
          f"unknown site: {dict(unknown.drops)}")
    assert not new.drops, "a process had not seen the new site"
    assert len(new.acked) > 15 * SOAK_RATE / 4
    _assert_exact(pg_db, new, stored=stored)
    assert set(unknown.drops) == {"unknown_site"} and not unknown.acked
    assert not [p for p in stored_paths(pg_db) if p.startswith("/unknown.example/")]


class _InProcessServer:
    """The beacon app with a fake clock behind a real HTTP server (werkzeug, threaded)."""

    def __init__(self, app: object) -> None:
        self.port = free_port()
        self._server = make_server("127.0.0.1", self.port, app, threaded=True)  # type: ignore[arg-type]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()


@pytest.mark.postgres
def test_midnight_in_utc_and_in_a_site_zone_passes_while_the_database_is_down(
        postgres: PrivatePostgres, pg_db: str, tmp_path: Path) -> None:
    engine = make_engine(pg_db)
    with engine.begin() as conn:
        tokyo = add_site(conn, "tokyo.example", timezone="Asia/Tokyo")
    clock = FakeClock(datetime(2026, 3, 10, 14, 59, 50))      # Tokyo: 23:59:50
    settings = load_settings({}, data_dir=str(tmp_path / "data"), database_url=pg_db,
                             flush_interval_ms=100, log_level="WARNING")
    app = create_app(settings, clock=clock.now)
    state = state_of(app)
    http = _InProcessServer(app)
    try:
        utc = EventLoad(http.port, threads=2, per_second=50, prefix="/utc")
        local = EventLoad(http.port, threads=2, per_second=50, domain="tokyo.example")
        utc.start()
        local.start()
        _wait_for(lambda: len(utc.acked) > 20 and len(local.acked) > 20, timeout=30)
        postgres.stop()
        # 15:00:10 (Tokyo's midnight passed), 23:59:50, 00:00:10 (UTC's midnight passed)
        for step in (20, 32_380, 20):
            time.sleep(3)
            clock.advance(seconds=step)
        new = EventLoad(http.port, threads=1, per_second=20, user_agent=IPHONE_UA,
                        prefix="/new")     # a visitor first seen after midnight
        new.start()
        time.sleep(3)
        for load in (utc, local, new):
            load.stop()
        postgres.start()
        assert state.writer.flush(60)
    finally:
        http.close()
        state.close()
    _assert_exact(pg_db, utc, stored=[p for p in stored_paths(pg_db)
                                      if p.startswith("/utc/")])
    _assert_exact(pg_db, new, stored=[p for p in stored_paths(pg_db) if p.startswith("/new/")])
    _assert_exact(pg_db, local, stored=[p for p in stored_paths(pg_db)
                                        if p.startswith("/tokyo.example/")])
    assert not utc.drops and not local.drops
    with engine.connect() as conn:
        salts = {day: bytes(salt) for day, salt in conn.execute(
            sa.select(schema.salts.c.day, schema.salts.c.salt))}
        rows = [(ts, site_id, vid, IPHONE_UA if path.startswith("/new/") else CHROME_UA)
                for ts, site_id, vid, path in conn.execute(sa.select(
                    schema.events.c.ts, schema.events.c.site_id, schema.events.c.visitor_id,
                    schema.events.c.pathname))]
        dirty = set(conn.execute(sa.select(schema.dirty_days.c.site_id,
                                           schema.dirty_days.c.day)).all())
    engine.dispose()
    days = {ts.date() for ts, *_ in rows}
    assert len(days) == 2, "events on both sides of UTC midnight"
    for ts, site_id, vid, ua in rows:     # each hashed with its own day's salt...
        own = visitor_id(salts[ts.date()], site_id, "127.0.0.1", ua)
        yesterday = salts.get(ts.date() - timedelta(days=1))
        continued = visitor_id(yesterday, site_id, "127.0.0.1", ua) if yesterday else own
        assert vid in (own, continued)    # ...or a visit going on at midnight keeps its id
    first_seen_after_midnight = [(ts, vid) for ts, _, vid, ua in rows if ua == IPHONE_UA]
    assert first_seen_after_midnight
    for ts, vid in first_seen_after_midnight:   # today's salt, made before the outage
        assert ts.date() == datetime(2026, 3, 11).date()
        assert vid == visitor_id(salts[ts.date()], 1, "127.0.0.1", IPHONE_UA)
    local_days = {day for site_id, day in dirty if site_id == tokyo.id}
    assert {datetime(2026, 3, 10).date(), datetime(2026, 3, 11).date()} <= local_days
    assert "events_provisional_salt" not in state.metrics.combined().counters


@pytest.mark.postgres
def test_ten_minute_outage_at_the_soak_rate_spool_bounded_replay_shorter(
        postgres: PrivatePostgres, pg_db: str, tmp_path: Path,
        servers: list[BeaconServer]) -> None:
    data = tmp_path / "data"
    server = _serve(_env(pg_db, data), servers)
    load = EventLoad(server.port, per_second=SOAK_RATE)
    load.run_until(lambda: len(load.acked) >= 200)
    postgres.stop()
    started, peak, before = time.monotonic(), 0, len(load.acked)
    while time.monotonic() - started < LONG_OUTAGE:
        time.sleep(5)
        peak = max(peak, _spool_bytes(data / "spool"))
    during = len(load.acked) - before
    load.stop()
    postgres.start()
    replay = _wait_stored(pg_db, load, timeout=LONG_OUTAGE)
    per_event = peak / max(during, 1)
    print(f"\n{LONG_OUTAGE:.0f} s outage at {SOAK_RATE:.0f}/s: {during} acked during it, "
          f"spool peak {peak} bytes ({per_event:.0f} B/event), replay {replay:.1f} s, "
          f"{len(load.acked)} acked, {len(stored_paths(pg_db))} stored")
    assert during > LONG_OUTAGE * SOAK_RATE * 0.5
    assert per_event < 1024, "spool use grows faster than the events it holds"
    assert replay <= LONG_OUTAGE
    _assert_exact(pg_db, load)
    _wait_for(lambda: _spool_bytes(data / "spool") < 4 * 1024 * 1024 * 4, timeout=60)


def _spool_bytes(folder: Path) -> int:
    """Disk blocks the spool segments take (st_blocks: reserved space counts)."""
    total = 0
    for path in folder.glob("*.seg"):
        with contextlib.suppress(FileNotFoundError):   # replayed and deleted meanwhile
            total += path.stat().st_blocks * 512
    return total
