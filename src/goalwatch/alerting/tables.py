"""The ledger's tables, in the goalwatch store beside the metrics (``data.store``'s metadata), and
the frozen values their rows become (re-exported by ``ledger``).

``alerting.ledger`` reads and writes them; nothing else does (the benchmarks clear them). The
schema itself is made by the store's migrations (``data.migrations``): a change here needs a
revision there, and ``tests/integration/test_store_migrations.py`` fails until both agree.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from goalwatch.core.status import status_label
from goalwatch.data.store import _meta

__all__ = [
    "Intent",
    "Message",
    "Silence",
    "State",
    "alert_counters",
    "alert_deletions",
    "alert_heartbeats",
    "alert_intents",
    "alert_messages",
    "alert_silences",
    "alert_state",
    "alert_transitions",
]

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
    sa.Column("key", sa.String(300), nullable=False, index=True, unique=True),  # one message per key
)
alert_intents = sa.Table(
    "alert_intents",
    _meta,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("seq", sa.Integer, nullable=False, index=True, unique=True),  # from alert_counters
    sa.Column("kind", sa.String(16), nullable=False),  # post | update | upload
    sa.Column("message_id", sa.Integer, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("key", sa.String(300), nullable=False),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("state", sa.String(16), nullable=False, default="pending"),  # pending | sent | dropped | failed
    sa.Column("first_attempt", sa.DateTime(timezone=True), nullable=True),  # UTC
    sa.Column("error", sa.Text, nullable=True),  # the permanent refusal that failed it
    sa.Column("claim", sa.String(300), nullable=True),  # the sender making its call now (revision 0004)
    sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),  # UTC; then another may take it
)
# Named counters, each moved by one atomic UPDATE inside the transaction that uses it:
# ``intent_seq`` numbers the intents; ``plan`` counts planning transactions, and updating it is
# the lock that makes two planners take turns.
alert_counters = sa.Table(
    "alert_counters",
    _meta,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("value", sa.Integer, nullable=False),
)
alert_deletions = sa.Table(
    "alert_deletions",
    _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("message_id", sa.Integer, nullable=True),  # the ledger's message it duplicated, if known
    sa.Column("channel_id", sa.String(64), nullable=False),
    sa.Column("ts", sa.String(64), nullable=False),
    sa.Column("intent_id", sa.String(32), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),  # UTC
    sa.Index("ix_alert_deletions_message", "channel_id", "ts", unique=True),
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


@dataclass(frozen=True)
class State:
    goal: str
    period_start: date
    segment: str
    status: str
    severity: str | None
    message_id: int | None
    last_notified: date | None
    silenced: bool
    as_of: date | None = None  # the newest day this state speaks for

    @property
    def label(self) -> str:
        return status_label(self.status, self.severity)


@dataclass(frozen=True)
class Message:
    id: int
    channel: str
    channel_id: str | None
    ts: str | None
    parent_id: int | None
    key: str


@dataclass(frozen=True)
class Intent:
    id: str
    seq: int
    kind: str
    message_id: int
    payload: dict[str, Any]
    key: str
    as_of: date
    attempts: int
    state: str
    first_attempt: datetime | None = None  # when the first attempt began (UTC)
    error: str | None = None  # why it failed, when state is "failed"
    claim: str | None = None  # the sender making its call now, if any
    claimed_until: datetime | None = None  # when that claim lapses (UTC)


@dataclass(frozen=True)
class Silence:
    id: int
    goal: str
    segment: str | None
    until: date
    reason: str


def utc(moment: datetime | None) -> datetime | None:
    """A stored moment as an aware UTC datetime (SQLite keeps no zone: goalwatch stores UTC)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def intent_of(row: Mapping[str, Any]) -> Intent:
    fields = {c.name for c in alert_intents.columns}
    values = {k: v for k, v in row.items() if k in fields}
    moments = {"first_attempt": utc(row["first_attempt"]), "claimed_until": utc(row["claimed_until"])}
    return Intent(**{**values, "payload": json.loads(row["payload"]), **moments})


def message_of(row: Mapping[str, Any]) -> Message:
    return Message(**{c.name: row[c.name] for c in alert_messages.columns})
