"""Files stay private: the attacks of a second local account (read the salt, plant a
symlink, pre-create a readable file) and of a careless `-o` get nowhere."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from beacon_cli.main import main
from shared.core import schema
from shared.storage.private_files import too_open
from tests.dataout.test_export import cli_db  # noqa: F401 - the fixture of the export tests

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def keep_umask() -> Iterator[None]:
    """main() makes the umask private for the whole process; put the test's back."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _export(tmp_path: Path, out: Path, *extra: str) -> int:
    return main(["export", "events", "--site", "demo.test", "--output", str(out), "--quiet",
                 *extra])


def test_export_refuses_an_existing_file_without_force(
        cli_db: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    out = tmp_path / "keep.csv"
    out.write_text("precious\n")
    assert _export(tmp_path, out) == 2
    assert "exists; use --force" in capsys.readouterr().err
    assert out.read_text() == "precious\n"
    assert _export(tmp_path, out, "--force") == 0
    assert "precious" not in out.read_text() and "pathname" in out.read_text()


def test_export_never_follows_a_symlink(cli_db: Engine, tmp_path: Path,  # noqa: F811
                                        capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "victim.txt"
    target.write_text("do not touch\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    for extra in ((), ("--force",)):
        assert _export(tmp_path, link, *extra) == 2
        assert "symbolic link" in capsys.readouterr().err
    assert target.read_text() == "do not touch\n"


def test_new_export_is_private_even_with_a_permissive_umask(cli_db: Engine,  # noqa: F811
                                                            tmp_path: Path) -> None:
    out = tmp_path / "new.csv"
    assert _export(tmp_path, out) == 0
    assert _mode(out) == 0o600


def _first_admin(data_dir: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("BEACON_DATA_DIR", str(data_dir))
    return main(["first-admin", "admin@example.com"])


def _users(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).select_from(schema.users)) or 0)


def test_first_admin_refuses_a_readable_password_file(
        db_url: str, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    data.mkdir()
    planted = data / "first-admin-password.txt"
    planted.write_text("")
    planted.chmod(0o644)   # another account opened it beforehand and waits
    assert _first_admin(data, db_url, monkeypatch) == 2
    assert "readable by other accounts" in capsys.readouterr().err
    assert planted.read_text() == "" and _users(engine) == 0
    planted.unlink()
    assert _first_admin(data, db_url, monkeypatch) == 0
    assert _mode(planted) == 0o600 and len(planted.read_text().strip()) >= 12
    assert _users(engine) == 1


def test_first_admin_refuses_a_symlink(db_url: str, engine: Engine, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    data.mkdir()
    readable = tmp_path / "public.txt"
    readable.write_text("")
    readable.chmod(0o644)
    (data / "first-admin-password.txt").symlink_to(readable)
    assert _first_admin(data, db_url, monkeypatch) == 2
    assert "symbolic link" in capsys.readouterr().err
    assert readable.read_text() == "" and _users(engine) == 0


def _beacon(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A real `beacon` process started with the usual permissive umask 022."""
    return subprocess.run([sys.executable, "-m", "beacon_cli.main", *args], cwd=ROOT,
                          env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=120, preexec_fn=lambda: os.umask(0o022), check=False)


def test_entry_points_create_private_files_and_warn_about_open_ones(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {"BEACON_DATA_DIR": str(data), "DATABASE_URL": ""}
    assert _beacon(["migrate"], env).returncode == 0
    assert _beacon(["backup"], env).returncode == 0
    created = [data, *data.rglob("*")]
    assert any(p.name == "beacon.db" for p in created)
    assert any(p.suffix == ".db" and "backups" in str(p) for p in created)
    assert too_open([data]) == []
    assert all(_mode(p) in (0o600, 0o700) for p in created)
    # A file left readable by an older version is named at the worker's start.
    (data / "beacon.db").chmod(0o644)
    done = _beacon(["worker", "--once"], env)
    assert done.returncode == 0
    assert "files readable by other accounts" in done.stderr
    assert str(data / "beacon.db") in done.stderr
