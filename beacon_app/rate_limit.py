"""The per-IP rate limit, shared by every beacon process on the machine and fair under
floods of addresses.

Counts live in a file in the spool folder, mapped into memory by each process
(MAP_SHARED): one count for the server, not one per worker, and no database on the
request path. The counts are a count-min sketch: ROWS rows of WIDTH counters; an
address adds one to one counter per row (chosen by a keyed hash) and its count is the
smallest of its counters. Memory is fixed (2 MiB) however many addresses arrive, and
there is no shared overflow counter: a new address is refused only when all of its
ROWS counters were pushed past the limit by other addresses, which needs about
WIDTH x limit hits in one minute - millions, far more than a beacon answers - so a
flood of addresses does not lock out the next legitimate one. Increments are
"conservative" (only the counters at the minimum grow), which keeps the estimates tight.

The hash key is random per file, so nobody can pick addresses that collide with a
victim's. Updates are plain memory writes without locks: two processes counting the
same hit at the same instant may lose one of the two increments, so the limit may let
a few hits more through.
"""

from __future__ import annotations

import contextlib
import hashlib
import mmap
import os
import secrets
import struct
import threading
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

ROWS = 4                         # allow() is unrolled for four rows
WIDTH = 1 << 16
_MAGIC = b"BCNRL001"
_HEADER = 64                     # magic (8), hash key (16), window (8), padding
_SIZE = _HEADER + ROWS * WIDTH * 4
FILE_NAME = "rate-limit.shm"


def _create(path: Path) -> None:
    """Create the shared file once, atomically (link() fails when another process won)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.ftruncate(fd, _SIZE)
        os.pwrite(fd, _MAGIC + secrets.token_bytes(16) + struct.pack("<q", -1), 0)
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        os.close(fd)
        tmp.unlink()


class RateLimiter:
    """At most `per_minute` requests per client address in each clock minute, counted
    across all processes that share `directory`."""

    def __init__(self, per_minute: int, directory: str | Path, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._lock = threading.Lock()
        if per_minute <= 0:
            return
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / FILE_NAME
        if not path.exists():
            _create(path)
        fd = os.open(path, os.O_RDWR)
        try:
            if os.fstat(fd).st_size != _SIZE or os.pread(fd, 8, 0) != _MAGIC:
                raise OSError(f"{path} is not a rate-limit file of this version")
            self._map = mmap.mmap(fd, _SIZE, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        finally:
            os.close(fd)
        self._key = bytes(self._map[8:24])
        self._window = memoryview(self._map)[24:32].cast("q")
        self._counts = memoryview(self._map)[_HEADER:].cast("I")
        # A visitor's hits come from one address: hash it once (bounded memory).
        self._slots = lru_cache(maxsize=16_384)(self._hash_slots)

    def _hash_slots(self, ip: str) -> tuple[int, ...]:
        digest = hashlib.blake2b(ip.encode(), digest_size=2 * ROWS, key=self._key).digest()
        return tuple(row * WIDTH + int.from_bytes(digest[2 * row:2 * row + 2], "little")
                     for row in range(ROWS))

    def _start_window(self, window: int) -> None:
        with self._lock:
            if self._window[0] != window:
                self._window[0] = window
                self._map[_HEADER:] = bytes(_SIZE - _HEADER)

    def allow(self, ip: str) -> bool:
        if self.per_minute <= 0:
            return True
        window = int(self._clock() // 60)
        if self._window[0] != window:
            self._start_window(window)
        # Unrolled for the ROWS = 4 rows: this runs on every hit (a loop costs 2x).
        counts = self._counts
        a, b, c, d = self._slots(ip)
        ca, cb, cc, cd = counts[a], counts[b], counts[c], counts[d]
        current = min(ca, cb, cc, cd)
        if current >= self.per_minute:
            return False
        bumped = current + 1
        if ca == current:
            counts[a] = bumped
        if cb == current:
            counts[b] = bumped
        if cc == current:
            counts[c] = bumped
        if cd == current:
            counts[d] = bumped
        return True

    def count(self, ip: str) -> int:
        """The estimated requests of `ip` in this minute (never fewer than it made)."""
        if self.per_minute <= 0:
            return 0
        return min(self._counts[s] for s in self._slots(ip))
