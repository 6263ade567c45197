"""Alembic environment: runs on the connection reelrights hands it (see store.db.migrate)."""

from alembic import context

from reelrights.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
