"""The ledger's tables, in the goalwatch store beside the metrics (``data.store``'s metadata).

``alerting.ledger`` reads and writes them; nothing else does (the benchmarks clear them).
"""

from __future__ import annotations

import sqlalchemy as sa

from goalwatch.data.store import _meta

__all__ = ["alert_heartbeats", "alert_intents", "alert_messages", "alert_silences", "alert_state", "alert_transitions"]

alert_state = sa.Table(
    "alert_state",
    _meta,
    sa.Column("goal", sa.String(64), primary_key=True),
    sa.Column("period_start", sa.Date, primary_key=True),
    sa.Column("segment", sa.String(200), primary_key=True),  # "" for the goal's total
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("severity", sa.String(16), nullable=True),
    sa.Column("message_id", sa.Integer, nullable=True),
    sa.Column("last_notified", sa.Date, nullable=True),
    sa.Column("silenced", sa.Boolean, nullable=False, default=False),
    sa.Column("as_of", sa.Date, nullable=False),
)
alert_transitions = sa.Table(
    "alert_transitions",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("goal", sa.String(64), nullable=False, index=True),
    sa.Column("period_start", sa.Date, nullable=False),
    sa.Column("segment", sa.String(200), nullable=False),
    sa.Column("from_status", sa.String(32), nullable=True),
    sa.Column("to_status", sa.String(32), nullable=False),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("run_id", sa.String(250), nullable=True),
    sa.Column("silenced", sa.Boolean, nullable=False, default=False),
)
alert_messages = sa.Table(
    "alert_messages",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("channel", sa.String(128), nullable=False),
    sa.Column("channel_id", sa.String(64), nullable=True),
    sa.Column("ts", sa.String(64), nullable=True),
    sa.Column("parent_id", sa.Integer, nullable=True),
    sa.Column("key", sa.String(300), nullable=False),
)
alert_intents = sa.Table(
    "alert_intents",
    _meta,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("seq", sa.Integer, nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),  # post | update | upload
    sa.Column("message_id", sa.Integer, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("key", sa.String(300), nullable=False),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("state", sa.String(16), nullable=False, default="pending"),  # pending | sent | dropped
)
alert_heartbeats = sa.Table(
    "alert_heartbeats",
    _meta,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("moment", sa.DateTime(timezone=True), nullable=False),
    sa.Column("run_id", sa.String(250), nullable=True),
)
alert_silences = sa.Table(
    "alert_silences",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("goal", sa.String(64), nullable=False),
    sa.Column("segment", sa.String(200), nullable=True),
    sa.Column("until", sa.Date, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
)
