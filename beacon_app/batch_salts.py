"""Salts for the batch API, whose events may be back-dated: each event is hashed with a
key of its own UTC day, so the batch API cannot link a visitor across days either.

A day whose salt is still stored (today, yesterday, tomorrow made ahead, or an older
one housekeeping has not deleted yet) uses it: the event joins the visitors counted
live that day. A day whose salt is gone gets a random key made for this request and
forgotten after it: its visitors are told apart within the request only, never linked
to another day or another request - no key of one day serves another.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from beacon_app.state import BeaconState
from shared.ingest.salts import read_salts_of_days

log = logging.getLogger(__name__)

Salts = tuple[bytes, bytes | None]   # (the day's, the previous day's for a visit at midnight)


class DaySalts:
    """The salts of one batch request, per UTC day of its events."""

    def __init__(self, today: date, live: Salts, stored: Mapping[date, bytes]) -> None:
        self._today, self._live = today, live
        self._stored = dict(stored)
        self._throwaway: dict[date, bytes] = {}

    @classmethod
    def load(cls, state: BeaconState, now: datetime, days: Iterable[date]) -> DaySalts:
        """Today's salts as live hits get them; the stored salts of the other `days`
        (and of the day before each) in one query; none when the database is away."""
        other = {day for day in days if day != now.date()}
        wanted = other | {day - timedelta(days=1) for day in other}
        stored: dict[date, bytes] = {}
        if other:
            try:
                with state.engine.connect() as conn:
                    stored = read_salts_of_days(conn, wanted)
            except sa.exc.SQLAlchemyError as exc:
                log.warning("salts of back-dated days unavailable, using keys of this "
                            "request: %s", str(exc).splitlines()[0][:160])
        return cls(now.date(), state.salts.get(now), stored)

    def of(self, day: date) -> Salts:
        if day == self._today:
            return self._live
        salt = self._stored.get(day)
        if salt is None:
            return self._throwaway.setdefault(day, secrets.token_bytes(32)), None
        return salt, self._stored.get(day - timedelta(days=1))
