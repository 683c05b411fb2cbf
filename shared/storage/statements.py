"""Storage: statements every stage uses, written once through the Dialect's INSERT."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from shared.storage.dialects import dialect_for


def insert_ignoring_duplicates(conn: Connection, table: sa.Table,
                               rows: Sequence[Mapping[str, Any]],
                               conflict_cols: Sequence[str]) -> None:
    """executemany INSERT that skips rows conflicting on `conflict_cols`."""
    if not rows:
        return
    stmt = dialect_for(conn).insert(table).on_conflict_do_nothing(index_elements=conflict_cols)
    conn.execute(stmt, list(rows))


def upsert_add(conn: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]],
               key_cols: Sequence[str], add_col: str) -> None:
    """INSERT rows, or add `add_col` to the stored value on a key conflict."""
    if not rows:
        return
    stmt = dialect_for(conn).insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(key_cols),
        set_={add_col: table.c[add_col] + stmt.excluded[add_col]},
    )
    conn.execute(stmt, list(rows))
