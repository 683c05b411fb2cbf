"""Raw-event exports the worker wrote, as the dashboard hands them out: which file a
download request may have (the guard asks `downloadable`), and its audit entry.

A file goes only to the user who asked for it, while that user may still see the site,
and for BEACON_EXPORT_KEEP_HOURS after it was written: a user who lost the site's role,
or another user with the link, gets a 404 like a wrong link.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO

from sqlalchemy.engine import Engine

from shared.accounts import audit
from shared.accounts.users import roles_of, user_by_id
from shared.core.clock import utc_now
from shared.core.settings import Settings
from shared.dataout.export_jobs import export_path
from shared.dataout.export_queue import ExportJob, job_by_token
from shared.sites import get_site

CHUNK_BYTES = 1 << 20
MIMES = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet",
         "ndjson": "application/x-ndjson"}
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


@dataclass(frozen=True)
class Download:
    job: ExportJob
    actor: str          # the user's e-mail, for the audit log
    filename: str
    mime: str
    size: int
    path: Path
    handle: IO[bytes]   # opened by `downloadable`: a file deleted meanwhile still reads


def downloadable(engine: Engine, settings: Settings, token: str,
                 user_id: int) -> Download | None:
    """The finished export `token` opened for reading, if `user_id` asked for it, may
    still see its site and it is not past its time; None otherwise."""
    if not _TOKEN.fullmatch(token):
        return None
    keep = timedelta(hours=settings.export_keep_hours)
    with engine.connect() as conn:
        job = job_by_token(conn, token)
        if (job is None or job.user_id != user_id or job.status != "done"
                or job.finished_at is None or job.finished_at + keep <= utc_now()):
            return None
        user = user_by_id(conn, user_id)
        site = get_site(conn, job.site_id)
        if user is None or site is None or job.site_id not in roles_of(conn, user):
            return None
    path = export_path(settings.data_dir, job)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError:   # cleaned, or written on another machine's data folder
        return None
    handle = os.fdopen(fd, "rb")
    return Download(job, user.email, job.download_name(site.domain), MIMES[job.format],
                    os.fstat(fd).st_size, path, handle)


def audit_download(engine: Engine, download: Download) -> None:
    job = download.job
    audit.record(engine, actor=download.actor, source="dashboard", action="export.events",
                 target=download.filename, site_id=job.site_id,
                 details={"first": job.options["first"], "last": job.options["last"],
                          "filters": job.label, "format": job.format,
                          "rows": job.rows_written, "export": job.id})
