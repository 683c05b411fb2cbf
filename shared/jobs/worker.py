"""The worker stage: a loop that runs periodic jobs (rollup refresh first; salt
rotation and retention join the same list) every BEACON_ROLLUP_INTERVAL_SECONDS.

A job is a named function `(engine, now) -> anything`; one failing job is logged and
does not stop the others or the loop.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from shared.core.clock import utc_now
from shared.core.last_good import OutageLog, is_outage
from shared.jobs.exports import run_exports
from shared.jobs.housekeeping import HOUSEKEEPING_JOBS
from shared.jobs.notifications import run_notifications
from shared.rollups.build import rebuild_dirty

log = logging.getLogger(__name__)

Job = tuple[str, Callable[[Engine, datetime], Any]]

# Append new periodic jobs here (name, function(engine, now)).
JOBS: list[Job] = [
    ("rollups", rebuild_dirty),
    *HOUSEKEEPING_JOBS,     # salts, sessions, retention, login tokens
    ("notifications", run_notifications),   # e-mail reports, alerts, webhooks
    ("exports", run_exports),   # last: one dashboard export may take minutes
]



def run_once(engine: Engine, now: datetime, jobs: Sequence[Job] | None = None,
             outage: OutageLog | None = None) -> dict[str, Any]:
    """Run every job once; returns each job's result (or the exception it raised).

    A database that cannot be reached is said once per outage through `outage` (not a
    traceback per job and round); the jobs simply run again next round and catch up:
    their work is marked in the database (dirty days, salts missing), not in memory."""
    outage = outage or OutageLog("worker", log)
    results: dict[str, Any] = {}
    for name, job in (JOBS if jobs is None else jobs):
        try:
            results[name] = job(engine, now)
        except Exception as exc:  # keep the other jobs and the loop alive
            if is_outage(exc):
                outage.failed(exc)
            else:
                log.exception("worker job %s failed", name)
            results[name] = exc
    if not any(isinstance(r, Exception) and is_outage(r) for r in results.values()):
        outage.succeeded()
    return results


def run_worker(engine: Engine, interval_seconds: float, *, jobs: Sequence[Job] | None = None,
               clock: Callable[[], datetime] = utc_now, stop: threading.Event | None = None,
               max_rounds: int | None = None) -> int:
    """Run the jobs every `interval_seconds` until `stop` is set (or `max_rounds` ran);
    returns the number of rounds."""
    stop = stop or threading.Event()
    outage = OutageLog("worker", log)
    rounds = 0
    while not stop.is_set() and (max_rounds is None or rounds < max_rounds):
        run_once(engine, clock(), jobs, outage)
        rounds += 1
        if max_rounds is None or rounds < max_rounds:
            stop.wait(interval_seconds)
    return rounds
