"""The durability promise, proven against the real production server (gunicorn):
an event answered 2xx survives kill -9; SIGTERM flushes everything; while the database
is unreachable or locked the beacon keeps answering, and writes every acknowledged
event exactly once when it returns."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from shared.core import schema
from shared.sites import add_site
from shared.storage import make_engine
from tests.beacon.helpers import CHROME_UA
from tests.beacon.server import BeaconServer, EventLoad, TcpProxy, stored_paths, wait_stored

pytestmark = pytest.mark.slow


@pytest.fixture
def server_env(db_url: str, tmp_path: Path) -> dict[str, str]:
    engine = make_engine(db_url)
    with engine.begin() as conn:
        add_site(conn, "example.com")
    engine.dispose()
    return {"DATABASE_URL": db_url, "BEACON_DATA_DIR": str(tmp_path / "data"),
            "BEACON_FLUSH_INTERVAL_MS": "200", "BEACON_LOG_LEVEL": "WARNING"}


def test_kill_9_loses_no_acknowledged_event(db_url: str, server_env: dict[str, str],
                                            servers: list[BeaconServer]) -> None:
    first = BeaconServer(server_env).start()
    servers.append(first)
    load = EventLoad(first.port)
    load.run_until(lambda: len(load.acked) >= 1500)
    first.kill9()                       # mid-load: writers and spools die with it
    load.stop()
    acked = set(load.acked)
    assert len(acked) >= 1500 and not load.server_errors
    servers.append(BeaconServer(server_env).start())   # adopts and replays the spool
    paths = wait_stored(db_url, acked)
    missing = acked - set(paths)
    assert not missing, f"{len(missing)} acknowledged events lost, e.g. {sorted(missing)[:3]}"
    assert len(paths) == len(set(paths)), "replay wrote duplicates"


def test_sigterm_flushes_everything(db_url: str, server_env: dict[str, str],
                                    servers: list[BeaconServer]) -> None:
    server = BeaconServer({**server_env, "BEACON_FLUSH_INTERVAL_MS": "5000"}).start()
    servers.append(server)
    load = EventLoad(server.port)
    load.run_until(lambda: len(load.acked) >= 1000)
    load.stop()
    assert server.terminate() == 0
    paths = stored_paths(db_url)     # no restart: the shutdown itself wrote them
    assert load.acked <= set(paths) and len(paths) == len(set(paths))
    spool = Path(server_env["BEACON_DATA_DIR"]) / "spool"
    assert not list(spool.glob("*.seg")), "spool segments left after a clean shutdown"


@pytest.mark.postgres
def test_postgres_outage_is_ridden_out_without_loss_or_duplicates(
        pg_url: str, tmp_path: Path, servers: list[BeaconServer]) -> None:
    engine = make_engine(pg_url)
    with engine.begin() as conn:
        for table in reversed(schema.metadata.sorted_tables):
            conn.execute(table.delete())
        add_site(conn, "example.com")
    engine.dispose()
    proxy = TcpProxy(5432)
    proxy.restore()
    url = pg_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    server = BeaconServer({"DATABASE_URL": url, "BEACON_DATA_DIR": str(tmp_path / "data"),
                           "BEACON_FLUSH_INTERVAL_MS": "100",
                           "BEACON_LOG_LEVEL": "ERROR"}).start()
    servers.append(server)
    load = EventLoad(server.port)
    load.run_until(lambda: len(load.acked) >= 300)
    proxy.cut()                                   # the database goes away under load
    during = len(load.acked)
    time.sleep(5)
    assert len(load.acked) > during + 200, "the beacon stopped answering during the outage"
    assert b"degraded" in server.get("/healthz")[1]
    proxy.restore()
    load.stop()
    paths = wait_stored(pg_url, load.acked)
    assert load.acked <= set(paths)
    assert len(paths) == len(set(paths))
    assert not load.server_errors


def test_locked_sqlite_database_delays_writes_but_not_answers(
        sqlite_url: str, tmp_path: Path, servers: list[BeaconServer]) -> None:
    engine = make_engine(sqlite_url)
    with engine.begin() as conn:
        for table in reversed(schema.metadata.sorted_tables):
            conn.execute(table.delete())
        add_site(conn, "example.com")
    server = BeaconServer({"DATABASE_URL": sqlite_url, "BEACON_DATA_DIR": str(tmp_path / "d"),
                           "BEACON_FLUSH_INTERVAL_MS": "100"}).start()
    servers.append(server)
    locker = engine.raw_connection()
    locker.execute("BEGIN EXCLUSIVE")             # another process holds the write lock
    answered = [server.send_event(f"/locked{i}", CHROME_UA)[0] for i in range(200)]
    time.sleep(1)
    assert _count(engine) == 0
    locker.rollback()
    locker.close()
    assert answered == [202] * 200
    paths = wait_stored(sqlite_url, {f"/locked{i}" for i in range(200)})
    assert len(paths) == 200
    engine.dispose()


def _count(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(schema.events)).scalar())
