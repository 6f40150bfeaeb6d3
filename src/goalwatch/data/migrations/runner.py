"""Bring a store's database to the newest revision; called by ``data.store.Store.engine``."""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

import sqlalchemy as sa

__all__ = ["VERSION_TABLE", "current", "head", "upgrade"]

log = logging.getLogger(__name__)

VERSION_TABLE = "goalwatch_alembic_version"
FOLDER = Path(__file__).parent
# The Postgres advisory lock the migrations hold, within their transaction: any constant that
# no other application on the database uses ("goalwatch" in ASCII, folded into 63 bits).
_PG_LOCK = int.from_bytes(b"goalwatch") % (2**63)


@cache
def head() -> str:
    """The newest revision."""
    from alembic.script import ScriptDirectory

    found = ScriptDirectory(str(FOLDER)).get_current_head()
    assert found is not None
    return found


def current(engine: sa.Engine) -> str | None:
    """The revision the store is at (None: made before revisions, or empty)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()


def upgrade(engine: sa.Engine) -> None:
    """Run the revisions the store lacks, in one transaction that holds the migration lock; a
    store already at the newest revision costs one read and takes no lock."""
    if current(engine) == head():
        return
    from alembic import command
    from alembic.config import Config

    migrator = _serialized(engine)
    try:
        with migrator.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})
            config = Config()
            config.set_main_option("script_location", str(FOLDER).replace("%", "%%"))
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    finally:
        if migrator is not engine:
            migrator.dispose()
    log.info("The goalwatch store %s is at revision %s", engine.url, head())


def _serialized(engine: sa.Engine) -> sa.Engine:
    """An engine whose transactions take the database's write lock when they begin. SQLite's
    driver would only begin one before the first INSERT, and run DDL outside it: here the whole
    migration, version check included, is one ``BEGIN IMMEDIATE`` transaction, which a second
    migrating task waits for. Postgres needs nothing more than its advisory lock."""
    if engine.dialect.name != "sqlite":
        return engine
    migrator = sa.create_engine(engine.url, poolclass=sa.pool.NullPool, connect_args={"timeout": 60})

    @sa.event.listens_for(migrator, "connect")
    def _driver_autocommit(dbapi_connection: object, _record: object) -> None:
        dbapi_connection.isolation_level = None  # type: ignore[attr-defined]

    @sa.event.listens_for(migrator, "begin")
    def _begin_immediate(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return migrator
