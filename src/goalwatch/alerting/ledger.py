"""The alert ledger: what goalwatch has said in Slack, and what it still has to say.

Kept in the goalwatch store beside the metrics (tables in ``alerting.tables``): each goal's state
per period and segment (``alert_state``) and its transitions; the Slack messages goalwatch owns,
one per key (``alert_messages``; a reply points at its parent); each Slack call, written as an
intent *before* it is made and numbered in the order it is to be made (``alert_intents``: a post
carries its intent id in the message's metadata, so after a lost response the next attempt finds
the message instead of posting again); the duplicates goalwatch deleted (``alert_deletions``);
silences; the watchdog's heartbeats. An intent is ``pending`` until ``sent``; ``dropped`` when a
newer rendering of its message replaced it; ``failed`` when Slack refused it for good (``error``).

**Once is the store's promise, not the callers'.** A message key is unique: :meth:`Ledger.new_message`
and :meth:`Ledger.post_once` insert with ``INSERT ... ON CONFLICT DO NOTHING`` and answer None
when the key exists, and their callers then plan no call for it; of two tasks racing for a key,
the second waits for the first's transaction and inserts nothing. An intent's number comes from
an atomic ``UPDATE`` of a counter (``alert_counters``) in its transaction. :meth:`Ledger.planning`
opens a transaction that first updates the ``plan`` counter: on SQLite that takes the database's
write lock, on Postgres the counter row's, so two planners take turns and the second reads what
the first wrote.

**Message keys** name the goal and its period, so they never repeat across periods:

- a goal's message: ``<goal>.<period start>.<status>`` (``quarterly_revenue.2026-10-01.off_track``),
  or, shared by goals of one channel, ``group.<channel>.<period start>.<first goal>``; its
  continuations in the thread are keyed by their own first goal;
- a reply in its thread: ``<goal>.<period start>.<kind>.<as of>.<status>``, kind ``transition``,
  ``resolved``, ``reminder`` or ``final`` (``quarterly_revenue.2026-10-01.final.2026-12-31.missed``),
  ``.<n>`` for its continuations: the same change said twice on one day (a rerun) is said once;
- messages said once per key (``alerting.notices``): ``data.<metric>.<day>``, ``digest.…`` and so on.

The outbox writes a post to ``<outbox>/<as of>/<key>.json``.

Called by ``alerting.plan`` and ``alerting.notices`` (planning) and ``alerting.delivery`` (sending:
``pending``, ``claim``, ``attempt``, ``sent``, ``fail``, ``recent_posts``, ``record_deletion``); the CLI
manages silences.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from goalwatch.alerting.claims import CLAIM_LEASE, Claims
from goalwatch.alerting.records import Records
from goalwatch.alerting.tables import (
    Intent,
    Message,
    Silence,
    State,
    alert_counters,
    alert_intents,
    alert_messages,
    alert_state,
    alert_transitions,
    intent_of,
    message_of,
    utc,
)
from goalwatch.data.store import Store, insert_ignore

__all__ = ["CLAIM_LEASE", "Intent", "Ledger", "Message", "Silence", "State"]


StateKey = tuple[str, date, str]


class Ledger(Claims, Records):
    def __init__(self, store: Store | None = None) -> None:
        self.store = store or Store()

    @property
    def engine(self) -> sa.Engine:
        return self.store.engine

    @contextmanager
    def planning(self) -> Iterator[sa.Connection]:
        """A write transaction that holds the planners' lock from its first statement to its end
        (committed when the block ends, rolled back when it raises). Another planner's
        transaction waits for it, so what this one reads in it stays true until it commits."""
        with self.engine.begin() as conn:
            _bump(conn, "plan")
            yield conn

    # -- state and transitions ------------------------------------------------------------------

    def states(self, goals: Iterable[StateKey], *, conn: sa.Connection | None = None) -> dict[StateKey, State]:
        """The stored state of each (goal, period start, segment) that has one; read in ``conn``
        when given (inside a planning transaction), else on a connection of its own."""
        if conn is None:
            with self.engine.connect() as own:
                return self.states(goals, conn=own)
        out: dict[StateKey, State] = {}
        for key in goals:
            row = conn.execute(sa.select(alert_state).where(*_state_is(*key))).mappings().first()
            if row:
                out[key] = State(**{**row, "silenced": bool(row["silenced"])})
        return out

    def put_state(self, conn: sa.Connection, state: State, *, as_of: date) -> None:
        fields = ("status", "severity", "message_id", "last_notified", "silenced")
        values = {**{f: getattr(state, f) for f in fields}, "as_of": as_of}
        key = _state_is(state.goal, state.period_start, state.segment)
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

    def new_message(self, conn: sa.Connection, *, channel: str, key: str, parent_id: int | None = None) -> int | None:
        """A new message's id; None when a message with ``key`` exists (plan nothing for it then)."""
        values = {"channel": channel, "key": key, "parent_id": parent_id}
        found = insert_ignore(conn, alert_messages, values, on=["key"])
        return None if found is None else int(found)

    def post_once(
        self, conn: sa.Connection, *, key: str, channel: str, payloads: list[dict[str, Any]], as_of: date
    ) -> int | None:
        """Plan a message that is said once per ``key`` (a digest, a data issue, an alarm): the first
        payload as a message, the rest continuing in its thread. None if ``key`` was said already."""
        parent = None
        for n, payload in enumerate(payloads):
            part = key if n == 0 else f"{key}.{n}"
            message_id = self.new_message(conn, channel=channel, key=part, parent_id=parent)
            if message_id is None:
                if parent is None:
                    return None
                continue
            self.add_intent(conn, kind="post", message_id=message_id, payload=payload, key=part, as_of=as_of)
            parent = parent or message_id
        return parent

    def said(self, conn: sa.Connection, key: str) -> bool:
        """Whether a message with ``key`` was planned already."""
        return self.message_id(conn, key) is not None

    def message_id(self, conn: sa.Connection, key: str) -> int | None:
        """The id of the message with ``key``, if there is one."""
        return conn.execute(sa.select(alert_messages.c.id).where(alert_messages.c.key == key)).scalar()

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
        return message_of(row)

    def message_channels(self) -> dict[int, str]:
        """Each message's channel, by message id."""
        with self.engine.connect() as conn:
            return dict(conn.execute(sa.select(alert_messages.c.id, alert_messages.c.channel)).tuples().all())

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
        """Plan a call (``post``, ``update`` or ``upload``) in ``conn``'s transaction; its id. Its
        number is the next of the ``intent_seq`` counter, taken in the same transaction."""
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
        intent_id = uuid.uuid4().hex
        conn.execute(
            alert_intents.insert().values(
                id=intent_id,
                seq=_bump(conn, "intent_seq"),
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
        return self._intents(alert_intents.c.state == "pending")

    def intents(self) -> list[Intent]:
        return self._intents()

    def failures(self, *, since: date | None = None) -> list[Intent]:
        """The failed intents (oldest first), those for days from ``since`` on when it is given."""
        when = [alert_intents.c.as_of >= since] if since is not None else []
        return self._intents(alert_intents.c.state == "failed", *when)

    def _intents(self, *where: Any) -> list[Intent]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(alert_intents).where(*where).order_by(alert_intents.c.seq)).mappings()
            return [intent_of(r) for r in rows]

    # -- delivery -------------------------------------------------------------------------------

    def attempt(self, intent: Intent, *, now: datetime | None = None) -> datetime:
        """Count an attempt of ``intent``, about to be made; the moment its first attempt began
        (UTC), set now if this is the first. A lookup of a post that may have been stored need
        look no further back than that."""
        moment = (now or datetime.now(UTC)).astimezone(UTC)
        where = alert_intents.c.id == intent.id
        with self.engine.begin() as conn:
            conn.execute(sa.update(alert_intents).where(where).values(attempts=alert_intents.c.attempts + 1))
            conn.execute(
                sa.update(alert_intents)
                .where(where, alert_intents.c.first_attempt.is_(None))
                .values(first_attempt=moment)
            )
            first = utc(conn.execute(sa.select(alert_intents.c.first_attempt).where(where)).scalar_one())
        assert first is not None
        return first

    def repost(self, message_id: int, *, key: str, payload: dict[str, Any], as_of: date) -> Intent:
        """The pending post that posts ``message_id`` anew under ``key``: the one an earlier,
        unanswered repost left, else a new one. Taken in a planning transaction, so two runs that
        repost the same message at once share one intent (and its claim)."""
        where = (
            alert_intents.c.kind == "post",
            alert_intents.c.message_id == message_id,
            alert_intents.c.key == key,
            alert_intents.c.state == "pending",
        )
        with self.planning() as conn:
            query = sa.select(alert_intents).where(*where).order_by(alert_intents.c.seq.desc()).limit(1)
            row = conn.execute(query).mappings().first()
            if row is None:
                intent_id = self.add_intent(
                    conn, kind="post", message_id=message_id, payload=payload, key=key, as_of=as_of
                )
                row = conn.execute(sa.select(alert_intents).where(alert_intents.c.id == intent_id)).mappings().one()
            return intent_of(row)

    def attempted_posts(self, message_id: int) -> list[Intent]:
        """The posts of ``message_id`` tried at least once, in any state, oldest first: the
        intent ids a copy of it in Slack may carry."""
        return self._intents(
            alert_intents.c.kind == "post", alert_intents.c.message_id == message_id, alert_intents.c.attempts > 0
        )

    def sent(self, intent: Intent, *, ts: str | None = None, channel_id: str | None = None) -> None:
        """Mark ``intent`` sent. A post records where its message is (``ts``, channel id); an
        update that had to post a replacement message (the old one was gone) records the new one's."""
        with self.engine.begin() as conn:
            conn.execute(sa.update(alert_intents).where(alert_intents.c.id == intent.id).values(state="sent"))
            where = alert_messages.c.id == intent.message_id
            if intent.kind == "post" and (ts or channel_id):
                conn.execute(sa.update(alert_messages).where(where).values(ts=ts, channel_id=channel_id))
            elif intent.kind == "update" and ts:
                moved = {"ts": ts, **({"channel_id": channel_id} if channel_id else {})}
                conn.execute(sa.update(alert_messages).where(where).values(**moved))

    def fail(self, intent: Intent, reason: str) -> None:
        """Mark ``intent`` failed for good (Slack refused it permanently): never sent again."""
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(alert_intents).where(alert_intents.c.id == intent.id).values(state="failed", error=reason)
            )

    def recent_posts(self, *, since: datetime) -> list[tuple[Intent, Message]]:
        """The attempted posts (sent, or failed after an attempt) whose first attempt began at
        ``since`` or later, oldest first, each with its message: where to look for duplicates a
        late write may have made."""
        message = alert_messages.alias("message")
        query = (
            sa.select(alert_intents, *(c.label(f"message__{c.name}") for c in message.c))
            .join(message, message.c.id == alert_intents.c.message_id)
            .where(
                alert_intents.c.kind == "post",
                alert_intents.c.state.in_(("sent", "failed")),
                alert_intents.c.first_attempt >= since.astimezone(UTC),
            )
            .order_by(alert_intents.c.seq)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            (intent_of(r), message_of({c.name: r[f"message__{c.name}"] for c in alert_messages.columns})) for r in rows
        ]


def _state_is(goal: str, period_start: date, segment: str) -> tuple[Any, ...]:
    return alert_state.c.goal == goal, alert_state.c.period_start == period_start, alert_state.c.segment == segment


def _bump(conn: sa.Connection, name: str) -> int:
    """Add one to counter ``name`` and read it, in one statement of ``conn``'s transaction: the
    row stays locked until that transaction ends, so no other can take the same value."""
    counter = alert_counters.c
    query = (
        sa.update(alert_counters).where(counter.name == name).values(value=counter.value + 1).returning(counter.value)
    )
    value = conn.execute(query).scalar()
    if value is None:  # a counter someone deleted: start again from what the ledger holds
        start = conn.execute(sa.select(sa.func.coalesce(sa.func.max(alert_intents.c.seq), 0))).scalar_one()
        insert_ignore(conn, alert_counters, {"name": name, "value": start if name == "intent_seq" else 0}, on=["name"])
        value = conn.execute(query).scalar_one()
    return int(value)
