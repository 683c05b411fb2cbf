"""The clock: what time it is, and which local day an instant falls on.

The database stores naive UTC datetimes; every "now" in the product comes from
`utc_now` (or from a `now` argument, so that tests choose the time), and every local
day from the site's time zone through the helpers below.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo


def utc_now() -> datetime:
    """Now, as the naive UTC datetime the database stores."""
    return datetime.now(UTC).replace(tzinfo=None)


_UTC = ZoneInfo("UTC")


def to_local(utc_naive: datetime, tz: ZoneInfo) -> datetime:
    """Naive UTC -> naive local wall-clock time."""
    return utc_naive.replace(tzinfo=_UTC).astimezone(tz).replace(tzinfo=None)


def to_utc(local_naive: datetime, tz: ZoneInfo) -> datetime:
    """Naive local wall-clock -> naive UTC (the earlier instant when ambiguous)."""
    return local_naive.replace(tzinfo=tz).astimezone(_UTC).replace(tzinfo=None)


def local_midnight_utc(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which local `day` begins (handles days starting at 01:00)."""
    start = to_utc(datetime(day.year, day.month, day.day), tz)
    # A DST gap at midnight maps 00:00 forward; step back while still on `day`.
    while to_local(start - timedelta(minutes=30), tz).date() == day:
        start -= timedelta(minutes=30)
    return start


def local_day(utc_naive: datetime, tz: ZoneInfo) -> date:
    """The local day (in `tz`) of a naive UTC instant."""
    return to_local(utc_naive, tz).date()
