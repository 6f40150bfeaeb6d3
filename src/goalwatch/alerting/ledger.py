"""The alert ledger: what goalwatch has said in Slack, and what it still has to say.

Kept in the goalwatch store (SQLite by default, Postgres in production) beside the metrics:

- ``alert_state``: per goal x period x segment, the current status and severity, the Slack message
  that speaks for it, when it was last notified, and whether a silence held it back;
- ``alert_transitions``: every status change, with its day and run;
- ``alert_messages``: each Slack message goalwatch owns (channel, Slack channel id and ``ts``; a
  thread reply points at its parent);
- ``alert_intents``: each Slack call to make, written *before* it is made. A post carries its
  intent id in the message's metadata, so after a lost response or a killed task the next attempt
  finds the message in the channel and updates it instead of posting again;
- ``alert_silences``: silences added from the command line;
- ``alert_heartbeats``: when an evaluation last succeeded, for the watchdog.

Called by ``alerting.plan`` and ``alerting.notices`` (planning) and ``alerting.delivery`` (sending);
the CLI manages silences.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from goalwatch.alerting.tables import (
    alert_heartbeats,
    alert_intents,
    alert_messages,
    alert_silences,
    alert_state,
    alert_transitions,
)
from goalwatch.core.status import status_label
from goalwatch.data.store import Store

__all__ = ["Intent", "Ledger", "Message", "Silence", "State"]


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


@dataclass(frozen=True)
class Silence:
    id: int
    goal: str
    segment: str | None
    until: date
    reason: str


class Ledger:
    def __init__(self, store: Store | None = None) -> None:
        self.store = store or Store()

    @property
    def engine(self) -> sa.Engine:
        return self.store.engine

    # -- state and transitions ------------------------------------------------------------------

    def states(self, goals: Iterable[tuple[str, date, str]]) -> dict[tuple[str, date, str], State]:
        keys = list(goals)
        out: dict[tuple[str, date, str], State] = {}
        with self.engine.connect() as conn:
            for goal, period_start, segment in keys:
                row = (
                    conn.execute(
                        sa.select(alert_state).where(
                            alert_state.c.goal == goal,
                            alert_state.c.period_start == period_start,
                            alert_state.c.segment == segment,
                        )
                    )
                    .mappings()
                    .first()
                )
                if row:
                    out[(goal, period_start, segment)] = State(
                        goal=goal,
                        period_start=period_start,
                        segment=segment,
                        status=row["status"],
                        severity=row["severity"],
                        message_id=row["message_id"],
                        last_notified=row["last_notified"],
                        silenced=bool(row["silenced"]),
                        as_of=row["as_of"],
                    )
        return out

    def put_state(self, conn: sa.Connection, state: State, *, as_of: date) -> None:
        key = (
            alert_state.c.goal == state.goal,
            alert_state.c.period_start == state.period_start,
            alert_state.c.segment == state.segment,
        )
        values = {
            "status": state.status,
            "severity": state.severity,
            "message_id": state.message_id,
            "last_notified": state.last_notified,
            "silenced": state.silenced,
            "as_of": as_of,
        }
        if conn.execute(sa.update(alert_state).where(*key).values(**values)).rowcount == 0:
            conn.execute(
                alert_state.insert().values(
                    goal=state.goal, period_start=state.period_start, segment=state.segment, **values
                )
            )

    def add_transition(
        self,
        conn: sa.Connection,
        *,
        goal: str,
        period_start: date,
        segment: str,
        before: str | None,
        after: str,
        as_of: date,
        run_id: str | None,
        silenced: bool,
    ) -> None:
        conn.execute(
            alert_transitions.insert().values(
                goal=goal,
                period_start=period_start,
                segment=segment,
                from_status=before,
                to_status=after,
                as_of=as_of,
                run_id=run_id,
                silenced=silenced,
            )
        )

    def transitions(self, goal: str | None = None, *, segment: str = "") -> list[dict[str, Any]]:
        query = (
            sa.select(alert_transitions).where(alert_transitions.c.segment == segment).order_by(alert_transitions.c.id)
        )
        if goal:
            query = query.where(alert_transitions.c.goal == goal)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    # -- messages and intents -------------------------------------------------------------------

    def new_message(self, conn: sa.Connection, *, channel: str, key: str, parent_id: int | None = None) -> int:
        return int(
            conn.execute(
                alert_messages.insert().values(channel=channel, key=key, parent_id=parent_id)
            ).inserted_primary_key[0]
        )

    def post_once(
        self, conn: sa.Connection, *, key: str, channel: str, payloads: list[dict[str, Any]], as_of: date
    ) -> int | None:
        """Plan a message that is said once per ``key`` (a digest, a data issue, an alarm): the first
        payload as a message, the rest continuing in its thread. None if ``key`` was said already."""
        if self.said(conn, key):
            return None
        parent = None
        for n, payload in enumerate(payloads):
            part = key if n == 0 else f"{key}.{n}"
            message_id = self.new_message(conn, channel=channel, key=part, parent_id=parent)
            self.add_intent(conn, kind="post", message_id=message_id, payload=payload, key=part, as_of=as_of)
            parent = parent or message_id
        return parent

    def said(self, conn: sa.Connection, key: str) -> bool:
        """Whether a message with ``key`` was planned already."""
        return conn.execute(sa.select(alert_messages.c.id).where(alert_messages.c.key == key)).first() is not None

    def message_key(self, conn: sa.Connection, message_id: int) -> str:
        return str(conn.execute(sa.select(alert_messages.c.key).where(alert_messages.c.id == message_id)).scalar_one())

    def message_channel(self, conn: sa.Connection, message_id: int) -> str:
        return str(
            conn.execute(sa.select(alert_messages.c.channel).where(alert_messages.c.id == message_id)).scalar_one()
        )

    def holders(self, conn: sa.Connection, message_id: int) -> set[str]:
        """The goals whose state points at a message (a shared message has several)."""
        return {r[0] for r in conn.execute(sa.select(alert_state.c.goal).where(alert_state.c.message_id == message_id))}

    def last_rendering(self, conn: sa.Connection, message_id: int) -> dict[str, Any] | None:
        """The payload the message was last posted or updated with (dropped updates aside)."""
        last = conn.execute(
            sa.select(alert_intents.c.payload)
            .where(
                alert_intents.c.message_id == message_id,
                alert_intents.c.kind.in_(("post", "update")),
                alert_intents.c.state != "dropped",
            )
            .order_by(alert_intents.c.seq.desc())
        ).first()
        return None if last is None else json.loads(last[0])

    def message(self, message_id: int) -> Message:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(alert_messages).where(alert_messages.c.id == message_id)).mappings().one()
        return Message(**dict(row))

    def channel_id(self, channel: str) -> str | None:
        """Slack's id for a channel goalwatch has posted to before, if any."""
        query = (
            sa.select(alert_messages.c.channel_id)
            .where(alert_messages.c.channel == channel, alert_messages.c.channel_id.is_not(None))
            .limit(1)
        )
        with self.engine.connect() as conn:
            return conn.execute(query).scalar()

    def add_intent(
        self, conn: sa.Connection, *, kind: str, message_id: int, payload: dict[str, Any], key: str, as_of: date
    ) -> str:
        if kind == "update":
            # Only the newest rendering of a message matters: older pending updates are dropped.
            conn.execute(
                sa.update(alert_intents)
                .where(
                    alert_intents.c.kind == "update",
                    alert_intents.c.message_id == message_id,
                    alert_intents.c.state == "pending",
                )
                .values(state="dropped")
            )
        seq = conn.execute(sa.select(sa.func.coalesce(sa.func.max(alert_intents.c.seq), 0))).scalar_one() + 1
        intent_id = uuid.uuid4().hex
        conn.execute(
            alert_intents.insert().values(
                id=intent_id,
                seq=seq,
                kind=kind,
                message_id=message_id,
                payload=json.dumps(payload),
                key=key,
                as_of=as_of,
                attempts=0,
                state="pending",
            )
        )
        return intent_id

    def pending(self) -> list[Intent]:
        query = sa.select(alert_intents).where(alert_intents.c.state == "pending").order_by(alert_intents.c.seq)
        with self.engine.connect() as conn:
            return [Intent(**{**dict(r), "payload": json.loads(r["payload"])}) for r in conn.execute(query).mappings()]

    def attempt(self, intent: Intent) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(alert_intents)
                .where(alert_intents.c.id == intent.id)
                .values(attempts=alert_intents.c.attempts + 1)
            )

    def sent(self, intent: Intent, *, ts: str | None = None, channel_id: str | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.update(alert_intents).where(alert_intents.c.id == intent.id).values(state="sent"))
            if intent.kind == "post" and (ts or channel_id):
                conn.execute(
                    sa.update(alert_messages)
                    .where(alert_messages.c.id == intent.message_id)
                    .values(ts=ts, channel_id=channel_id)
                )

    def intents(self) -> list[Intent]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(alert_intents).order_by(alert_intents.c.seq)).mappings()
            return [Intent(**{**dict(r), "payload": json.loads(r["payload"])}) for r in rows]

    # -- heartbeats (for the watchdog) ----------------------------------------------------------

    def beat(self, name: str, *, moment: datetime, run_id: str | None) -> None:
        """Record that ``name`` (e.g. the evaluation) succeeded for the run at ``moment``."""
        with self.engine.begin() as conn:
            previous = self.last_beat(name, conn=conn)
            if previous is not None and previous >= moment:
                return
            conn.execute(sa.delete(alert_heartbeats).where(alert_heartbeats.c.name == name))
            conn.execute(alert_heartbeats.insert().values(name=name, moment=moment, run_id=run_id))

    def last_beat(self, name: str, *, conn: sa.Connection | None = None) -> datetime | None:
        query = sa.select(alert_heartbeats.c.moment).where(alert_heartbeats.c.name == name)
        if conn is not None:
            found = conn.execute(query).scalar()
        else:
            with self.engine.connect() as own:
                found = own.execute(query).scalar()
        if found is not None and found.tzinfo is None:  # SQLite keeps no zone: stored as UTC
            found = found.replace(tzinfo=UTC)
        return found

    # -- silences -------------------------------------------------------------------------------

    def add_silence(self, *, goal: str, segment: str | None, until: date, reason: str) -> int:
        with self.engine.begin() as conn:
            return int(
                conn.execute(
                    alert_silences.insert().values(goal=goal, segment=segment, until=until, reason=reason)
                ).inserted_primary_key[0]
            )

    def silences(self) -> list[Silence]:
        with self.engine.connect() as conn:
            return [
                Silence(**dict(r))
                for r in conn.execute(sa.select(alert_silences).order_by(alert_silences.c.id)).mappings()
            ]

    def remove_silence(self, silence_id: int) -> bool:
        with self.engine.begin() as conn:
            return conn.execute(sa.delete(alert_silences).where(alert_silences.c.id == silence_id)).rowcount > 0
