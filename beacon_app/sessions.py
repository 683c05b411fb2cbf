"""Session ids, assigned at write time inside the batch's transaction.

A visit is the same visitor with at most 30 minutes of inactivity. The live visit of
each visitor is a row in `visitor_sessions`; every writer reads and updates those rows
inside its write transaction, and write transactions are serialised (SQLite's write
lock, a PostgreSQL advisory lock), so any number of beacon processes agree.

At midnight UTC the salt changes and so does the visitor hash; an event whose
previous-salt hash has a live visit continues that visit under the old id.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection

from shared.core.ids import random_id
from shared.core.records import Event
from shared.storage import dialect_for

# Visitor ids looked up per statement: below SQLite's oldest bound-parameter limit (999).
_CHUNK = 500


def _load(conn: Connection, events: Sequence[Event]) -> dict[tuple[int, int], tuple[int, datetime]]:
    keys: dict[int, set[int]] = {}
    for ev in events:
        ids = keys.setdefault(ev.site_id, set())
        ids.add(ev.visitor_id)
        if ev.visitor_id_prev:
            ids.add(ev.visitor_id_prev)
    state: dict[tuple[int, int], tuple[int, datetime]] = {}
    dialect = dialect_for(conn)
    for site_id, ids in keys.items():
        id_list = list(ids)
        for i in range(0, len(id_list), _CHUNK):
            rows = dialect.visitor_sessions(conn, site_id, id_list[i:i + _CHUNK])
            for visitor_id, session_id, last_seen in rows:
                state[(site_id, visitor_id)] = (session_id, dialect.read_time(last_seen))
    return state


def assign_sessions(conn: Connection, events: Sequence[Event], timeout: timedelta) -> None:
    """Set `session_id` (and the continuing visitor id) on each event, oldest first,
    and store every visitor's latest visit."""
    state = _load(conn, events)
    changed: dict[tuple[int, int], tuple[int, datetime]] = {}
    for ev in sorted(events, key=lambda e: e.ts):
        prev_key = (ev.site_id, ev.visitor_id_prev)
        if (ev.visitor_id_prev and (ev.site_id, ev.visitor_id) not in state
                and _live(state.get(prev_key), ev.ts, timeout)):
            ev.visitor_id = ev.visitor_id_prev      # the visit crosses midnight
        key = (ev.site_id, ev.visitor_id)
        current = state.get(key)
        if current is not None and _live(current, ev.ts, timeout):
            session_id, last_seen = current[0], max(current[1], ev.ts)
        else:
            session_id, last_seen = random_id(), ev.ts
        ev.session_id = session_id
        state[key] = changed[key] = (session_id, last_seen)
    _store(conn, changed)


def _live(current: tuple[int, datetime] | None, ts: datetime, timeout: timedelta) -> bool:
    return current is not None and current[1] - timeout <= ts <= current[1] + timeout


def _store(conn: Connection, changed: dict[tuple[int, int], tuple[int, datetime]]) -> None:
    """Upsert every changed visit straight through the driver: SQLAlchemy's per-row
    parameter processing cost more than the statement (docs/benchmarks.md, "In process")."""
    if not changed:
        return
    dialect_for(conn).store_visitor_sessions(
        conn, [(site_id, visitor_id, session_id, last_seen)
               for (site_id, visitor_id), (session_id, last_seen) in changed.items()])
