"""The local write-ahead spool: every accepted event is appended here before the 202.

An append copies one line into the open segment, a file reserved at its full size and
mapped into memory (MAP_SHARED). Once the copy is done the bytes are in the kernel's
page cache, so a kill -9 of the beacon loses nothing - and, unlike a write(), the copy
is no system call, so the request thread never gives up the GIL for it. With
BEACON_SPOOL_FSYNC each append is also flushed to disk (msync), which survives power
loss. A sealed segment is cut to the bytes written; a crashed process's open segment
is read up to its last complete line. The
writer reads segments back and deletes a segment once every line is in the
database, so the spool is also the queue that rides out a database outage.

File names: `<pid>-<token>-<seq>.seg`. A segment whose process is gone is an orphan;
any writer claims it by renaming it to `claimed-<pid>-<token>-<original>` and
replays it (replays are idempotent because every event carries a unique uid).
"""

from __future__ import annotations

import contextlib
import logging
import mmap
import os
import re
import secrets
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

from shared.core.processes import process_alive
from shared.core.spool_policy import SEGMENT_MAX_AGE_SECONDS as SEGMENT_MAX_AGE
from shared.core.spool_policy import SEGMENT_MAX_BYTES

log = logging.getLogger(__name__)

_OWN = re.compile(r"^(\d+)-([0-9a-f]+)-(\d+)\.seg$")
_CLAIMED = re.compile(r"^claimed-(\d+)-([0-9a-f]+)-(.+\.seg)$")


class SpoolUnavailable(OSError):
    """The spool cannot take an event: `full` at BEACON_SPOOL_MAX_BYTES, else the folder
    cannot be written (full disk, permissions)."""

    def __init__(self, message: str, *, full: bool = False) -> None:
        super().__init__(message)
        self.full = full


@dataclass
class Segment:
    path: Path
    sealed: bool
    offset: int = 0          # bytes already written to the database
    size: int = 0


