"""Alembic environment: runs against the connection handed in by shared.storage.migrate,
or against DATABASE_URL when called through the alembic command line."""

from alembic import context
from sqlalchemy import Connection

from shared.core.schema import metadata
from shared.core.settings import load_settings
from shared.storage import make_engine

config = context.config


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=connection.dialect.name == "sqlite",
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = make_engine(load_settings().resolved_database_url)
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()
