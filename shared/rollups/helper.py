"""A second process for the SQLite rollup build of a big day.

A day's build reads the day's events twice - once into visits, once into (visit, value)
groups - and neither pass needs the other. PostgreSQL runs them side by side in two
connections; SQLite cannot do that in one process here (two queries in two threads of
one process took 1.9 s for what one thread did in 1.1 s; two processes ran side by
side). So on SQLite the build asks a helper process for the day's visits (and their
daily sums, which need nothing else) and writes the groups meanwhile, then inserts
what it was handed.

Why the helper reads the same events as the build: the build holds SQLite's write lock
(BEGIN IMMEDIATE) before it asks, so no connection can commit until the build does;
the helper's read transaction then sees exactly the committed events the build's own
transaction sees (the build changes only rollup tables, never events).

The helper is a Python process running this module's `main`, started on the first big day
and kept; it reads requests from its stdin and answers on its stdout, both pickled
(a private pipe between two processes of this package). A plain child process, not
`multiprocessing`: that would import the caller's main script again in the child.

Small days build in one process (the hand-off costs more than it saves), so does an
in-memory database (another process cannot see it), and so does a build that finds
the helper busy with another thread's day. If the helper fails for any reason, the
build computes the visits itself: the helper only ever saves time.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import pickle
import struct
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from shared.rollups.day_visits import day_visit_rows, day_visit_sums
from shared.storage import dialect_for, make_engine

log = logging.getLogger(__name__)

# Below this many events a day builds in one process: that build takes a fraction of a
# second anyway, and a small site never starts the extra process. Measured on a day of
# 127k events: handing its 30k visits over (pickle, pipe) costs ~0.2 s, the pass it
# takes off the build's path ~0.8 s.
MIN_EVENTS = 20_000

_HEADER = struct.Struct("!Q")


def usable(engine: Engine) -> bool:
    """Is a helper worth it and can it read this database? A one-writer database (the
    others build in several connections) in a file (not memory)."""
    url = engine.url
    dialect = dialect_for(engine)
    database = dialect.database_file(url)
    return (not dialect.concurrent_writers and database not in (None, "", ":memory:")
            and "memory" not in str(url.query.get("mode", "")))


def _send(stream: IO[bytes], message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError("the rollup helper closed its pipe")
    (size,) = _HEADER.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("the rollup helper closed its pipe mid-answer")
    return pickle.loads(data)  # noqa: S301 - our own child process, over a private pipe


class _Helper:
    """The child process and its pipes; one request at a time."""

    def __init__(self) -> None:
        package_root = str(Path(__file__).resolve().parents[2])
        path = os.environ.get("PYTHONPATH", "")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (package_root, path) if p)}
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from shared.rollups.helper import main; main()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        self.busy = threading.Lock()

    def alive(self) -> bool:
        return self.process.poll() is None

    def ask(self, message: Any) -> None:
        assert self.process.stdin is not None
        _send(self.process.stdin, message)

    def receive(self) -> Any:
        assert self.process.stdout is not None
        return _receive(self.process.stdout)

    def stop(self) -> None:
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


_helper: _Helper | None = None
_helper_lock = threading.Lock()


def _running() -> _Helper:
    global _helper
    with _helper_lock:
        if _helper is None or not _helper.alive():
            _helper = _Helper()
        return _helper


def _discard(helper: _Helper) -> None:
    """A helper that broke its pipe or died: stop it; the next big build starts another."""
    global _helper
    log.warning("the rollup helper is gone; building in this process", exc_info=True)
    with _helper_lock:
        if _helper is helper:
            _helper = None
    helper.process.kill()
    helper.stop()


@atexit.register
def stop() -> None:
    """Stop the helper (at exit; a later big build starts a new one)."""
    global _helper
    with _helper_lock:
        helper, _helper = _helper, None
    if helper is not None:
        helper.stop()


def start() -> None:
    """Start the helper now and wait until it is ready, so that the next big build does
    not wait for a new Python process (the benchmark and tests call this)."""
    pending = _Pending.ask(("ready",), answers=1)
    if pending is None or pending.next() is None:
        raise RuntimeError("the rollup helper did not start")


class _Pending:
    """A request in flight and the answers still to read; one request at a time per
    helper, held from the ask to the last answer (or `close`)."""

    def __init__(self, helper: _Helper, answers: int) -> None:
        self.helper, self.left = helper, answers

    @classmethod
    def ask(cls, message: Any, answers: int) -> _Pending | None:
        try:
            helper = _running()
        except OSError:
            log.warning("cannot start the rollup helper", exc_info=True)
            return None
        if not helper.busy.acquire(blocking=False):
            return None      # another thread's build has it: build in this process
        try:
            helper.ask(message)
        except Exception:
            helper.busy.release()
            _discard(helper)
            return None
        return cls(helper, answers)

    def next(self) -> Any:
        """The next answer, or None if the helper failed (then no more answers come)."""
        if not self.left:
            raise RuntimeError("every answer was already read")
        try:
            status, value = self.helper.receive()
            if status == "ok":
                self.left -= 1
                return value
            log.warning("the rollup helper failed: %s; building in this process", value)
            self.left = 0
            return None
        except Exception:
            self.left = 0
            _discard(self.helper)
            return None
        finally:
            if not self.left:
                self.helper.busy.release()

    def close(self) -> None:
        """Read and drop the answers nobody will use (a build that failed, or did the
        work itself), so that the helper is free for the next request."""
        while self.left:
            self.next()


def visits_elsewhere(engine: Engine, site_id: int, day: date, timezone: str) -> _Pending | None:
    """Ask the helper for the day's visits: two answers, the driver rows of
    `day_visits.day_visit_rows`, then the daily rows summed from them. None when it
    cannot be asked. Call it while holding the write lock."""
    url = engine.url.render_as_string(hide_password=False)
    return _Pending.ask(("visits", url, site_id, day, timezone), answers=2)


# --- in the helper process -----------------------------------------------------------
_engines: dict[str, Engine] = {}       # one engine per database


def _day_visits(answer: Any, url: str, site_id: int, day: date, timezone: str) -> None:
    engine = _engines.get(url)
    if engine is None:
        engine = _engines[url] = make_engine(url)
    with engine.connect() as conn:
        # The build's memory sorts (see storage.write_transaction); this process does
        # nothing else, so they stay set on its connection.
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None
        dbapi.execute("PRAGMA temp_store=MEMORY")
        dbapi.execute("PRAGMA cache_size=-65536")
        with conn.begin():
            rows = day_visit_rows(conn, site_id, day, ZoneInfo(timezone))
    answer(rows)     # the build inserts these while the sums are computed here
    answer(day_visit_sums(rows, site_id, day))


def _serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    # Imported before the first request (numpy and pandas for the sums: ~0.4 s).
    import numpy  # noqa: F401
    import pandas  # noqa: F401

    def answer(value: Any) -> None:
        _send(answers, ("ok", value))

    while True:
        try:
            message = _receive(requests)
        except EOFError:
            return
        try:
            if message[0] == "ready":
                answer(True)
            else:
                _day_visits(answer, *message[1:])
        except Exception as exc:   # reported to the build, which then computes it itself
            _send(answers, ("error", f"{type(exc).__name__}: {exc}"))


def main() -> None:
    """The helper process's entry point."""
    # Answers go on a private copy of stdout; anything printed goes to stderr instead.
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    # A closed pipe: the build's process is gone (killed outright), so is its helper.
    with contextlib.suppress(BrokenPipeError):
        _serve(sys.stdin.buffer, answers)
