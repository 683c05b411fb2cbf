"""Storage: engines with the right pragmas, migrations, and the events write path.

SQLite gets WAL (readers never block the writer), a busy timeout, and
`BEGIN IMMEDIATE` for write transactions so two processes never deadlock on a lock
upgrade. Inserts into `events` skip rows whose `uid` is already stored, so replaying
the spool after a crash never duplicates an event.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from shared import schema
from shared.records import EVENT_COLUMNS

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def make_engine(url: str, *, pool_size: int = 5, **kwargs: Any) -> Engine:
    """An Engine for `url`; SQLite files get their folder created and WAL mode."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url, **kwargs)
    if url.startswith("postgresql"):
        # No JIT: it compiles our report queries for 0.3-0.6 s each, longer than most of
        # them take to run (measured on the 10M-event benchmark).
        args = dict(kwargs.pop("connect_args", {}))
        args["options"] = (args.get("options", "") + " -c jit=off").strip()
        kwargs["connect_args"] = args
    return sa.create_engine(url, pool_size=pool_size, max_overflow=10, pool_pre_ping=True,
                            **kwargs)


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
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

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # IMMEDIATE takes the write lock up front: a read-then-write transaction can then
        # never fail with "database is locked" half-way, it waits on busy_timeout instead.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write") else "BEGIN")

    return engine


def write_transaction(engine: Engine, *, memory_sorts: bool = False) -> Any:
    """`engine.begin()` that takes SQLite's write lock at BEGIN.

    `memory_sorts` keeps SQLite's sorter and temporary tables in memory for this
    transaction only (the rollup build of one day: about twice as fast). Queries keep
    the default, so a large raw query spills to disk instead of growing the process."""
    conn = engine.connect()
    conn.info["write"] = True
    return _WriteTx(conn, memory_sorts and conn.dialect.name == "sqlite")


class _WriteTx:
    def __init__(self, conn: Connection, memory_sorts: bool = False) -> None:
        self.conn = conn
        self.memory_sorts = memory_sorts

    def _temp_store(self, mode: str) -> None:
        # On the driver connection, outside any transaction: SQLite refuses to change it
        # inside one once a temporary table exists.
        dbapi = self.conn.connection.dbapi_connection
        assert dbapi is not None
        dbapi.execute(f"PRAGMA temp_store={mode}")

    def __enter__(self) -> Connection:
        if self.memory_sorts:
            self._temp_store("MEMORY")
        self._tx = self.conn.begin()
        return self.conn

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if exc_type is None:
                self._tx.commit()
            else:
                self._tx.rollback()
        finally:
            # A connection lost in commit refuses even this until rolled back: let the
            # original error (the outage) be what the caller sees.
            with contextlib.suppress(sa.exc.InvalidRequestError):
                self.conn.info.pop("write", None)
            if self.memory_sorts:
                with contextlib.suppress(Exception):
                    self._temp_store("DEFAULT")
            self.conn.close()


def insert_ignoring_duplicates(conn: Connection, table: sa.Table,
                               rows: Sequence[Mapping[str, Any]],
                               conflict_cols: Sequence[str]) -> None:
    """executemany INSERT that skips rows conflicting on `conflict_cols`."""
    if not rows:
        return
    dialect = conn.dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(table).on_conflict_do_nothing(index_elements=conflict_cols)
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).on_conflict_do_nothing(index_elements=conflict_cols)
    else:  # pragma: no cover - other databases are not supported yet
        raise NotImplementedError(dialect)
    conn.execute(stmt, list(rows))


def upsert_add(conn: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]],
               key_cols: Sequence[str], add_col: str) -> None:
    """INSERT rows, or add `add_col` to the stored value on a key conflict."""
    if not rows:
        return
    module: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = module.insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(key_cols),
        set_={add_col: table.c[add_col] + stmt.excluded[add_col]},
    )
    conn.execute(stmt, list(rows))


def write_events(conn: Connection, rows: Iterable[Mapping[str, Any]]) -> None:
    """Append event rows; a row whose uid is already stored is skipped (idempotent)."""
    insert_ignoring_duplicates(conn, schema.events, list(rows), ["uid"])


def append_event_tuples(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """`write_events` for the hot path: tuples in `EVENT_COLUMNS` order (`Event.to_tuple`)
    go straight to the driver - SQLAlchemy's per-row parameter processing would cost
    more than the insert itself. Rows whose uid is stored are skipped."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        _copy_events(conn, rows)
        return
    conn.exec_driver_sql(
        f"INSERT INTO events ({_EVENT_COLUMN_LIST}) "  # noqa: S608 - fixed names
        f"VALUES ({', '.join(['?'] * len(EVENT_COLUMNS))}) ON CONFLICT (uid) DO NOTHING",
        list(rows))


_EVENT_COLUMN_LIST = ", ".join(EVENT_COLUMNS)


def _copy_events(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """PostgreSQL: COPY into a per-connection staging table, then one INSERT ... SELECT
    that skips stored uids (COPY itself cannot skip conflicts). Measured in process per
    event: 12 us of CPU for executemany, 5 us this way. The staging table empties at
    every commit (a second call in one transaction offers the first call's rows again,
    and the uid check skips them); it is created in the same transaction when missing,
    so a rolled-back batch (which drops a table it created) never leaves the next one
    without it."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS events_staging ON COMMIT DELETE ROWS AS "
            f"SELECT {_EVENT_COLUMN_LIST} FROM events WITH NO DATA")  # noqa: S608
        with cursor.copy(f"COPY events_staging ({_EVENT_COLUMN_LIST}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO events ({_EVENT_COLUMN_LIST}) SELECT {_EVENT_COLUMN_LIST} "  # noqa: S608
            "FROM events_staging ON CONFLICT (uid) DO NOTHING")
    finally:
        cursor.close()


def migrate(engine_or_url: Engine | str, revision: str = "heads") -> None:
    """Apply the Alembic migrations up to `revision` (all branches by default)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if isinstance(engine_or_url, str):
        engine = make_engine(engine_or_url)
        owns = True
    else:
        engine, owns = engine_or_url, False
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    finally:
        if owns:
            engine.dispose()


def current_revisions(engine: Engine) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())

