"""The goalwatch store's schema, as Alembic revisions (``versions/``), and what runs them.

``data.store.Store`` calls :func:`upgrade` when a store's engine is first made, so every task and
command works on a store at the newest revision. The revision a store is at is kept in its own
table, ``goalwatch_alembic_version``, never Alembic's default ``alembic_version``: a store that
shares a database with Airflow leaves Airflow's migrations alone. A store made before there were
revisions (tables from ``create_all``, perhaps without columns later releases added) is adopted by
the baseline revision, its rows kept. Two tasks that start at once take turns (a lock: ``BEGIN
IMMEDIATE`` on SQLite, an advisory lock on Postgres) and the second finds the work done.

A new revision is a file in ``versions/``: ``NNNN_<what>.py`` with ``revision = "NNNN"`` and
``down_revision`` the one before, written with Alembic's ``op``, and ``alerting.tables`` or
``data.store`` changed to match (a test compares the migrated schema with them). goalwatch migrates
forward only.
"""

from goalwatch.data.migrations.runner import VERSION_TABLE, current, head, upgrade

__all__ = ["VERSION_TABLE", "current", "head", "upgrade"]
