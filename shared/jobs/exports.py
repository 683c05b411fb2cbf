"""The worker's export job: delete the exports past BEACON_EXPORT_KEEP_HOURS, then write
the oldest queued raw-event export (shared/dataout/export_jobs.py does both).

One export per round: a long one delays the next round's rollups by its own length,
never by a queue of them; queued exports wait for the rounds after.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from shared.core.settings import load_settings
from shared.dataout import export_jobs


def run_exports(engine: Engine, now: datetime) -> dict[str, Any]:
    settings = load_settings()
    deleted = export_jobs.clean(engine, settings.data_dir, now,
                                timedelta(hours=settings.export_keep_hours))
    job = export_jobs.run_next(engine, settings.data_dir)
    return {"files_deleted": deleted, "export": None if job is None else job.status}
