"""Storage: which Dialect an engine, a connection or a URL speaks."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine

from shared.storage.base import Dialect
from shared.storage.postgresql import PostgreSQL
from shared.storage.sqlite import SQLite

_DIALECTS: dict[str, Dialect] = {d.name: d for d in (SQLite(), PostgreSQL())}


def dialect_for(bind: Engine | Connection | URL | str) -> Dialect:
    """The Dialect of an engine, a connection, or a database URL."""
    if isinstance(bind, Engine | Connection):
        name = bind.dialect.name
    else:
        name = sa.engine.make_url(bind).get_backend_name()
    try:
        return _DIALECTS[name]
    except KeyError:
        raise NotImplementedError(f"no storage dialect for {name!r} databases") from None
