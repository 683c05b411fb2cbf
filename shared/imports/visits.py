"""Imports stage: visitor salts and visits of an import, as the live path makes them.

Every UTC day an import reads gets a random salt of its own (never a live day's salt,
never another import's), kept in `import_salts` only while the import runs so a resumed
import hashes the same visitor the same way, and deleted when it finishes. Visits follow
the live rule: the same visitor with at most 30 minutes between two page views, and a
visit crossing midnight keeps the previous day's visitor id. The open visits are small
(only the last half hour of the log) and are saved with every checkpoint.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from typing import Any

from shared.core.ids import random_id
from shared.core.records import Event

Salts = tuple[bytes, bytes | None]


class ImportVisits:
    def __init__(self, salts: dict[date, bytes], state: dict[str, Any] | None = None,
                 timeout: timedelta = timedelta(minutes=30)) -> None:
        self.salts = dict(salts)
        self.new_salts: dict[date, bytes] = {}     # made since the last checkpoint
        self.timeout = timeout
        self.open: dict[int, tuple[int, datetime]] = {}
        for visitor, session, last in (state or {}).get("visits", []):
            self.open[int(visitor)] = (int(session), datetime.fromisoformat(last))

    def salts_of(self, day: date) -> Salts:
        salt = self.salts.get(day)
        if salt is None:
            salt = self.salts[day] = self.new_salts[day] = secrets.token_bytes(32)
        return salt, self.salts.get(day - timedelta(days=1))

    def assign(self, event: Event) -> None:
        """Set the event's session id (and the continuing visitor id at midnight)."""
        if (event.visitor_id_prev and event.visitor_id not in self.open
                and self._live(self.open.get(event.visitor_id_prev), event.ts)):
            event.visitor_id = event.visitor_id_prev
        current = self.open.get(event.visitor_id)
        if current is not None and self._live(current, event.ts):
            session, last = current[0], max(current[1], event.ts)
        else:
            session, last = random_id(), event.ts
        event.session_id = session
        self.open[event.visitor_id] = (session, last)

    def _live(self, current: tuple[int, datetime] | None, ts: datetime) -> bool:
        return current is not None and current[1] - self.timeout <= ts <= current[1] + self.timeout

    def state(self, newest: datetime | None) -> dict[str, Any]:
        """The visits that a later line can still continue (JSON for the checkpoint);
        older ones are forgotten here, as a log is read in time order."""
        if newest is not None:
            horizon = newest - 2 * self.timeout
            self.open = {v: s for v, s in self.open.items() if s[1] >= horizon}
        return {"visits": [[v, s, last.isoformat()] for v, (s, last) in self.open.items()]}
