"""The write path: spool first, then the database in batches.

`submit()` (request threads) appends the enriched event to the spool and returns;
that append is what the 202 promises. One writer thread per process reads the spool
back, and writes batches - session ids, events, dirty days - in one transaction,
then advances the spool. A failed write (database down or locked) is retried with
backoff while the beacon keeps answering; a crashed process's spool is adopted and
replayed by the next writer, and unique event uids make replays idempotent.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy.engine import Engine

from beacon_app.metrics import Metrics
from beacon_app.sessions import assign_sessions
from beacon_app.spool import Spool, SpoolUnavailable
from shared.core.clock import utc_now
from shared.core.last_good import OutageLog, is_outage
from shared.core.records import DropReason, Event
from shared.ingest.events import append_event_tuples
from shared.rollups.mark import mark_dirty_days
from shared.storage import dialect_for, write_transaction

log = logging.getLogger(__name__)


# A spool record is one JSON object per line with the Event's fields (ts as naive ISO
# text). msgspec writes and reads it straight from/to the dataclass: ~1 µs each way.
_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(Event)


def encode(event: Event) -> bytes:
    return _ENCODER.encode(event) + b"\n"


def decode(line: bytes) -> Event:
    return _DECODER.decode(line)


class Writer:
    def __init__(self, engine: Engine, spool: Spool, metrics: Metrics, *,
                 timezone_of: Callable[[int], str], batch_size: int = 1000,
                 flush_interval: float = 0.25, session_timeout: timedelta = timedelta(minutes=30),
                 clock: Callable[[], datetime] | None = None) -> None:
        self.engine, self.spool, self.metrics = engine, spool, metrics
        self.timezone_of = timezone_of
        self.batch_size, self.flush_interval = batch_size, flush_interval
        self.session_timeout = session_timeout
        self.clock = clock or utc_now
        self._cond = threading.Condition()
        self._pending = 0                         # submitted, not yet written
        self._stop = False
        self._thread: threading.Thread | None = None
        self._last_orphan_scan = 0.0
        self._healthy = True
        self._spool_error_logged = 0.0
        self._outage = OutageLog("writer (events wait in the spool)", log)

    # --- request side ----------------------------------------------------------------
    def submit(self, event: Event) -> DropReason | None:
        """Make the event durable (spool) and queue it. None when it is on disk; else the
        reason it was not taken (spool full or unwritable) - the caller must not answer
        as if it were kept (browser endpoints say so in a header, the batch API with 503)."""
        self._ensure_thread()
        line = encode(event)
        with self._cond:   # counted before it is visible to the writer, never after
            self._pending += 1
            if self._pending >= self.batch_size:
                self._cond.notify_all()
        try:
            self.spool.append(line)
        except SpoolUnavailable as exc:
            with self._cond:
                self._pending -= 1
            reason = DropReason.SPOOL_FULL if exc.full else DropReason.SPOOL_UNAVAILABLE
            self._spool_failed(exc)
            self.metrics.drop(event.site_id, reason, self.clock().date())
            return reason
        self.metrics.inc("accepted")
        return None

    def _spool_failed(self, exc: SpoolUnavailable) -> None:
        """Counted every time, logged at most once a minute per process."""
        self.metrics.inc("spool_errors")
        now = time.monotonic()
        if now - self._spool_error_logged > 60:
            self._spool_error_logged = now
            log.error("spool cannot take events (%s): they are refused (X-Beacon-Drop on "
                      "the browser endpoints, 503 on the batch API) until it can", exc)

    # --- lifecycle -------------------------------------------------------------------
    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._cond:
            if self._thread is None or not self._thread.is_alive():
                self._stop = False
                self._thread = threading.Thread(target=self._run, name="beacon-writer",
                                                daemon=True)
                self._thread.start()
                atexit.register(self.stop)

    def start(self) -> None:
        self._ensure_thread()

    def stop(self, timeout: float = 20.0) -> None:
        """Write everything queued (SIGTERM path), then stop the thread."""
        self.spool.seal_current()      # so the final drain can finish and delete it
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
        self.spool.close()

    def flush(self, timeout: float = 30.0) -> bool:
        """Block until everything submitted so far is in the database (tests, shutdown)."""
        self._ensure_thread()
        deadline = time.monotonic() + timeout
        with self._cond:
            self._cond.notify_all()
            while self._pending > 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
                self._cond.notify_all()
        return True

    @property
    def healthy(self) -> bool:
        return self._healthy

    @property
    def backlog(self) -> int:
        return self._pending

    # --- writer thread ---------------------------------------------------------------
    def _run(self) -> None:
        backoff = 0.1
        while True:
            with self._cond:
                if not self._stop and self._pending < self.batch_size:
                    self._cond.wait(self.flush_interval)
                stopping = self._stop
            try:
                self.spool.rotate_if_old()
                self._adopt_orphans()
                self._drain()
                self.metrics.flush_drops(self.engine)
                self._healthy, backoff = True, 0.1
                self._outage.succeeded()
            except Exception as exc:  # the thread must survive anything; data stays spooled
                self._healthy = False
                self.metrics.inc("write_errors")
                if is_outage(exc):       # logged when it starts and when it ends
                    self._outage.failed(exc)
                else:
                    log.exception("writer error, will retry in %.1fs", backoff)
                time.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                if stopping and backoff >= 5.0:
                    log.error("stopping with events still in the spool; they are replayed "
                              "at the next start")
                    return
                continue
            if stopping:
                return

    def _adopt_orphans(self) -> None:
        now = time.monotonic()
        if now - self._last_orphan_scan > 10:
            self._last_orphan_scan = now
            self.spool.claim_orphans()

    def _drain(self) -> None:
        for seg in self.spool.pending():
            while True:
                lines, offset = self.spool.read_batch(seg, self.batch_size)
                if not lines:
                    self.spool.committed(seg, seg.offset)   # deletes it if finished
                    break
                own = not seg.path.name.startswith("claimed-")
                self._write(lines)
                self.spool.committed(seg, offset)
                if own:
                    with self._cond:
                        self._pending = max(0, self._pending - len(lines))
                        self._cond.notify_all()

    def _write(self, lines: list[bytes]) -> None:
        events = []
        for line in lines:
            try:
                events.append(decode(line))
            except (ValueError, TypeError, KeyError, msgspec.MsgspecError):
                log.error("spool: skipped an unreadable record")
                self.metrics.inc("spool_corrupt")
        if not events:
            return
        started = time.perf_counter()
        with write_transaction(self.engine) as conn:
            dialect = dialect_for(conn)
            # One writer transaction at a time across processes: session ids agree.
            dialect.serialize_writers(conn)
            assign_sessions(conn, events, self.session_timeout)
            append_event_tuples(conn, [e.to_tuple(dialect.time_value) for e in events])
            mark_dirty_days(conn, self._local_days(events), self.clock())
        self.metrics.observe_flush(time.perf_counter() - started, len(events))

    def _local_days(self, events: list[Event]) -> set[tuple[int, date]]:
        days: set[tuple[int, date]] = set()
        zones: dict[int, ZoneInfo] = {}
        for ev in events:
            zone = zones.get(ev.site_id)
            if zone is None:
                zone = zones[ev.site_id] = ZoneInfo(self.timezone_of(ev.site_id) or "UTC")
            local = ev.ts.replace(tzinfo=UTC).astimezone(zone)
            days.add((ev.site_id, local.date()))
        return days
