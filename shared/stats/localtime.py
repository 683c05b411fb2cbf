"""Query layer: local days and buckets in SQL, portable across SQLite and PostgreSQL.

SQLite knows no timezones, so the local time of an event is computed as
`ts + offset(ts)` where the offset is piecewise constant between the DST transitions
inside the queried range: a short CASE over bound instants, found here with zoneinfo
(and written in each database's SQL by its storage Dialect).
The same expression works on PostgreSQL (and ClickHouse), so both backends bucket
identically by construction.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.sql.elements import ColumnElement

from shared.core.clock import to_local
from shared.storage import Dialect

_STEP = timedelta(hours=6)   # no zone changes its offset twice within 6 hours


def _offset(utc: datetime, tz: ZoneInfo) -> int:
    return int((to_local(utc, tz) - utc).total_seconds())


def offset_segments(tz: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """[(from_utc, offset_seconds), ...] covering [start, end); the first starts at `start`."""
    segments = [(start, _offset(start, tz))]
    t = start
    while t < end:
        nxt = min(t + _STEP, end)
        if nxt < end and _offset(nxt, tz) != segments[-1][1]:
            lo, hi = t, nxt           # bisect: lo has the old offset, hi the new one
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                lo, hi = (mid, hi) if _offset(mid, tz) == segments[-1][1] else (lo, mid)
            # Zones change offset on a whole second: the one in (lo, lo + 1 s].
            change = lo.replace(microsecond=0) + timedelta(seconds=1)
            segments.append((change, _offset(change, tz)))
        t = nxt
    return segments


def local_text(ts: Any, unit: str, tz: ZoneInfo, start: datetime, end: datetime,
               dialect: Dialect) -> ColumnElement[Any]:
    """The local minute, hour or day of `ts` as text ('YYYY-MM-DD[ HH:MM:00]')."""
    return dialect.local_text(ts, unit, offset_segments(tz, start, end))


def local_day(ts: Any, tz: ZoneInfo, start: datetime, end: datetime,
              dialect: Dialect) -> ColumnElement[Any]:
    """The local day of `ts` as a Date-typed column (text on SQLite, date on PostgreSQL)."""
    return dialect.text_as_date(local_text(ts, "day", tz, start, end, dialect))


def parse_bucket(value: Any) -> datetime:
    """A bucket returned by `local_text` (or a date) as a naive local datetime."""
    if isinstance(value, datetime):
        return value
    if hasattr(value, "year") and not isinstance(value, str):
        return datetime(value.year, value.month, value.day)
    text = str(value)
    return datetime.fromisoformat(text if len(text) > 10 else text + " 00:00:00")
