"""Alembic's environment for the goalwatch store: runs on the connection ``runner.upgrade`` opened
(and locked), inside its transaction, with goalwatch's own version table."""

from alembic import context

from goalwatch.data.migrations.runner import VERSION_TABLE

context.configure(connection=context.config.attributes["connection"], version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
