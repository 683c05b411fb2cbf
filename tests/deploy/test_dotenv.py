""".env.example says "Copy to .env": every entry point reads a `.env` in its working
directory, and a variable set in the environment wins over the file. A production .env
without a secret key stops each of them (fail closed) instead of being ignored."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from shared.core.settings import environment, load_settings
from tests.beacon.server import answers_200, free_port

ROOT = Path(__file__).resolve().parents[2]
# Variables a developer's shell or the test run may have set, which would hide the file's.
SECRET = "Xq3vT9pLm2ZrB8wKd5YhN1cFj7GsA4Ue-s3"  # noqa: S105 - a test key, random-looking

FILE_VARIABLES = ("BEACON_ENV", "BEACON_SECRET_KEY", "BEACON_DATA_DIR", "DATABASE_URL", "PORT",
                  "WEB_CONCURRENCY", "BEACON_LOG_LEVEL")


def _production_env(folder: Path, **extra: str) -> Path:
    lines = ["# as an operator writes it", "BEACON_ENV=production",
             f"BEACON_DATA_DIR={folder / 'data'}", *(f"{k}={v}" for k, v in extra.items())]
    (folder / ".env").write_text("\n".join(lines) + "\n")
    return folder


def _environ(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in FILE_VARIABLES}
    return {**env, **overrides}


def _run(args: list[str], cwd: Path, **overrides: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=_environ(**overrides), capture_output=True,
                          text=True, timeout=120)


def test_the_environment_wins_over_the_file(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    _production_env(tmp_path, BEACON_SECRET_KEY=SECRET, BEACON_BATCH_SIZE="77")
    for name in FILE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BEACON_BATCH_SIZE", "55")
    settings = load_settings()
    assert settings.is_production and settings.secret_key == SECRET
    assert settings.batch_size == 55
    assert environment()["BEACON_BATCH_SIZE"] == "55"


def test_the_cli_reads_a_production_env_file(tmp_path: Path) -> None:
    _production_env(tmp_path)
    migrate = [sys.executable, "-m", "beacon_cli.main", "migrate"]
    refused = _run(migrate, tmp_path)
    assert refused.returncode == 2 and "BEACON_SECRET_KEY" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not (tmp_path / "data").exists()
    # the environment wins: development set there overrides the file's production, and
    # the file's data folder is used
    assert _run(migrate, tmp_path, BEACON_ENV="development").returncode == 0
    assert (tmp_path / "data" / "beacon.db").is_file()


def test_gunicorn_reads_a_production_env_file(tmp_path: Path) -> None:
    _production_env(tmp_path)
    gunicorn = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
                "beacon_app.wsgi:app"]
    refused = _run(gunicorn, tmp_path)
    assert refused.returncode != 0 and "BEACON_SECRET_KEY" in refused.stderr
    assert "Traceback" not in refused.stderr
    # With the secret in the file it starts, on the file's PORT (gunicorn.conf.py reads
    # its settings through shared.core.settings, .env included).
    port = free_port()
    _production_env(tmp_path, BEACON_SECRET_KEY=SECRET, PORT=str(port),
                    WEB_CONCURRENCY="1")
    subprocess.run([sys.executable, "-m", "beacon_cli.main", "migrate"], cwd=tmp_path,
                   env=_environ(), check=True, capture_output=True, timeout=120)
    log = tmp_path / "gunicorn.log"
    proc = subprocess.Popen(gunicorn, cwd=tmp_path, env=_environ(), stderr=log.open("wb"),
                            start_new_session=True)
    try:
        assert answers_200(port, "/healthz"), log.read_text()
    finally:
        proc.terminate()
        proc.wait(60)


def test_the_dashboard_reads_a_production_env_file(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    _production_env(tmp_path)
    for name in FILE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    at = AppTest.from_file(str(ROOT / "dashboard_app" / "app.py"), default_timeout=60).run()
    assert [e.value for e in at.error] == ["The dashboard cannot start: its configuration is "
                                           "invalid."]
    assert "BEACON_SECRET_KEY" in at.code[0].value
