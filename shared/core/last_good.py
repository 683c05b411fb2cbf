"""Copies of database data that a process must keep serving while the database is away.

`LastGood` holds one value loaded from the database (the beacon's site list, its salts):
readers get the copy in memory and never wait for the database. A background thread
refreshes it every `interval` seconds; a refresh that fails keeps the last good copy and
is retried with backoff. `OutageLog` says so once when the outage starts and once when it
ends, not once per attempt. With a file, the copy is also written to disk after each
change and read at start-up, so a process started during an outage serves what the
previous one knew.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

T = TypeVar("T")
log = logging.getLogger(__name__)

MAX_BACKOFF = 30.0
IDLE_STOP = 120.0     # seconds without a reader after which the refresh loop ends


def is_outage(exc: BaseException) -> bool:
    """True for a database that cannot be reached or is locked (worth retrying), False
    for a bug such as bad SQL."""
    if isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError | OSError):
        return True
    return isinstance(exc, sa.exc.DBAPIError) and bool(exc.connection_invalidated)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


class OutageLog:
    """Logs an outage of `what` once when it starts and once when it ends."""

    def __init__(self, what: str, logger: logging.Logger = log) -> None:
        self.what, self._log = what, logger
        self.since: float | None = None     # time.monotonic() of the first failure
        self.failures = 0                   # failed attempts in this process, all outages

    def failed(self, exc: BaseException) -> None:
        self.failures += 1
        if self.since is None:
            self.since = time.monotonic()
            self._log.warning("%s: database unavailable, retrying with backoff (%s)",
                              self.what, first_line(exc))

    def succeeded(self) -> None:
        if self.since is not None:
            self._log.warning("%s: database available again after %.0f s", self.what,
                              time.monotonic() - self.since)
            self.since = None

    @property
    def down_seconds(self) -> float:
        return 0.0 if self.since is None else time.monotonic() - self.since


class LastGood(Generic[T]):
    """The last good copy of `load()`, refreshed every `interval` seconds in the background.

    `encode`/`decode` turn the value into JSON-able data and back for `file`; a copy read
    from the file is served until the first successful load. `prune` trims the copy
    after each failed refresh (what must not outlive its time, even in an outage).
    """

    def __init__(self, name: str, load: Callable[[], T], *, interval: float,
                 file: Path | None = None, encode: Callable[[T], Any] | None = None,
                 decode: Callable[[Any], T] | None = None,
                 prune: Callable[[T], T] | None = None) -> None:
        self.name, self._load, self.interval = name, load, interval
        self._prune = prune     # applied to the copy kept through an outage (old salts go)
        self._file, self._encode, self._decode = file, encode, decode
        self.outage = OutageLog(name)
        self._value: T | None = None
        self._loaded_at: float | None = None     # monotonic time of the last good load
        self._due = 0.0
        self._backoff = 1.0
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()           # one load at a time
        self._start_lock = threading.Lock()     # one refresh loop at a time
        self._saved: str | None = None
        self._last_read = 0.0
        self._closed = False
        self._copy_time = 0.0       # wall time of the copy served (load or file mtime)
        self._read_file()

    # --- readers (request threads): memory only -----------------------------------------
    def get(self) -> T | None:
        """The current copy (None when there never was one).

        Only a process with no copy at all (first use, no file) loads in the caller's
        thread (it has nothing better to answer with) - and a process whose copy came
        from the file tries once, so a copy the database has since changed (a site
        removed, a database restored) is not served when the database is there."""
        no_copy = self._value is None and time.monotonic() >= self._due
        untried_file_copy = self._loaded_at is None and self.outage.failures == 0
        if no_copy or untried_file_copy:
            self.refresh()
        self._refresh_in_background()
        return self._value

    @property
    def loaded(self) -> bool:
        return self._value is not None

    def status(self) -> dict[str, Any]:
        """For /healthz and /metrics: is the copy fresh, how old, how many failures."""
        self.get()
        age = None if self._loaded_at is None else time.monotonic() - self._loaded_at
        return {"ok": self.outage.since is None and self._value is not None,
                "has_copy": self._value is not None,
                "age_seconds": None if age is None else round(age, 1),
                "down_seconds": round(self.outage.down_seconds, 1),
                "refresh_failures": self.outage.failures}

    # --- refreshing ---------------------------------------------------------------------
    def refresh(self) -> bool:
        """Load now (start-up, tests); False when the database could not be read."""
        with self._lock:
            try:
                value = self._load()
            except Exception as exc:  # any failure keeps the last good copy
                if not is_outage(exc):
                    log.exception("%s: refresh failed", self.name)
                self.outage.failed(exc)
                self._read_file()
                if self._prune is not None and self._value is not None:
                    self._value = self._prune(self._value)
                    self._write_file(self._value)
                self._due = time.monotonic() + self._backoff
                self._backoff = min(self._backoff * 2, MAX_BACKOFF)
                return False
            self._value, self._loaded_at = value, time.monotonic()
            self._copy_time = time.time()
            self._due, self._backoff = self._loaded_at + self.interval, 1.0
            self.outage.succeeded()
            self._write_file(value)
            return True

    def refresh_if_allowed(self, min_age: float = 0.0) -> bool:
        """Load now (for a copy found lacking) unless an outage's backoff says wait or
        the copy is younger than `min_age` seconds; False when nothing was loaded."""
        now = time.monotonic()
        if self.outage.since is not None and now < self._due:
            return False
        if self._loaded_at is not None and now - self._loaded_at < min_age:
            return False
        return self.refresh()

    def close(self) -> None:
        """Stop refreshing (the process is done with this copy)."""
        self._closed = True

    def invalidate(self) -> None:
        """Refresh at the next read (a site was just added in this process)."""
        self._due = 0.0

    def _refresh_in_background(self) -> None:
        """Make sure the refresh loop runs (started by a reader, so it runs in the
        process that serves: a fork leaves no thread alive in the child)."""
        self._last_read = time.monotonic()
        thread = self._thread
        if (thread is not None and thread.is_alive()) or self._closed:
            return
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                if self._thread is not None:    # back after an idle spell: catch up first
                    self.refresh_if_allowed(min_age=self.interval)
                _LIVE.add(self)
                self._thread = threading.Thread(target=_refresh_loop, args=(weakref.ref(self),),
                                                daemon=True, name=f"refresh-{self.name}")
                self._thread.start()

    # --- the copy on disk ---------------------------------------------------------------
    def _read_file(self) -> None:
        """Serve the copy on disk if it is newer than ours: at start-up, and after a failed
        refresh (another process of this machine may have saved a later copy, e.g. with
        a site added just before the outage)."""
        if self._file is None or self._decode is None:
            return
        try:
            mtime = self._file.stat().st_mtime
            if mtime <= self._copy_time:
                return
            self._value = self._decode(json.loads(self._file.read_text(encoding="utf-8")))
            self._copy_time = mtime
        except FileNotFoundError:
            return
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            log.warning("%s: ignoring the unreadable copy in %s (%s)", self.name,
                        self._file.name, first_line(exc))
            return
        log.info("%s: serving the copy saved on disk until the database answers", self.name)

    def _write_file(self, value: T) -> None:
        if self._file is None or self._encode is None:
            return
        text = json.dumps(self._encode(value), sort_keys=True)
        if text == self._saved:
            return
        try:
            write_private_file(self._file, text)
            self._saved = text
        except OSError as exc:
            log.warning("%s: could not save a copy to disk (%s)", self.name, first_line(exc))


def _close_all() -> None:
    """At interpreter exit: no copy refreshes (and logs) while the process shuts down."""
    for copy in list(_LIVE):
        copy.close()


_LIVE: weakref.WeakSet[LastGood[Any]] = weakref.WeakSet()
atexit.register(_close_all)


def _refresh_loop(ref: weakref.ReferenceType[LastGood[Any]]) -> None:
    """Refresh whenever due, so every process sees a change within `interval` seconds
    whether or not it had requests; ends when the copy is gone or nobody read it for
    IDLE_STOP seconds (a reader starts it again)."""
    while (copy := ref()) is not None:
        now = time.monotonic()
        if copy._closed or now - copy._last_read > IDLE_STOP:
            return
        wait = copy._due - now
        if wait <= 0:
            copy.refresh()
            wait = 0.0
        del copy     # hold no reference while sleeping
        time.sleep(min(max(wait, 0.05), 1.0))


def write_private_file(path: Path, text: str) -> None:
    """Replace `path` atomically with `text`, readable by this user only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
