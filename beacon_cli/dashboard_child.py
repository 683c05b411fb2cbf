"""The one Streamlit process of `beacon web`: started by the gunicorn master on a
loopback port, restarted if it dies, stopped after the beacon workers have drained.

There is exactly one, whatever the number of beacon workers: Streamlit keeps each
session (and its websocket) in its own memory, so every worker relays to this process.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

LOG = logging.getLogger("beacon.web")
DASHBOARD_SCRIPT = Path(__file__).resolve().parent.parent / "dashboard_app" / "app.py"
RESTART_DELAY_SECONDS = (1.0, 2.0, 5.0, 10.0)   # then every 10 s
STOP_TIMEOUT_SECONDS = 10.0
STABLE_SECONDS = 60.0


def free_loopback_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def streamlit_command(port: int, base_path: str) -> list[str]:
    """The dashboard as a server behind the relay: `beacon dashboard` (Streamlit behind
    its guard) on loopback only, answering under `base_path`."""
    return [sys.executable, "-m", "beacon_cli.main", "dashboard", "--host", "127.0.0.1",
            "--port", str(port), "--base-path", base_path]


class DashboardProcess:
    def __init__(self, port: int, base_path: str) -> None:
        self.port = port
        self.command = streamlit_command(port, base_path)
        self._proc: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start Streamlit and a thread that restarts it whenever it exits early."""
        self._spawn()
        threading.Thread(target=self._watch, daemon=True, name="dashboard-watch").start()

    def _spawn(self) -> None:
        with self._lock:
            if not self._stopping.is_set():
                # Its log (stderr, JSON lines) goes where ours goes (the platform's log).
                # Streamlit prints to stdout only its banner and a plain "Stopping...";
                # every process of ours logs JSON lines, so stdout goes nowhere.
                self._proc = subprocess.Popen(self.command, stdin=subprocess.DEVNULL,
                                              stdout=subprocess.DEVNULL)

    def _watch(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            proc = self._proc
            if proc is None:
                return
            started = time.monotonic()
            code = proc.wait()
            if time.monotonic() - started > STABLE_SECONDS:
                failures = 0            # it had been running well: restart quickly
            # A platform stopping the dyno signals every process at once: give our own
            # stop() the chance to say so before restarting anything.
            delay = RESTART_DELAY_SECONDS[min(failures, len(RESTART_DELAY_SECONDS) - 1)]
            if self._stopping.wait(delay):
                return
            failures += 1
            LOG.warning("the dashboard exited (code %s); restarting it", code)
            self._spawn()

    def stop(self) -> None:
        """Stop Streamlit (SIGTERM, then SIGKILL after a grace period); no restart."""
        self._stopping.set()
        with self._lock:
            proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(STOP_TIMEOUT_SECONDS)
