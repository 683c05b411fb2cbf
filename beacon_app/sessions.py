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

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from shared import schema
from shared.ids import random_id
from shared.records import Event

_T = schema.visitor_sessions


def _load(conn: Connection, events: Sequence[Event]) -> dict[tuple[int, int], tuple[int, datetime]]:
    keys: dict[int, set[int]] = {}
    for ev in events:
        ids = keys.setdefault(ev.site_id, set())
        ids.add(ev.visitor_id)
        if ev.visitor_id_prev:
            ids.add(ev.visitor_id_prev)
    state: dict[tuple[int, int], tuple[int, datetime]] = {}
    for site_id, ids in keys.items():
        id_list = list(ids)
        for i in range(0, len(id_list), 5000):
            rows = conn.execute(sa.select(_T.c.visitor_id, _T.c.session_id, _T.c.last_seen)
                                .where(_T.c.site_id == site_id,
                                       _T.c.visitor_id.in_(id_list[i:i + 5000])))
            for r in rows:
                state[(site_id, r.visitor_id)] = (r.session_id, r.last_seen)
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
    if not changed:
        return
    rows = [{"site_id": s, "visitor_id": v, "session_id": sid, "last_seen": seen}
            for (s, v), (sid, seen) in changed.items()]
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = module.insert(_T)
    stmt = stmt.on_conflict_do_update(
        index_elements=["site_id", "visitor_id"],
        set_={"session_id": stmt.excluded.session_id, "last_seen": stmt.excluded.last_seen},
    )
    conn.execute(stmt, rows)

