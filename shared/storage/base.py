"""Storage: the one interface behind which databases differ.

`shared.storage.dialect_for(bind)` answers the `Dialect` of an engine, a connection or a
URL. Every statement, expression or strategy that is not the same on SQLite and
PostgreSQL is a method or a named capability of it, implemented once per database in
`shared/storage/sqlite.py` and `shared/storage/postgresql.py` (a new database is one
more module and one line in shared/storage/dialects.py). Code outside shared/storage
asks the dialect and never compares dialect names; the Alembic migrations keep their
own checks (they describe history, not the running code).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.sql.elements import ColumnElement


class Dialect:
    """What one database does its own way. Subclasses fill in every method."""

    name: str = ""
    title: str = ""                 # for people: "SQLite", "PostgreSQL"
    mark: str = "?"                 # the driver's placeholder in driver-level statements
    # Several writer transactions at once (PostgreSQL): the rollup build runs its parts
    # side by side, each committing on its own. SQLite has one writer at a time.
    concurrent_writers: bool = False
    # The rollup build's planner strategies (see shared.stats.raw.visits): look up one
    # day's visit attributes with LATERAL ... LIMIT 1, and over a period join the
    # period's own rows instead of the events index.
    lateral_lookups: bool = False
    joins_period_rows: bool = False
    # A window over the period's events costs about what a GROUP BY pass costs
    # (PostgreSQL); on SQLite it sorts the events once more (see raw._visit_sums).
    cheap_windows: bool = False

    # --- engines and transactions ----------------------------------------------------------
    def make_engine(self, url: str, *, pool_size: int, **kwargs: Any) -> Engine:
        raise NotImplementedError

    def database_file(self, url: str | URL) -> str | None:
        """The file holding the database ("" or ":memory:" for none), None for a server."""
        return None

    def set_memory_sorts(self, dbapi_conn: Any, on: bool) -> None:
        """Keep sorts and temporary tables in memory (or back to the default)."""

    def grow_page_cache(self, conn: Connection) -> None:
        """A bigger page cache for one long transaction (the rollup build of a day)."""

    def serialize_writers(self, conn: Connection) -> None:
        """Make the writer transactions of every process take turns (session ids agree)."""

    def refresh_statistics(self, engine: Engine) -> None:
        """Refresh the planner's statistics after a bulk load."""

    def before_reading_fresh_rows(self, conn: Connection) -> None:
        """Before a query reads rows this transaction just wrote in bulk."""

    # --- statements ------------------------------------------------------------------------
    def insert(self, table: sa.Table) -> Any:
        """The database's INSERT construct (with on_conflict_do_nothing/do_update)."""
        raise NotImplementedError

    def time_value(self, ts: datetime) -> Any:
        """A naive UTC datetime as the driver takes it for a DATETIME column."""
        return ts

    def time_values(self, ts: Any) -> list[Any]:
        """`time_value` for a numpy datetime64[us] array (bulk loaders)."""
        values: list[Any] = ts.tolist()
        return values

    def read_time(self, value: Any) -> datetime:
        """A DATETIME as the driver returns it from a driver-level query."""
        result: datetime = value
        return result

    def append_events(self, conn: Connection, rows: Sequence[tuple[Any, ...]],
                      columns: Sequence[str]) -> int:
        """Driver-level insert of event tuples; rows whose uid is stored are skipped.
        Returns how many rows were added."""
        raise NotImplementedError

    def bulk_load_events(self, conn: Connection, rows: Sequence[tuple[Any, ...]],
                         columns: Sequence[str]) -> None:
        """The fastest append of event tuples whose uids are new (a bulk loader's)."""
        self.append_events(conn, rows, columns)

    def visitor_sessions(self, conn: Connection, site_id: int,
                         visitor_ids: Sequence[int]) -> Iterable[tuple[Any, ...]]:
        """(visitor_id, session_id, last_seen as the driver returns it) per known visitor."""
        raise NotImplementedError

    # --- reading in bulk -------------------------------------------------------------------
    def arrow_batches(self, engine: Engine, stmt: sa.Select[Any],
                      batch_rows: int) -> Iterator[Any]:
        """The rows of `stmt` as Arrow record batches (columns named as selected, typed
        as the driver reads them; about `batch_rows` rows or fewer each), read in bounded
        memory (see shared.storage.arrow_read)."""
        raise NotImplementedError

    def store_visitor_sessions(self, conn: Connection,
                               rows: Sequence[tuple[int, int, int, datetime]]) -> None:
        """Upsert (site_id, visitor_id, session_id, last_seen) rows through the driver."""
        m = self.mark
        conn.exec_driver_sql(
            "INSERT INTO visitor_sessions (site_id, visitor_id, session_id, last_seen) "
            f"VALUES ({m}, {m}, {m}, {m}) ON CONFLICT (site_id, visitor_id) DO UPDATE "
            "SET session_id = excluded.session_id, last_seen = excluded.last_seen",
            [(site, visitor, session, self.time_value(seen))
             for site, visitor, session, seen in rows])

    # --- SQL expressions of the query model -------------------------------------------------
    def local_text(self, ts: Any, unit: str,
                   segments: Sequence[tuple[datetime, int]]) -> ColumnElement[Any]:
        """The local minute, hour or day of `ts` as text ('YYYY-MM-DD[ HH:MM:00]'), the
        offset from UTC being piecewise constant over `segments` ([(from_utc, seconds)])."""
        raise NotImplementedError

    def text_as_date(self, text: Any) -> ColumnElement[Any]:
        """A 'YYYY-MM-DD' text column as a Date-typed one."""
        raise NotImplementedError

    def microseconds_between(self, first: Any, last: Any) -> Any:
        """(last - first) in whole microseconds, exactly, as an integer (timestamps keep
        microseconds: no rounding of either one first)."""
        raise NotImplementedError

    def sortable_time_text(self, ts: Any) -> Any:
        """`ts` as fixed-width text 'YYYY-MM-DD HH:MM:SS.ffffff' (sorts like the time)."""
        raise NotImplementedError

    def zero_padded(self, number: Any, width: int) -> Any:
        """An integer as text, zero-padded to `width` characters."""
        raise NotImplementedError

    def bytewise(self, text: Any) -> Any:
        """`text` compared byte by byte (no locale collation)."""
        return text


def offset_case(ts: Any, segments: Sequence[tuple[datetime, int]], as_text: bool) -> Any:
    """The UTC offset of `ts` in seconds (or as '+3600 seconds' text): a CASE over the
    instants where the offset changes."""
    def value(seconds: int) -> Any:
        return sa.literal(f"{seconds:+d} seconds") if as_text else sa.literal(seconds)

    if len(segments) == 1:
        return value(segments[0][1])
    whens = [(ts < segments[i + 1][0], value(segments[i][1])) for i in range(len(segments) - 1)]
    return sa.case(*whens, else_=value(segments[-1][1]))
