"""Storage: SQLite, the embedded default (one file, one writer at a time).

WAL lets readers run beside the writer; `BEGIN IMMEDIATE` takes the write lock up front
for write transactions; DATETIME values are the text SQLAlchemy writes
('YYYY-MM-DD HH:MM:SS.ffffff'), so rows written through the driver read back the same.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.sql.elements import ColumnElement

from shared.core.records import sqlite_time_text
from shared.storage import arrow_read, sqlite_regexp
from shared.storage.base import Dialect, offset_case

_FORMATS = {"minute": "%Y-%m-%d %H:%M:00", "hour": "%Y-%m-%d %H:00:00", "day": "%Y-%m-%d"}


class SQLite(Dialect):
    name = "sqlite"
    title = "SQLite"
    mark = "?"

    def make_engine(self, url: str, *, pool_size: int, **kwargs: Any) -> Engine:
        database = sa.engine.make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                                  **kwargs)

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy, not the driver, decide when transactions begin (see below).
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
            # After SQLAlchemy's own connect hook: replaces its backtracking `regexp`.
            sqlite_regexp.install(dbapi_conn)

        @sa.event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # IMMEDIATE takes the write lock up front: a read-then-write transaction can
            # then never fail with "database is locked" half-way, it waits on
            # busy_timeout instead.
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write") else "BEGIN")

        return engine

    def database_file(self, url: str | URL) -> str | None:
        return sa.engine.make_url(url).database or ""

    def set_memory_sorts(self, dbapi_conn: Any, on: bool) -> None:
        # On the driver connection, outside any transaction: SQLite refuses to change it
        # inside one once a temporary table exists.
        dbapi_conn.execute(f"PRAGMA temp_store={'MEMORY' if on else 'DEFAULT'}")

    def grow_page_cache(self, conn: Connection) -> None:
        conn.exec_driver_sql("PRAGMA cache_size=-65536")

    # serialize_writers: BEGIN IMMEDIATE already makes writers take turns.
    # refresh_statistics: SQLite plans from its indexes without statistics.

    def insert(self, table: sa.Table) -> Any:
        return sqlite.insert(table)

    def time_value(self, ts: datetime) -> Any:
        return sqlite_time_text(ts)

    def time_values(self, ts: Any) -> list[Any]:
        # A datetime64[us] array's text is ISO with microseconds; no numpy import here,
        # so that the beacon (which loads this module) never loads numpy.
        return [text.replace("T", " ") for text in ts.astype(str).tolist()]

    def read_time(self, value: Any) -> datetime:
        return datetime.fromisoformat(value)      # the driver returns the stored text

    def append_events(self, conn: Connection, rows: Sequence[tuple[Any, ...]],
                      columns: Sequence[str]) -> int:
        result = conn.exec_driver_sql(
            f"INSERT INTO events ({', '.join(columns)}) "  # noqa: S608 - fixed names
            f"VALUES ({', '.join(['?'] * len(columns))}) ON CONFLICT (uid) DO NOTHING",
            list(rows))
        return int(result.rowcount)      # executemany: the rows inserted, all statements

    def arrow_batches(self, engine: Engine, stmt: sa.Select[Any],
                      batch_rows: int) -> Iterator[Any]:
        """ADBC's SQLite driver, in a process of its own (`sqlite_arrow_reader`: two
        SQLite libraries in one process corrupt a database), on its own connection to
        the file (one SELECT: one consistent snapshot under WAL); the product's own
        connection where the statement calls REGEXP (a Python function ADBC's
        connection lacks) or the database is in memory."""
        path = self.database_file(engine.url)
        wrapped, nullable = arrow_read.nullable_as_pairs(stmt)
        sql, params = arrow_read.driver_sql(wrapped, engine.dialect)
        if not path or path == ":memory:" or " REGEXP " in sql:
            yield from self._python_batches(engine, stmt, batch_rows)
            return
        yield from _read_in_child(path, sql, list(params), batch_rows, nullable)

    def _python_batches(self, engine: Engine, stmt: sa.Select[Any],
                        batch_rows: int) -> Iterator[Any]:
        sql, params = arrow_read.driver_sql(stmt, engine.dialect)
        names = [c.name for c in stmt.selected_columns]
        with engine.connect() as conn:
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.execute(sql, params)
                yield from arrow_read.python_batches(cursor, names, batch_rows)
            finally:
                cursor.close()

    def visitor_sessions(self, conn: Connection, site_id: int,
                         visitor_ids: Sequence[int]) -> Iterable[tuple[Any, ...]]:
        rows: Iterable[tuple[Any, ...]] = conn.exec_driver_sql(
            "SELECT visitor_id, session_id, last_seen FROM visitor_sessions "  # noqa: S608
            f"WHERE site_id = ? AND visitor_id IN ({', '.join('?' * len(visitor_ids))})",
            (site_id, *visitor_ids))
        return rows

    def local_text(self, ts: Any, unit: str,
                   segments: Sequence[tuple[datetime, int]]) -> ColumnElement[Any]:
        # SQLite knows no time zones: strftime's modifier adds the offset ('+3600 seconds').
        return sa.func.strftime(_FORMATS[unit], ts, offset_case(ts, segments, True))

    def text_as_date(self, text: Any) -> ColumnElement[Any]:
        return sa.type_coerce(text, sa.Date)       # SQLite stores dates as that text

    def microseconds_between(self, first: Any, last: Any) -> Any:
        # Not julianday(): SQLite's date functions keep whole milliseconds, rounding each
        # time first (a duration came out 1 ms off PostgreSQL's). Whole seconds from the
        # text's 'YYYY-MM-DD HH:MM:SS' part, plus its microsecond digits.
        return ((_whole_seconds(last) - _whole_seconds(first)) * 1_000_000
                + _microseconds(last) - _microseconds(first))

    def sortable_time_text(self, ts: Any) -> Any:
        return sa.cast(ts, sa.String)              # stored as 'YYYY-MM-DD HH:MM:SS.ffffff'

    def zero_padded(self, number: Any, width: int) -> Any:
        return sa.func.printf(f"%0{width}d", number)

    # bytewise: SQLite compares text BINARY already.


def _whole_seconds(ts: Any) -> Any:
    return sa.cast(sa.func.strftime("%s", sa.func.substr(ts, 1, 19)), sa.BigInteger)


def _microseconds(ts: Any) -> Any:
    """The microsecond digits of a stored time ('.ffffff'; padded: fewer digits or none)."""
    return sa.cast(sa.func.substr(sa.cast(ts, sa.String) + "000000", 21, 6), sa.BigInteger)


def _read_in_child(path: str, sql: str, params: list[Any], batch_rows: int,
                   nullable: list[str]) -> Iterator[Any]:
    import pyarrow as pa

    job = json.dumps({"path": path, "sql": sql, "params": params, "batch_rows": batch_rows})
    child = subprocess.Popen([sys.executable, "-m", "shared.storage.sqlite_arrow_reader"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    assert child.stdin is not None and child.stdout is not None and child.stderr is not None
    try:
        child.stdin.write(job.encode())
        child.stdin.close()
        try:
            for batch in pa.ipc.open_stream(child.stdout):
                yield arrow_read.restore_nulls(batch, nullable)
        except pa.ArrowInvalid:
            pass        # no stream at all: the child failed before it began; said below
        if child.wait() != 0:
            lines = child.stderr.read().decode(errors="replace").strip().splitlines()
            raise sa.exc.OperationalError(sql[:80], None,
                                          Exception(lines[-1] if lines else "reader failed"))
    finally:
        if child.poll() is None:    # the caller stopped early (a closed pipe, an error)
            child.kill()
            child.wait()
        child.stdout.close()
        child.stderr.close()
