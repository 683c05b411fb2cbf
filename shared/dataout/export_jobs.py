"""Data out, stage "export jobs": the worker's side of the export queue - write a
queued raw-event export to a private file, and delete the files past their time.

An export is written as the CLI writes one (the Arrow event stream, pyarrow's
writers), to `<data dir>/exports/<token>.<ext>.part` (mode 0600, folder 0700), and
renamed to `<token>.<ext>` once complete, so the dashboard never hands out half a
file. Progress (rows written of the stream's count) is saved about once a second;
it also tells other workers this export is alive (`export_queue.LEASE`).

What a failed export says is shown to its user, so it is one line written here,
never the exception's text (which may quote SQL); the traceback goes to the log.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine

from shared.core.clock import utc_now
from shared.dataout import event_stream
from shared.dataout import export_queue as queue
from shared.dataout.arrow_writers import write_batches
from shared.dataout.event_schema import events_schema
from shared.sites import get_site
from shared.stats.query import QueryError
from shared.storage import write_transaction
from shared.storage.private_files import PrivateFileError, open_private

log = logging.getLogger(__name__)

FOLDER = "exports"
PROGRESS_SECONDS = 1.0
BATCH_ROWS = 50_000       # progress moves every batch; memory holds about two
FAILED = "the export failed (the worker's log has the details); start it again"


def exports_dir(data_dir: str | Path) -> Path:
    """The folder of finished exports (not created here)."""
    return Path(data_dir) / FOLDER


def export_path(data_dir: str | Path, job: queue.ExportJob) -> Path:
    return exports_dir(data_dir) / job.file_name


def run_next(engine: Engine, data_dir: str | Path,
             clock: Callable[[], datetime] = utc_now) -> queue.ExportJob | None:
    """Claim the oldest queued export and write it; returns it as it ended (None: the
    queue was empty)."""
    with write_transaction(engine) as conn:
        job = queue.claim_next(conn, clock())
    if job is None:
        return None
    final = export_path(data_dir, job)
    part = final.with_name(final.name + ".part")
    try:
        final.parent.mkdir(mode=0o700, parents=True, exist_ok=True)   # private folder
        rows = _write(engine, job, part, clock)
        os.replace(part, final)
        with write_transaction(engine) as conn:
            queue.mark_done(conn, job.id, rows=rows, size=final.stat().st_size, now=clock())
    except Exception as exc:   # the user sees a line; the log keeps the traceback
        with contextlib.suppress(OSError):
            part.unlink(missing_ok=True)
        log.exception("export %s failed", job.id)
        with write_transaction(engine) as conn:
            queue.mark_failed(conn, job.id, _reason(exc), clock())
    with engine.connect() as conn:
        return queue.job(conn, job.id)


def _reason(exc: Exception) -> str:
    """A line for the user: the query's or the file's own words, else a fixed text."""
    if isinstance(exc, QueryError | PrivateFileError):
        return f"the export failed: {exc}"
    if isinstance(exc, OSError) and exc.strerror:
        return f"the export failed writing its file: {exc.strerror}"
    return FAILED


def _write(engine: Engine, job: queue.ExportJob, part: Path,
           clock: Callable[[], datetime]) -> int:
    with engine.connect() as conn:
        site = get_site(conn, job.site_id)
    if site is None:
        raise QueryError("the site was deleted")
    query = job.query(site.timezone)
    total = event_stream.count_events(engine, query)
    written, last = 0, 0.0

    def progress(rows: int) -> None:
        nonlocal written, last
        written += rows
        if time.monotonic() - last >= PROGRESS_SECONDS:
            last = time.monotonic()
            with write_transaction(engine) as conn:
                queue.record_progress(conn, job.id, written=written, total=total, now=clock())

    progress(0)   # the total, at once: the page shows 0 of N
    batches = event_stream.event_batches(engine, query, batch_rows=BATCH_ROWS)
    fd = open_private(part, replace=True, tighten=True)
    with os.fdopen(fd, "wb") as out:
        return write_batches(batches, job.format, out, events_schema(), progress=progress)


def clean(engine: Engine, data_dir: str | Path, now: datetime, keep: timedelta) -> int:
    """Forget exports finished more than `keep` ago and delete every file in the exports
    folder that no running or finished export owns; returns the files deleted."""
    folder = exports_dir(data_dir)
    # Listed first: a file made after this is kept.
    files = list(folder.iterdir()) if folder.is_dir() else []
    with write_transaction(engine) as conn:
        queue.fail_interrupted(conn, now)
        queue.delete_finished_before(conn, now - keep)
        wanted = queue.live_tokens(conn)
    deleted = 0
    for path in files:
        if path.name.split(".", 1)[0] not in wanted and not path.is_dir():
            path.unlink(missing_ok=True)
            deleted += 1
    return deleted
