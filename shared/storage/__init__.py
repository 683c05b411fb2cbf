"""Storage: how the product talks to its database, and the one place where databases differ.

Engines, write transactions and migrations (engine.py); the Dialect interface (base.py)
with one module per database (sqlite.py, postgresql.py), picked by `dialect_for`;
statements every stage shares (statements.py). Code outside this package asks the
Dialect and never compares dialect names (tests/test_layering.py checks it).
"""

from shared.storage.base import Dialect
from shared.storage.dialects import dialect_for
from shared.storage.engine import (
    MIGRATIONS_DIR,
    current_revisions,
    make_engine,
    migrate,
    write_transaction,
)
from shared.storage.statements import insert_ignoring_duplicates, upsert_add

__all__ = ["MIGRATIONS_DIR", "Dialect", "current_revisions", "dialect_for",
           "insert_ignoring_duplicates", "make_engine", "migrate", "upsert_add",
           "write_transaction"]
