"""Data out, stage "export queue": raw-event exports asked for in the dashboard and
written by the worker (`export_jobs` runs them), one row each in `export_jobs`.

A row is `queued`, then `running` (claimed by one worker in one UPDATE: only one
wins), then `done` or `failed`. The query is stored as data (period, local days,
filters, the `now` it was asked at), so the worker exports exactly what the page
showed. While a row is queued or running its `active_key` (a hash of site, user,
format and query) is set and unique: the same export asked for twice - a double
click, a second tab, a rerun - finds the first one instead of queueing another.
A running row is refreshed with its progress; one not refreshed for LEASE belongs to
a worker that died, and fails with a message saying so.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared.core import schema
from shared.stats.query import Filter, StatsQuery
from shared.storage import insert_ignoring_duplicates

J = schema.export_jobs
ACTIVE = ("queued", "running")
LEASE = timedelta(minutes=10)
INTERRUPTED = "interrupted: the worker stopped while writing this export; start it again"
EXTENSIONS = {"csv": "csv", "parquet": "parquet", "ndjson": "ndjson"}


@dataclass(frozen=True)
class ExportJob:
    id: int
    token: str
    site_id: int
    user_id: int
    status: str
    format: str
    options: dict[str, Any]
    label: str
    rows_total: int | None
    rows_written: int
    file_bytes: int | None
    error: str
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None

    @property
    def file_name(self) -> str:
        """The file's name in the exports folder (the token: nothing a visitor wrote)."""
        return f"{self.token}.{EXTENSIONS[self.format]}"

    def download_name(self, domain: str) -> str:
        """The name the browser saves the file under."""
        return f"{domain}-events-{self.options['first']}-{self.options['last']}." \
               f"{EXTENSIONS[self.format]}"

    def query(self, timezone: str) -> StatsQuery:
        """The StatsQuery the dashboard asked for, as it was when asked."""
        o = self.options
        return StatsQuery(
            site_id=self.site_id, timezone=timezone, period=o["period"],
            now=datetime.fromisoformat(o["now"]),
            start=date.fromisoformat(o["start"]) if o.get("start") else None,
            end=date.fromisoformat(o["end"]) if o.get("end") else None,
            filters=tuple(_filter(f) for f in o.get("filters", [])))


def _filter_json(f: Filter) -> list[Any]:
    """[dimension, operator, [values], [children]]: groups (and/or/not) kept whole."""
    return [f.dimension, f.operator, list(f.values), [_filter_json(c) for c in f.children]]


def _filter(item: list[Any]) -> Filter:
    return Filter(str(item[0]), str(item[1]), tuple(str(v) for v in item[2]),
                  tuple(_filter(c) for c in item[3]))


def _from_row(row: Any) -> ExportJob:
    m = row._mapping
    return ExportJob(m["id"], m["token"], m["site_id"], m["user_id"], m["status"],
                     m["format"], dict(m["options"]), m["label"], m["rows_total"],
                     m["rows_written"], m["file_bytes"], m["error"], m["created_at"],
                     m["updated_at"], m["finished_at"])


def query_options(query: StatsQuery) -> dict[str, Any]:
    """What is stored of a query: enough to build it again in the worker."""
    r = query.date_range
    return {"period": query.period, "now": query.now.isoformat(),
            "start": query.start.isoformat() if query.start else None,
            "end": query.end.isoformat() if query.end else None,
            "first": r.first.isoformat(), "last": r.last.isoformat(),
            "filters": [_filter_json(f) for f in query.filters]}


def request_export(conn: Connection, *, user_id: int, query: StatsQuery, fmt: str,
                   label: str, now: datetime) -> ExportJob:
    """Queue an export of the query's raw events in `fmt` for `user_id`, or return the
    same export already queued or running (then nothing new is queued)."""
    if fmt not in EXTENSIONS:
        raise ValueError(f"unknown format {fmt!r}")
    options = query_options(query)
    same = {k: v for k, v in options.items() if k != "now"}  # a rerun asks at another now
    key = hashlib.sha256(json.dumps([query.site_id, user_id, fmt, same], sort_keys=True)
                         .encode()).hexdigest()
    insert_ignoring_duplicates(conn, J, [dict(
        token=secrets.token_urlsafe(24), site_id=query.site_id, user_id=user_id,
        status="queued", active_key=key, format=fmt, options=options, label=label[:400],
        rows_written=0, error="", created_at=now, updated_at=now)], ["active_key"])
    return _from_row(conn.execute(sa.select(J).where(J.c.active_key == key)).one())


def claim_next(conn: Connection, now: datetime) -> ExportJob | None:
    """The oldest queued export, moved to `running` by this caller alone (None: none)."""
    fail_interrupted(conn, now)
    ids = conn.execute(sa.select(J.c.id).where(J.c.status == "queued")
                       .order_by(J.c.created_at, J.c.id).limit(5)).scalars().all()
    for job_id in ids:
        won = conn.execute(sa.update(J).where(J.c.id == job_id, J.c.status == "queued")
                           .values(status="running", updated_at=now)).rowcount
        if won == 1:
            return job(conn, job_id)
    return None


def fail_interrupted(conn: Connection, now: datetime) -> int:
    """Fail the running exports no worker refreshed for LEASE (their worker died)."""
    stale = sa.and_(J.c.status == "running", J.c.updated_at < now - LEASE)
    return conn.execute(sa.update(J).where(stale).values(
        status="failed", active_key=None, error=INTERRUPTED, finished_at=now)).rowcount or 0


def record_progress(conn: Connection, job_id: int, *, written: int, total: int | None,
                    now: datetime) -> None:
    conn.execute(sa.update(J).where(J.c.id == job_id, J.c.status == "running").values(
        rows_written=written, rows_total=total, updated_at=now))


def mark_done(conn: Connection, job_id: int, *, rows: int, size: int, now: datetime) -> None:
    conn.execute(sa.update(J).where(J.c.id == job_id).values(
        status="done", active_key=None, rows_written=rows, file_bytes=size, error="",
        updated_at=now, finished_at=now))


def mark_failed(conn: Connection, job_id: int, error: str, now: datetime) -> None:
    conn.execute(sa.update(J).where(J.c.id == job_id).values(
        status="failed", active_key=None, error=error[:500], updated_at=now,
        finished_at=now))


def job(conn: Connection, job_id: int) -> ExportJob:
    return _from_row(conn.execute(sa.select(J).where(J.c.id == job_id)).one())


def job_by_token(conn: Connection, token: str) -> ExportJob | None:
    row = conn.execute(sa.select(J).where(J.c.token == token)).first()
    return _from_row(row) if row is not None else None


def jobs_of(conn: Connection, site_id: int, user_id: int, limit: int = 5) -> list[ExportJob]:
    """The user's latest exports of the site, newest first."""
    rows = conn.execute(sa.select(J).where(J.c.site_id == site_id, J.c.user_id == user_id)
                        .order_by(J.c.created_at.desc(), J.c.id.desc()).limit(limit))
    return [_from_row(r) for r in rows]


def live_tokens(conn: Connection) -> set[str]:
    """Tokens whose file may be on disk and wanted: running or done exports."""
    rows = conn.execute(sa.select(J.c.token).where(J.c.status.in_(("running", "done"))))
    return set(rows.scalars())


def delete_finished_before(conn: Connection, cutoff: datetime) -> int:
    """Forget exports that finished (done or failed) before `cutoff`."""
    stmt = sa.delete(J).where(J.c.status.in_(("done", "failed")), J.c.finished_at < cutoff)
    return conn.execute(stmt).rowcount or 0
