"""Alembic environment for the audit store.

The store runs migrations itself on open, passing its own connection (already inside a
transaction that holds the write lock) through ``config.attributes["connection"]``. Run
from the command line (``alembic -c screening/audit/alembic.ini upgrade head``) it connects
to ``SCREENING_DATABASE_URL`` or the default SQLite file.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from screening.audit.database import database_url
from screening.audit.schema import metadata

config = context.config
target_metadata = metadata


def run_migrations_online() -> None:
    """Migrate over the store's connection, or over a fresh one from the database URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(database_url())
    with engine.begin() as own_connection:
        context.configure(connection=own_connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
