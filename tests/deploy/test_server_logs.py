""""Every process logs JSON lines": the servers' own lines too - gunicorn's (the `beacon`
process and `beacon web`'s master), Streamlit's (`beacon web`'s dashboard child, the
`dashboard` process), the worker's - run for real, from start to a SIGTERM, with a request
each server refuses itself in between (`beacon web`'s refusal carries the security headers
too; the `beacon` process's: tests/security/test_protocol_errors.py)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from shared.storage import migrate
from tests.beacon.server import ROOT, BeaconServer, answers_200, free_port
from tests.documented import carries, security_headers

KEYS = {"ts", "level", "logger", "msg"}


def _json_lines(text: str, some: bool = True) -> list[dict[str, str]]:
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines or not some
    parsed = []
    for line in lines:
        entry = json.loads(line)        # fails on any plain-text line
        assert set(entry) >= KEYS, line
        parsed.append(entry)
    return parsed


def _refused_request(port: int) -> bytes:
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GARBAGE\r\n\r\n")
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_gunicorn_logs_json_lines(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    migrate(url)
    server = BeaconServer({"BEACON_DATA_DIR": str(tmp_path / "d"), "DATABASE_URL": url},
                          workers=1).start()
    try:
        _refused_request(server.port)
        assert server.terminate() == 0
    finally:
        server.stop()
    entries = _json_lines(server.log.read_text())
    messages = [e["msg"] for e in entries if e["logger"].startswith("gunicorn")]
    assert any(m.startswith("Booting worker") for m in messages)
    assert any(m.startswith("Shutting down") for m in messages)
    assert any("could not parse" in e["msg"] for e in entries)


def test_beacon_web_logs_json_lines(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    migrate(url)
    port, log = free_port(), tmp_path / "web.log"
    env = {**os.environ, "BEACON_DATA_DIR": str(tmp_path / "d"), "DATABASE_URL": url}
    proc = subprocess.Popen([sys.executable, "-m", "beacon_cli.main", "web", "--host",
                             "127.0.0.1", "--port", str(port)], env=env, cwd=tmp_path,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        assert answers_200(port, "/healthz", timeout=90), log.read_text()
        assert answers_200(port, "/dashboard/")
        refused = _refused_request(port)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    entries = _json_lines(log.read_text())
    assert any(e["logger"].startswith("gunicorn") for e in entries)
    # The one-port server's own refusal carries the headers SECURITY.md promises
    head, _, body = refused.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    assert status_line.split()[1] == "400" and json.loads(body)["errors"]
    everywhere, not_on_scripts = security_headers()
    for name, value in {**everywhere, **not_on_scripts}.items():
        assert carries(headers, name, value), (name, headers)


def test_the_worker_logs_json_lines(tmp_path: Path) -> None:
    """A failing round (here: a database without tables, which the driver reports like an
    outage) is logged by the worker as a JSON line, like every other line it writes."""
    (tmp_path / "empty.db").touch()
    env = {**os.environ, "BEACON_DATA_DIR": str(tmp_path / "d"),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}
    run = subprocess.run([sys.executable, "-m", "beacon_cli.main", "worker", "--once"],
                         env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    entries = _json_lines(run.stderr)
    assert any(e["logger"] == "shared.jobs.worker" and e["level"] == "warning"
               for e in entries)
    # One round that failed says so in its exit status (a cron line can alert on it).
    assert run.returncode == 1
    assert any(e["level"] == "error" and "job(s) failed: rollups" in e["msg"] for e in entries)


def test_the_dashboard_process_logs_json_lines(tmp_path: Path) -> None:
    """The Procfile's `dashboard` process: no plain-text banner (whose "External URL" a
    headless Streamlit looks up at a third party), and JSON lines on stderr."""
    url = f"sqlite:///{tmp_path / 'b.db'}"
    migrate(url)
    port = free_port()
    line = next(entry for entry in (ROOT / "Procfile").read_text().splitlines()
                if entry.startswith("dashboard:"))
    command = line.split(":", 1)[1].replace("$PORT", str(port)).split()
    out, err = tmp_path / "out.log", tmp_path / "err.log"
    env = {**os.environ, "BEACON_DATA_DIR": str(tmp_path / "d"), "DATABASE_URL": url}
    assert command[0] == "beacon"     # the installed script: run it with this Python
    proc = subprocess.Popen([sys.executable, "-m", "beacon_cli.main", *command[1:]],
                            env=env, cwd=ROOT,
                            stdout=out.open("wb"), stderr=err.open("wb"),
                            start_new_session=True)
    try:
        assert answers_200(port, "/_stcore/health", timeout=90), err.read_text()
        assert answers_200(port, "/")
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    assert "URL" not in out.read_text()
    _json_lines(err.read_text(), some=False)
