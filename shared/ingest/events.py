"""Ingest stage: append events. A row whose uid is already stored is skipped, so
replaying the spool after a crash never duplicates an event."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Connection

from shared.core import schema
from shared.core.records import EVENT_COLUMNS
from shared.storage import dialect_for, insert_ignoring_duplicates


def write_events(conn: Connection, rows: Iterable[Mapping[str, Any]]) -> None:
    """Append event rows; a row whose uid is already stored is skipped (idempotent)."""
    insert_ignoring_duplicates(conn, schema.events, list(rows), ["uid"])


def append_event_tuples(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """`write_events` for the hot path: tuples in `EVENT_COLUMNS` order (`Event.to_tuple`)
    go straight to the driver - SQLAlchemy's per-row parameter processing would cost
    more than the insert itself. Rows whose uid is stored are skipped."""
    if not rows:
        return
    dialect_for(conn).append_events(conn, rows, EVENT_COLUMNS)
