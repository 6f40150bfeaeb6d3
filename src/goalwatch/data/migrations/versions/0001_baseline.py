"""Baseline: the schema as released before there were revisions (``create_all``).

On an empty database it creates every table. A store made before revisions has some of these
tables (the ledger's appeared once the ledger was first used), perhaps without the nullable
columns and indexes later releases added (``metric_values.hours``, ``ingests.columns``): it is
adopted as it is, the missing tables, nullable columns and indexes added, its rows untouched.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _tables(meta: sa.MetaData) -> list[sa.Table]:
    """The tables as the last release without revisions defined them."""
    return _metric_tables(meta) + _ledger_tables(meta)


def _metric_tables(meta: sa.MetaData) -> list[sa.Table]:
    text = sa.Text
    return [
        sa.Table(
            "metric_values",
            meta,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("metric", sa.String(64), nullable=False, index=True),
            sa.Column("day", sa.Date, nullable=True),
            sa.Column("segment", text, nullable=False),
            sa.Column("value", sa.Float, nullable=True),
            sa.Column("hours", sa.Integer, nullable=True),
        ),
        sa.Table(
            "ingests",
            meta,
            sa.Column("metric", sa.String(64), primary_key=True),
            sa.Column("as_of", sa.Date, nullable=False),
            sa.Column("rows", sa.Integer, nullable=False),
            sa.Column("run_id", sa.String(250), nullable=True),
            sa.Column("columns", text, nullable=True),
        ),
    ]


def _ledger_tables(meta: sa.MetaData) -> list[sa.Table]:
    text = sa.Text
    return [
        sa.Table(
            "alert_state",
            meta,
            sa.Column("goal", sa.String(64), primary_key=True),
            sa.Column("period_start", sa.Date, primary_key=True),
            sa.Column("segment", sa.String(200), primary_key=True),
            sa.Column("status", sa.String(16), nullable=False),
            sa.Column("severity", sa.String(16), nullable=True),
            sa.Column("message_id", sa.Integer, nullable=True),
            sa.Column("last_notified", sa.Date, nullable=True),
            sa.Column("silenced", sa.Boolean, nullable=False),
            sa.Column("as_of", sa.Date, nullable=False),
        ),
        sa.Table(
            "alert_transitions",
            meta,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("goal", sa.String(64), nullable=False, index=True),
            sa.Column("period_start", sa.Date, nullable=False),
            sa.Column("segment", sa.String(200), nullable=False),
            sa.Column("from_status", sa.String(32), nullable=True),
            sa.Column("to_status", sa.String(32), nullable=False),
            sa.Column("as_of", sa.Date, nullable=False),
            sa.Column("run_id", sa.String(250), nullable=True),
            sa.Column("silenced", sa.Boolean, nullable=False),
        ),
        sa.Table(
            "alert_messages",
            meta,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("channel", sa.String(128), nullable=False),
            sa.Column("channel_id", sa.String(64), nullable=True),
            sa.Column("ts", sa.String(64), nullable=True),
            sa.Column("parent_id", sa.Integer, nullable=True),
            sa.Column("key", sa.String(300), nullable=False),
        ),
        sa.Table(
            "alert_intents",
            meta,
            sa.Column("id", sa.String(32), primary_key=True),
            sa.Column("seq", sa.Integer, nullable=False, index=True),
            sa.Column("kind", sa.String(16), nullable=False),
            sa.Column("message_id", sa.Integer, nullable=False),
            sa.Column("payload", text, nullable=False),
            sa.Column("key", sa.String(300), nullable=False),
            sa.Column("as_of", sa.Date, nullable=False),
            sa.Column("attempts", sa.Integer, nullable=False),
            sa.Column("state", sa.String(16), nullable=False),
        ),
        sa.Table(
            "alert_heartbeats",
            meta,
            sa.Column("name", sa.String(64), primary_key=True),
            sa.Column("moment", sa.DateTime(timezone=True), nullable=False),
            sa.Column("run_id", sa.String(250), nullable=True),
        ),
        sa.Table(
            "alert_silences",
            meta,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("goal", sa.String(64), nullable=False),
            sa.Column("segment", sa.String(200), nullable=True),
            sa.Column("until", sa.Date, nullable=False),
            sa.Column("reason", text, nullable=False),
        ),
    ]


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    for table in _tables(sa.MetaData()):
        if not inspector.has_table(table.name):
            table.create(bind)
            continue
        have = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in have and column.nullable:
                op.add_column(table.name, sa.Column(column.name, column.type, nullable=True))
        indexed = {i["name"] for i in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in indexed:
                index.create(bind)


def downgrade() -> None:
    raise NotImplementedError("the goalwatch store migrates forward only")
