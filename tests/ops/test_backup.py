"""`beacon backup` / `beacon restore` on a live SQLite database, and the refusals."""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from beacon_cli.main import main
from shared.core import schema
from shared.demo.run import DemoSpec, run_demo
from shared.sites import add_site
from shared.storage import make_engine, migrate
from tests.beacon.helpers import CHROME_UA
from tests.beacon.server import BeaconServer

NOW = datetime(2026, 6, 15, 12, 0)


def _events(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("BEACON_DATA_DIR", str(folder))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    migrate(f"sqlite:///{folder / 'beacon.db'}")
    return folder


def test_backup_while_writing_then_restore(data_dir: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    engine = make_engine(f"sqlite:///{data_dir / 'beacon.db'}")
    run_demo(engine, DemoSpec("a.example", days=2, events=2000), now=NOW, rebuild=False)
    writing = threading.Thread(target=run_demo, args=(engine, DemoSpec(
        "b.example", days=30, events=60_000)), kwargs={"now": NOW, "rebuild": False})
    writing.start()                                    # a writer is busy during the backup
    out = data_dir / "backups" / "one.db"
    assert main(["backup", "--output", str(out)]) == 0
    writing.join(120)
    assert "backup written" in capsys.readouterr().out
    with sqlite3.connect(out) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    in_backup = _events(out)
    assert in_backup >= 2000
    assert _events(data_dir / "beacon.db") == 62_000
    assert main(["backup", "--output", str(out)]) == 2             # never overwrites
    assert "exists already" in capsys.readouterr().err
    # Restore into the live file while this process keeps an engine open on it.
    assert main(["restore", str(out)]) == 0
    assert _events(data_dir / "beacon.db") == in_backup
    with engine.connect() as conn:                                # the open pool sees it too
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.events)
                            ).scalar_one() == in_backup
    engine.dispose()


def test_restore_refuses_while_a_beacon_runs(data_dir: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    engine = make_engine(f"sqlite:///{data_dir / 'beacon.db'}")
    with engine.begin() as conn:
        add_site(conn, "example.com")
    engine.dispose()
    assert main(["backup", "--output", str(data_dir / "b.db")]) == 0
    server = BeaconServer({"BEACON_DATA_DIR": str(data_dir),
                           "BEACON_LOG_LEVEL": "WARNING"}).start()
    try:
        assert server.send_event("/after-backup", CHROME_UA)[0] == 202
        server.get("/metrics")                        # every worker has announced itself
        assert main(["restore", str(data_dir / "b.db")]) == 2
        err = capsys.readouterr().err
        assert "beacon process(es) are running" in err and "--force" in err
        assert len(err.strip().splitlines()) == 1
        assert main(["restore", "--force", str(data_dir / "b.db")]) == 0
    finally:
        server.stop()


@pytest.mark.parametrize(("content", "message"), [
    (b"hello", "not a SQLite database"),
    (None, "no file"),
], ids=["not-sqlite", "missing"])
def test_restore_refuses_what_is_not_a_backup(data_dir: Path, content: bytes | None,
                                              message: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    bad = data_dir / "bad.db"
    if content is not None:
        bad.write_bytes(content)
    assert main(["restore", str(bad)]) == 2
    assert message in capsys.readouterr().err


def test_restore_refuses_a_foreign_sqlite_file(data_dir: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    other = data_dir / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    assert main(["restore", str(other)]) == 2
    assert "not a Beacon database" in capsys.readouterr().err


@pytest.mark.postgres
def test_postgres_backup_points_to_pg_dump(pg_url: str, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", pg_url)
    assert main(["backup"]) == 2
    err = capsys.readouterr().err
    assert "pg_dump" in err and "Traceback" not in err
    assert main(["restore", "x.dump"]) == 2
    assert "pg_restore" in capsys.readouterr().err
