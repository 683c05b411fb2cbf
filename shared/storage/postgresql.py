"""Storage: PostgreSQL, the production database (several writers, a planner to steer)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.elements import ColumnElement

from shared.storage import arrow_read
from shared.storage.base import Dialect, offset_case

_FORMATS = {"minute": "YYYY-MM-DD HH24:MI:00", "hour": "YYYY-MM-DD HH24:00:00",
            "day": "YYYY-MM-DD"}
_WRITER_LOCK = 72616      # the advisory lock every process's writer takes per transaction


class PostgreSQL(Dialect):
    name = "postgresql"
    title = "PostgreSQL"
    mark = "%s"
    concurrent_writers = True
    lateral_lookups = True
    joins_period_rows = True
    cheap_windows = True

    def make_engine(self, url: str, *, pool_size: int, **kwargs: Any) -> Engine:
        # No JIT: it compiles our report queries for 0.3-0.6 s each, longer than most of
        # them take to run (measured on the 10M-event benchmark).
        args = dict(kwargs.pop("connect_args", {}))
        args["options"] = (args.get("options", "") + " -c jit=off").strip()
        kwargs["connect_args"] = args
        return sa.create_engine(url, pool_size=pool_size, max_overflow=10, pool_pre_ping=True,
                                **kwargs)

    def serialize_writers(self, conn: Connection) -> None:
        conn.execute(sa.text(f"SELECT pg_advisory_xact_lock({_WRITER_LOCK})"))

    def refresh_statistics(self, engine: Engine) -> None:
        # Until autovacuum gets to it the planner believes the tables are empty and picks
        # nested loops that take minutes.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")

    def before_reading_fresh_rows(self, conn: Connection) -> None:
        # The planner's statistics may not know rows just written (a new site, the first
        # build after an upgrade): a nested loop guessed from "1 row" would compare every
        # visit with every group.
        conn.exec_driver_sql("SET LOCAL enable_nestloop = off")

    def insert(self, table: sa.Table) -> Any:
        return postgresql.insert(table)

    def append_events(self, conn: Connection, rows: Sequence[tuple[Any, ...]],
                      columns: Sequence[str]) -> int:
        """COPY into a per-connection staging table, then one INSERT ... SELECT that skips
        stored uids (COPY itself cannot skip conflicts). Measured in process per event:
        12 us of CPU for executemany, 5 us this way. The staging table empties at every
        commit (a second call in one transaction offers the first call's rows again, and
        the uid check skips them); it is created in the same transaction when missing, so
        a rolled-back batch (which drops a table it created) never leaves the next one
        without it."""
        names = ", ".join(columns)
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(
                "CREATE TEMP TABLE IF NOT EXISTS events_staging ON COMMIT DELETE ROWS AS "
                f"SELECT {names} FROM events WITH NO DATA")  # noqa: S608
            with cursor.copy(f"COPY events_staging ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(
                f"INSERT INTO events ({names}) SELECT {names} "  # noqa: S608
                "FROM events_staging ON CONFLICT (uid) DO NOTHING")
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def bulk_load_events(self, conn: Connection, rows: Sequence[tuple[Any, ...]],
                         columns: Sequence[str]) -> None:
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY events ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.close()

    def arrow_batches(self, engine: Engine, stmt: sa.Select[Any],
                      batch_rows: int) -> Iterator[Any]:
        """ADBC's PostgreSQL driver, which reads the result with COPY ... TO STDOUT in
        binary and hands it over in batches of about 16 MB. COPY takes no parameters:
        the statement's values are bound on the client by psycopg's own quoting
        (`ClientCursor.mogrify`), never pasted as text. `batch_rows` is left to the
        caller's re-batching (the driver batches by bytes)."""
        import adbc_driver_postgresql.dbapi
        import psycopg

        sql, params = arrow_read.driver_sql(stmt, engine.dialect)
        with engine.connect() as conn:
            driver = conn.connection.driver_connection
            literal = psycopg.ClientCursor(driver).mogrify(sql, params)  # type: ignore[arg-type]
        uri = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        with adbc_driver_postgresql.dbapi.connect(uri) as adbc, adbc.cursor() as cursor:
            cursor.execute(literal)
            yield from cursor.fetch_record_batch()

    def visitor_sessions(self, conn: Connection, site_id: int,
                         visitor_ids: Sequence[int]) -> Iterable[tuple[Any, ...]]:
        # One array parameter: the same statement for any batch.
        rows: Iterable[tuple[Any, ...]] = conn.exec_driver_sql(
            "SELECT visitor_id, session_id, last_seen FROM visitor_sessions "
            "WHERE site_id = %s AND visitor_id = ANY(%s::bigint[])", (site_id, list(visitor_ids)))
        return rows

    def local_text(self, ts: Any, unit: str,
                   segments: Sequence[tuple[datetime, int]]) -> ColumnElement[Any]:
        local = ts + offset_case(ts, segments, False) * sa.literal_column("interval '1 second'")
        return sa.func.to_char(local, _FORMATS[unit])

    def text_as_date(self, text: Any) -> ColumnElement[Any]:
        return sa.cast(text, sa.Date)

    def microseconds_between(self, first: Any, last: Any) -> Any:
        # EXTRACT gives a numeric (exact) since PostgreSQL 14.
        return sa.cast(sa.extract("epoch", last - first) * 1_000_000, sa.BigInteger)

    def sortable_time_text(self, ts: Any) -> Any:
        return sa.func.to_char(ts, "YYYY-MM-DD HH24:MI:SS.US")

    def zero_padded(self, number: Any, width: int) -> Any:
        return sa.func.lpad(sa.cast(number, sa.String), width, "0")

    def bytewise(self, text: Any) -> Any:
        return text.collate("C")
