"""Query layer: local days and buckets in SQL, portable across SQLite and PostgreSQL.

SQLite knows no timezones, so the local time of an event is computed as
`ts + offset(ts)` where the offset is piecewise constant between the DST transitions
inside the queried range: a short CASE over bound instants, found here with zoneinfo.
The same expression works on PostgreSQL (and ClickHouse), so both backends bucket
identically by construction.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from shared.core.clock import to_local

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


def _offset_case(ts: Any, segments: list[tuple[datetime, int]], as_text: bool) -> Any:
    def value(seconds: int) -> Any:
        return sa.literal(f"{seconds:+d} seconds") if as_text else sa.literal(seconds)

    if len(segments) == 1:
        return value(segments[0][1])
    whens = [(ts < segments[i + 1][0], value(segments[i][1])) for i in range(len(segments) - 1)]
    return sa.case(*whens, else_=value(segments[-1][1]))


_SQLITE_FORMATS = {"minute": "%Y-%m-%d %H:%M:00", "hour": "%Y-%m-%d %H:00:00",
                   "day": "%Y-%m-%d"}
_PG_FORMATS = {"minute": "YYYY-MM-DD HH24:MI:00", "hour": "YYYY-MM-DD HH24:00:00",
               "day": "YYYY-MM-DD"}


def local_text(ts: Any, unit: str, tz: ZoneInfo, start: datetime, end: datetime,
               dialect: str) -> ColumnElement[Any]:
    """The local minute, hour or day of `ts` as text ('YYYY-MM-DD[ HH:MM:00]')."""
    segments = offset_segments(tz, start, end)
    if dialect == "sqlite":
        return sa.func.strftime(_SQLITE_FORMATS[unit], ts, _offset_case(ts, segments, True))
    local = ts + _offset_case(ts, segments, False) * sa.literal_column("interval '1 second'")
    return sa.func.to_char(local, _PG_FORMATS[unit])


def local_day(ts: Any, tz: ZoneInfo, start: datetime, end: datetime,
              dialect: str) -> ColumnElement[Any]:
    """The local day of `ts` as a Date-typed column (text on SQLite, date on PostgreSQL)."""
    text = local_text(ts, "day", tz, start, end, dialect)
    if dialect == "sqlite":
        return sa.type_coerce(text, sa.Date)
    return sa.cast(text, sa.Date)


def parse_bucket(value: Any) -> datetime:
    """A bucket returned by `local_text` (or a date) as a naive local datetime."""
    if isinstance(value, datetime):
        return value
    if hasattr(value, "year") and not isinstance(value, str):
        return datetime(value.year, value.month, value.day)
    text = str(value)
    return datetime.fromisoformat(text if len(text) > 10 else text + " 00:00:00")
