"""Storage: a time limit on the read queries a request runs, on every backend.

A report over a long period with fine buckets or a slow filter must not hold a worker
(and its memory) for minutes: the attack run kept two beacon workers busy for 2.5
minutes at 1.2-1.9 GB each. `time_limit(conn, seconds)` stops whatever the connection
runs after `seconds` and raises `QueryTimeout`, which the Stats API answers with 503
and the dashboard shows as a message.

PostgreSQL: `statement_timeout`, set local to the connection's current transaction, so
it ends with the read and never reaches the writer or a migration on a pooled
connection. SQLite: a progress handler, called every few thousand virtual-machine steps,
interrupts the statement once the deadline has passed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

_PG_QUERY_CANCELED = "57014"
_SQLITE_STEPS_PER_CHECK = 10_000


class QueryTimeout(Exception):  # noqa: N818 - a condition, not a programming error
    """A read took longer than its limit and was stopped."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the query took longer than {seconds:g} s and was stopped: choose a "
                         "shorter period, a longer interval or fewer filters")
        self.seconds = seconds


@contextmanager
def time_limit(conn: Connection, seconds: float) -> Iterator[None]:
    """Within the block, statements on `conn` are stopped after `seconds` (0 = no limit)."""
    if seconds <= 0:
        yield
        return
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT set_config('statement_timeout', :ms, true)"),
                     {"ms": str(max(1, round(seconds * 1000)))})
        with _timeouts_raised(seconds):
            yield
        return
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    dbapi.set_progress_handler(_past(time.monotonic() + seconds), _SQLITE_STEPS_PER_CHECK)
    try:
        with _timeouts_raised(seconds):
            yield
    finally:
        dbapi.set_progress_handler(None, 0)


def _past(deadline: float) -> Callable[[], int]:
    # A non-zero answer makes SQLite interrupt the running statement.
    return lambda: int(time.monotonic() > deadline)


@contextmanager
def _timeouts_raised(seconds: float) -> Iterator[None]:
    try:
        yield
    except sa.exc.DBAPIError as exc:
        if _is_timeout(exc.orig):
            raise QueryTimeout(seconds) from None
        raise


def _is_timeout(error: Any) -> bool:
    return (getattr(error, "sqlstate", None) == _PG_QUERY_CANCELED
            or getattr(error, "sqlite_errorname", None) == "SQLITE_INTERRUPT")
