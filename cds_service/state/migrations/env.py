"""Alembic environment: always run by ``cds_service.state.migrate`` on a connection it
opened (and, on SQLite and PostgreSQL, locked), never from an ``alembic.ini``."""

from __future__ import annotations

from alembic import context

from cds_service.state.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