class Spool:
    def __init__(self, directory: str, *, fsync: bool = False, max_bytes: int = 1 << 30) -> None:
        self.dir = Path(directory)
        self.fsync = fsync
        self.max_bytes = max_bytes
        self.token = secrets.token_hex(4)
        self._lock = threading.Lock()
        self._seq = 0
        self._fd: int | None = None
        self._map: mmap.mmap | None = None        # the open segment, mapped
        self._capacity = 0
        self._current: Segment | None = None
        self._opened_at = 0.0
        self.segments: list[Segment] = []     # own + claimed, oldest first
        self._pid = os.getpid()
        self.total_bytes = 0
        ref = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: _after_fork_hook(ref))

    # --- appending (request threads) ------------------------------------------------
    def append(self, line: bytes) -> None:
        """Append one newline-terminated record; raises SpoolUnavailable on I/O errors."""
        size = len(line)
        with self._lock:
            if self.total_bytes + size > self.max_bytes:
                raise SpoolUnavailable("spool is full (BEACON_SPOOL_MAX_BYTES)", full=True)
            try:
                cur = self._current
                if self._map is None or cur is None or cur.size + size > self._capacity:
                    self._rotate(size)
                    cur = self._current
                assert self._map is not None and cur is not None
                # A copy into the shared mapping: no system call, so the request thread
                # keeps the GIL. The page cache holds the bytes from here on.
                self._map[cur.size:cur.size + size] = line
                if self.fsync:
                    self._map.flush()
            except (OSError, ValueError) as exc:
                self._close_current()
                raise SpoolUnavailable(str(exc)) from exc
            cur.size += size
            self.total_bytes += size

    def rotate_if_old(self) -> None:
        with self._lock:
            if self._current is not None and \
                    time.monotonic() - self._opened_at > SEGMENT_MAX_AGE:
                self._close_current()

    def _after_fork(self) -> None:
        """A forked child never shares its parent's segments."""
        self._lock = threading.Lock()
        if self._map is not None:      # unmaps in the child only; the parent keeps writing
            with contextlib.suppress(OSError, ValueError):
                self._map.close()
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
        self._fd, self._map, self._current = None, None, None
        self.segments, self.total_bytes = [], 0
        self._pid, self.token = os.getpid(), secrets.token_hex(4)

    def _rotate(self, need: int) -> None:
        self._close_current()
        self.dir.mkdir(parents=True, exist_ok=True)
        self._seq += 1
        path = self.dir / f"{self._pid}-{self.token}-{self._seq:08d}.seg"
        capacity = max(SEGMENT_MAX_BYTES, need)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            # Blocks reserved now: a full disk fails here, cleanly, instead of as a
            # SIGBUS on a later write into the mapping.
            os.posix_fallocate(fd, 0, capacity)
            self._map = mmap.mmap(fd, capacity, mmap.MAP_SHARED, mmap.PROT_WRITE)
        except OSError:
            os.close(fd)
            with contextlib.suppress(OSError):
                path.unlink()
            raise
        self._fd, self._capacity = fd, capacity
        self._current = Segment(path=path, sealed=False)
        self.segments.append(self._current)
        self._opened_at = time.monotonic()

    def _close_current(self) -> None:
        """Seal the open segment: unmap it and cut the file to the bytes written."""
        if self._map is not None:
            with contextlib.suppress(OSError, ValueError):
                self._map.close()
        if self._fd is not None:
            with contextlib.suppress(OSError):
                if self._current is not None:
                    os.ftruncate(self._fd, self._current.size)
                os.close(self._fd)
        if self._current is not None:
            self._current.sealed = True
        self._fd, self._map, self._current = None, None, None

    # --- reading back (writer thread) ----------------------------------------------
    def pending(self) -> list[Segment]:
        with self._lock:
            return list(self.segments)

    def read_batch(self, seg: Segment, max_records: int) -> tuple[list[bytes], int]:
        """Up to `max_records` complete lines after seg.offset, and the new offset."""
        with self._lock:
            size = seg.size
        if seg.offset >= size:
            return [], seg.offset
        with open(seg.path, "rb") as fh:
            fh.seek(seg.offset)
            data = fh.read(min(size - seg.offset, max_records * 4096 + 65536))
        lines: list[bytes] = []
        consumed = 0
        for line in data.splitlines(keepends=True):
            if not line.endswith(b"\n") or len(lines) >= max_records:
                break
            lines.append(line)
            consumed += len(line)
        return lines, seg.offset + consumed

    def committed(self, seg: Segment, offset: int) -> None:
        """Everything before `offset` is in the database; drop finished segments."""
        with self._lock:
            seg.offset = offset
            done = seg.sealed and seg.offset >= seg.size and seg in self.segments
            if done:
                self.segments.remove(seg)
                self.total_bytes -= seg.size
        if done:
            with contextlib.suppress(FileNotFoundError):
                seg.path.unlink()

    def seal_current(self) -> None:
        """Close the open segment so that it can be finished and deleted."""
        with self._lock:
            self._close_current()

    # --- orphans ---------------------------------------------------------------------
    def claim_orphans(self) -> int:
        """Adopt segments left by dead processes; returns how many were claimed."""
        if not self.dir.is_dir():
            return 0
        claimed = 0
        for path in sorted(self.dir.glob("*.seg"), key=_age_key):
            owner = _owner(path.name)
            if owner is None or process_alive(owner):
                continue
            base = _CLAIMED.match(path.name)
            original = base.group(3) if base else path.name
            target = self.dir / f"claimed-{os.getpid()}-{self.token}-{original}"
            try:
                os.rename(path, target)   # atomic: exactly one claimant wins
            except OSError:
                continue
            size = _written_size(target)
            with self._lock:
                # After earlier claims, before our own segments: oldest data first.
                at = sum(1 for s in self.segments if s.path.name.startswith("claimed-"))
                self.segments.insert(at, Segment(path=target, sealed=True, size=size))
                self.total_bytes += size
            claimed += 1
        if claimed:
            log.info("spool: claimed %d segment(s) left by stopped processes", claimed)
        return claimed

    def close(self) -> None:
        self.seal_current()


def _after_fork_hook(ref: weakref.ReferenceType[Spool]) -> None:
    spool = ref()
    if spool is not None:
        spool._after_fork()


def _written_size(path: Path) -> int:
    """The bytes of a segment that hold records. A process killed while its segment was
    open leaves the file at its reserved size, zero-filled after the last record (and
    maybe a torn one, never acknowledged): count up to the last newline."""
    data = path.read_bytes()
    end = data.rfind(b"\n", 0, len(data.rstrip(b"\0")))
    return end + 1


def _owner(name: str) -> int | None:
    m = _CLAIMED.match(name) or _OWN.match(name)
    return int(m.group(1)) if m else None


def _age_key(path: Path) -> tuple[float, str]:
    try:
        return (path.stat().st_mtime, path.name)
    except FileNotFoundError:
        return (0.0, path.name)
