"""Imports stage: the `imports` table and its companions - create an import, save where
it stopped (in the transaction that stores its events), finish, list and delete it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared.core import schema
from shared.rollups.mark import mark_dirty_range
from shared.storage import insert_ignoring_duplicates, upsert_add

IMP = schema.imports


class ImportRefused(ValueError):
    """An import that cannot start or go on; the message says why and what to do."""


@dataclass(frozen=True)
class ImportRecord:
    id: int
    site_id: int
    kind: str
    fingerprint: str
    label: str
    status: str
    options: dict[str, Any]
    position: dict[str, Any]
    state: dict[str, Any]
    counts: dict[str, Any]
    pageviews: int
    visitors: int
    first_ts: datetime | None
    last_ts: datetime | None
    error: str
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


def _record(row: Any) -> ImportRecord:
    return ImportRecord(**{name: getattr(row, name) for name in ImportRecord.__dataclass_fields__})


def create_import(conn: Connection, site_id: int, kind: str, fingerprint: str, label: str,
                  options: dict[str, Any], now: datetime) -> ImportRecord:
    new_id = conn.execute(sa.insert(IMP).values(
        site_id=site_id, kind=kind, fingerprint=fingerprint, label=label[:2000],
        status="running", options=options, position={}, state={}, counts={},
        pageviews=0, visitors=0, error="", created_at=now, updated_at=now,
    ).returning(IMP.c.id)).scalar_one()
    found = get_import(conn, int(new_id))
    assert found is not None
    return found


def claim_import(conn: Connection, record: ImportRecord, runner: dict[str, Any],
                 now: datetime) -> ImportRecord:
    """Name the process that runs the import now (kept in its position)."""
    position = {**(record.position or {}), "runner": runner}
    conn.execute(sa.update(IMP).where(IMP.c.id == record.id).values(
        position=position, status="running", updated_at=now))
    found = get_import(conn, record.id)
    assert found is not None
    return found


def get_import(conn: Connection, import_id: int) -> ImportRecord | None:
    row = conn.execute(sa.select(IMP).where(IMP.c.id == import_id)).first()
    return _record(row) if row else None


def find_import(conn: Connection, site_id: int, kind: str,
                fingerprint: str) -> ImportRecord | None:
    """The latest import of the same files into the site, if any."""
    row = conn.execute(sa.select(IMP).where(IMP.c.site_id == site_id, IMP.c.kind == kind,
                                          IMP.c.fingerprint == fingerprint)
                       .order_by(IMP.c.id.desc()).limit(1)).first()
    return _record(row) if row else None


def list_imports(conn: Connection, site_id: int) -> list[ImportRecord]:
    rows = conn.execute(sa.select(IMP).where(IMP.c.site_id == site_id).order_by(IMP.c.id.desc()))
    return [_record(r) for r in rows]


def import_salts(conn: Connection, import_id: int) -> dict[date, bytes]:
    S = schema.import_salts
    rows = conn.execute(sa.select(S.c.day, S.c.salt).where(S.c.import_id == import_id))
    return {r.day: bytes(r.salt) for r in rows}


@dataclass
class Checkpoint:
    """What one batch adds to an import, saved with its events in one transaction."""

    position: dict[str, Any]
    state: dict[str, Any]
    counts: dict[str, Any]
    first_ts: datetime | None
    last_ts: datetime | None
    new_salts: Mapping[date, bytes]
    event_uids: list[int]                        # and the uids of the bot lines counted
    bots: Mapping[tuple[date, str, str], int]    # (UTC day, category, family) -> hits


def save_checkpoint(conn: Connection, record: ImportRecord, cp: Checkpoint,
                    now: datetime) -> None:
    ids = {"import_id": record.id, "site_id": record.site_id}
    insert_ignoring_duplicates(conn, schema.import_salts, [
        {**ids, "day": day, "salt": salt} for day, salt in cp.new_salts.items()],
        ["import_id", "day"])
    insert_ignoring_duplicates(conn, schema.import_events,
                               [{**ids, "uid": uid} for uid in cp.event_uids], ["uid"])
    bot_rows = [{"site_id": record.site_id, "day": d, "category": c, "family": f, "count": n}
                for (d, c, f), n in cp.bots.items()]
    upsert_add(conn, schema.bot_counts, bot_rows, ["site_id", "day", "category", "family"],
               "count")
    upsert_add(conn, schema.import_bot_counts, [{**r, "import_id": record.id} for r in bot_rows],
               ["import_id", "day", "category", "family"], "count")
    conn.execute(sa.update(IMP).where(IMP.c.id == record.id).values(
        position=cp.position, state=cp.state, counts=cp.counts, first_ts=cp.first_ts,
        last_ts=cp.last_ts, updated_at=now))


def linked_uids(conn: Connection, uids: list[int]) -> set[int]:
    """The uids among `uids` an import has stored or counted already."""
    link, found = schema.import_events, set[int]()
    for i in range(0, len(uids), 500):
        found.update(conn.execute(sa.select(link.c.uid)
                                  .where(link.c.uid.in_(uids[i:i + 500]))).scalars())
    return found


def finish_import(conn: Connection, record: ImportRecord, now: datetime) -> ImportRecord:
    """Mark the import done, forget its salts, and count what it stored: page views and
    visitors (the sum of daily unique visitors, as everywhere in Beacon)."""
    conn.execute(sa.delete(schema.import_salts)
                 .where(schema.import_salts.c.import_id == record.id))
    pageviews, visitors = _stored_counts(conn, record)
    conn.execute(sa.update(IMP).where(IMP.c.id == record.id).values(
        status="done", state={}, pageviews=pageviews, visitors=visitors, updated_at=now,
        finished_at=now))
    found = get_import(conn, record.id)
    assert found is not None
    return found


def _stored_counts(conn: Connection, record: ImportRecord) -> tuple[int, int]:
    e, link = schema.events, schema.import_events
    base = sa.select(e.c.visitor_id).join(link, link.c.uid == e.c.uid).where(
        link.c.import_id == record.id, e.c.site_id == record.site_id)
    # The links also hold the uids of the bot lines counted: page views are the events.
    pageviews = conn.execute(sa.select(sa.func.count()).select_from(base.subquery())
                             ).scalar_one()
    visitors = 0
    if record.first_ts is not None and record.last_ts is not None:
        day = datetime.combine(record.first_ts.date(), datetime.min.time())
        while day <= record.last_ts:     # visitor ids are per UTC day: count per day
            one_day = base.where(e.c.ts >= day, e.c.ts < day + timedelta(days=1)).subquery()
            visitors += conn.execute(sa.select(sa.func.count(sa.distinct(
                one_day.c.visitor_id)))).scalar_one()
            day += timedelta(days=1)
    return int(pageviews), int(visitors)


def fail_import(conn: Connection, import_id: int, error: str, now: datetime) -> None:
    conn.execute(sa.update(IMP).where(IMP.c.id == import_id, IMP.c.status != "done").values(
        status="failed", error=error[:2000], updated_at=now))


def delete_import(conn: Connection, record: ImportRecord, timezone: str,
                  now: datetime) -> int:
    """Delete an import and everything it stored (events, bot counts, salts); the days it
    covered are rebuilt by the worker. Returns the number of events deleted."""
    link, e = schema.import_events, schema.events
    uids = sa.select(link.c.uid).where(link.c.import_id == record.id)
    deleted = conn.execute(sa.delete(e).where(e.c.site_id == record.site_id,
                                              e.c.uid.in_(uids))).rowcount or 0
    B, IB = schema.bot_counts, schema.import_bot_counts
    for row in conn.execute(sa.select(IB).where(IB.c.import_id == record.id)).all():
        conn.execute(sa.update(B).where(
            B.c.site_id == row.site_id, B.c.day == row.day, B.c.category == row.category,
            B.c.family == row.family).values(count=B.c.count - row.count))
    conn.execute(sa.delete(B).where(B.c.site_id == record.site_id, B.c.count <= 0))
    for table in (link, IB, schema.import_salts):
        conn.execute(sa.delete(table).where(table.c.import_id == record.id))
    conn.execute(sa.delete(IMP).where(IMP.c.id == record.id))
    if record.first_ts is not None and record.last_ts is not None:
        mark_dirty_range(conn, record.site_id, timezone, record.first_ts, record.last_ts, now)
    return int(deleted)
