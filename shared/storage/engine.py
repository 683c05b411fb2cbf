"""Storage: engines, write transactions and migrations, the same calls on every database.

Each database's settings (pragmas, pool options) come from its Dialect
(shared/storage/sqlite.py, postgresql.py). Write transactions take SQLite's write lock
at BEGIN, so two processes never deadlock on a lock upgrade.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from shared.storage.dialects import dialect_for

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def make_engine(url: str, *, pool_size: int = 5, **kwargs: Any) -> Engine:
    """An Engine for `url` with its database's settings (SQLite: folder created, WAL,
    BEGIN IMMEDIATE for writes; PostgreSQL: no JIT, a pool that checks connections)."""
    return dialect_for(url).make_engine(url, pool_size=pool_size, **kwargs)


def write_transaction(engine: Engine, *, memory_sorts: bool = False) -> Any:
    """`engine.begin()` that takes SQLite's write lock at BEGIN.

    `memory_sorts` keeps SQLite's sorter and temporary tables in memory for this
    transaction only (the rollup build of one day: about twice as fast). Queries keep
    the default, so a large raw query spills to disk instead of growing the process."""
    conn = engine.connect()
    conn.info["write"] = True
    return _WriteTx(conn, memory_sorts)


class _WriteTx:
    def __init__(self, conn: Connection, memory_sorts: bool = False) -> None:
        self.conn = conn
        self.memory_sorts = memory_sorts

    def _memory_sorts(self, on: bool) -> None:
        dbapi = self.conn.connection.dbapi_connection
        assert dbapi is not None
        dialect_for(self.conn).set_memory_sorts(dbapi, on)

    def __enter__(self) -> Connection:
        if self.memory_sorts:
            self._memory_sorts(True)
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
                    self._memory_sorts(False)
            self.conn.close()


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
