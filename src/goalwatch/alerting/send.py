"""Send the ledger's pending Slack calls through a :class:`~goalwatch.alerting.delivery.Delivery`.

Called by ``alerting.notify`` (after an evaluation, and for the digest, the watchdog and "monitor
unhealthy"). The promise, against Slack's documented contract:

- **One sender per call.** Each intent is claimed before its call (``Ledger.claim``): two runs
  sending at once never make the same call; one that finds a call held by the other leaves it,
  and fails as a passing failure, so it is tried again once the other is done.
- **Nothing twice.** A post is never retried inside a call (no slack_sdk retry of
  ``chat.postMessage``, not even on a 5xx, since Slack may have stored it). Before a post is
  tried again, the channel (or thread) is read back, page after page, from a little before the
  first attempt (``oldest``), for a message carrying the intent's id in its metadata: found, it
  is the message; never found, it is posted. A message Slack stored after the client gave up
  (a late write) can still make a second one: :func:`goalwatch.alerting.heal.heal` deletes such extras on a later run,
  keeping the one the ledger holds, and the ledger records what it deleted.
- **Nothing lost.** A call that fails for a passing reason (rate limit, server error, no answer)
  stays pending and the run reports it (the task fails, so Airflow retries); the channel's later
  calls wait for the next attempt so its thread keeps its order.
- **Nothing stuck.** A permanent refusal of a channel, a scope or a message
  (``alerting.refusals``) fails that intent with its reason instead of keeping it pending
  forever, and the calls that depend on it fail with it; a refused channel fails the run's later
  calls to it, a missing scope only the calls that need it; other goals and channels go on. A
  code Slack does not document is tried again up to ``UNKNOWN_TRIES`` attempts. A refused token
  holds every call pending and fails the task instead: nothing can be said in Slack then, and
  nothing is lost once the token is fixed. An update of a message that is gone (deleted, or only
  ever written to the outbox before Slack was connected) posts the message anew (a continuation
  or a reply in its thread), after looking for a copy any earlier post of it left in Slack, and
  its thread continues there; a message Slack no longer lets the bot edit is never posted twice.
- **Healing never stops a run.** A second copy someone deleted already is recorded as gone; one
  Slack will not let the bot delete is recorded and left, with what to do in the log; any other
  failed delete is tried again on the next run.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from goalwatch.alerting.delivery import METADATA_TYPE, Delivery, Outbox
from goalwatch.alerting.heal import SKEW, remove
from goalwatch.alerting.ledger import Intent, Ledger, Message
from goalwatch.alerting.outcome import Outcome, Refused
from goalwatch.alerting.refusals import GONE, MAYBE_DONE, Refusal, classify, undocumented
from goalwatch.alerting.uploads import Render, chart_bytes
from goalwatch.errors import DeliveryError

__all__ = ["Outcome", "Refused", "deliver"]

log = logging.getLogger(__name__)
REPOST = ".repost"  # the key suffix of a message's post anew


class _RefusedCall(DeliveryError):
    """A call made on another intent's way (posting its message anew) was refused for good: the
    intent that needed it fails with the same refusal."""

    def __init__(self, exc: DeliveryError, refusal: Refusal) -> None:
        super().__init__(str(exc), code=exc.code, needed=exc.needed)
        self.refusal = refusal


def deliver(
    ledger: Ledger,
    delivery: Delivery,
    *,
    keys: set[str] | None = None,
    owner: str | None = None,
    render: Render | None = None,
) -> Outcome:
    """Send every pending intent (or only those with ``keys``) in the order they were planned.
    ``owner`` names the sender on the intents it claims: the same for every try of one task
    (its run), so a retry takes back what a try that died held; by default one of its own.
    ``render`` draws the charts planned to be drawn after the posts (``alerting.uploads``)."""
    # A post anew (``.repost``) is sent on the way of the call that needs it, which it must not wait for.
    intents = [i for i in ledger.pending() if (keys is None or i.key in keys) and not i.key.endswith(REPOST)]
    sender = _Sender(ledger, delivery, getattr(delivery, "conn_id", ""), owner=owner)
    sender.render = render
    for intent in intents:
        sender.send(intent, waiting_posts={i.message_id for i in intents if i.kind == "post"})
    return sender.out


def live(delivery: Delivery, ts: str | None) -> bool:
    """Whether ``ts`` is a message this delivery can update and thread under (an ``outbox:``
    reference is not a Slack message)."""
    return ts is not None and ts.startswith("outbox:") == isinstance(delivery, Outbox)


class _Sender:
    def __init__(self, ledger: Ledger, delivery: Delivery, conn_id: str, *, owner: str | None = None) -> None:
        self.ledger, self.delivery, self.conn_id = ledger, delivery, conn_id
        self.out = Outcome()
        self.blocked: set[str] = set()  # channels with a passing failure in this run
        self.refused: dict[str, Refusal] = {}  # channels that refused the bot in this run
        self.token: Refusal | None = None  # the token was refused: nothing goes in this run
        self.settled: set[int] = set()  # messages whose post was settled (sent or failed) in this run
        self.handled: set[str] = set()  # reposts settled on another intent's way, not to be sent again
        self.owner = owner or uuid.uuid4().hex  # this sender's name on the intents it claims
        self.counted: set[str] = set()  # intents whose attempt this run counted
        self.render: Render | None = None

    def send(self, intent: Intent, *, waiting_posts: set[int]) -> None:
        if intent.id in self.handled:
            return
        message = self.ledger.message(intent.message_id)
        refusal = self.refused.get(message.channel)
        if refusal is not None:
            return self._fail(intent, message, refusal)
        if self.token is not None or message.channel in self.blocked:
            self.out.waiting.append(intent.key)
            return
        claimed = self.ledger.claim(intent, self.owner)
        if claimed is None:
            if self.ledger.state(intent) == "pending":  # another run is making this call now
                log.warning("%s is being sent by another run; it is tried again on the next attempt", intent.key)
                self.out.failed.append(f"{intent.key} was being sent by another run")
                self.blocked.add(message.channel)
            return  # else sent, replaced or failed since this run read it
        try:
            self._send(claimed, message, waiting_posts)  # as it stands now: another run may have tried it
        finally:
            self.ledger.release(intent, self.owner)

    def _send(self, intent: Intent, message: Message, waiting_posts: set[int]) -> None:
        self.pending = waiting_posts - self.settled
        try:
            done = self._one(intent, message)
        except _RefusedCall as exc:
            self._fail(intent, message, exc.refusal)  # its message could not be posted anew
            if exc.refusal.reach == "channel":
                self.refused[message.channel] = exc.refusal
            return
        except DeliveryError as exc:
            if undocumented(exc.code) and intent.id not in self.counted:
                self._attempt(intent)  # a lookup's answer counts too, so that it stops in time
            found = classify(
                exc.code,
                channel=message.channel,
                needed=exc.needed,
                conn_id=self.conn_id,
                attempts=self.ledger.attempts(intent),
            )
            if found is None:
                log.warning("%s; it stays pending for the next attempt", exc)
                self.out.failed.append(str(exc))
                self.blocked.add(message.channel)
                return
            if found.reach == "token":
                # Nothing can go out, not even a word about it: every call waits for a working
                # token (so nothing is lost), and the task fails, the one place left to say so.
                self.token = found
                log.error("%s: %s; every alert waits until then", exc, found.advice)
                self.out.failed.append(f"{exc}: {found.advice}")
                return
            # A refused channel fails its later calls in this run too; a missing scope or a
            # refused message fails this call alone.
            self._fail(intent, message, found)
            if found.reach == "channel":
                self.refused[message.channel] = found
            return
        finally:
            if intent.kind == "post":
                self.settled.add(intent.message_id)
        (self.out.sent if done else self.out.waiting).append(intent.key)

    def _one(self, intent: Intent, message: Message) -> bool:
        """Make one intent's call; False when it must wait for its message to be posted first."""
        if intent.kind == "upload":
            return self._upload(intent, message)
        if intent.kind == "update":
            return self._update(intent, message)
        thread_ts = None
        payload = dict(intent.payload)
        if message.parent_id is not None and self.delivery.threads:
            parent = self._postable(self.ledger.message(message.parent_id))
            if parent is None:
                return False
            thread_ts = parent.ts
            payload["thread_ts"] = thread_ts
            payload["channel"] = parent.channel_id or payload["channel"]
        try:
            self._post(intent, message, payload, thread_ts=thread_ts)
        except DeliveryError as exc:
            if exc.code != "thread_not_found" or message.parent_id is None:
                raise
            # Someone deleted the thread's message: post it anew, and the reply under it.
            parent = self._anew(self.ledger.message(message.parent_id))
            payload["thread_ts"] = parent.ts
            payload["channel"] = parent.channel_id or payload["channel"]
            self._post(intent, message, payload, thread_ts=parent.ts)
        return True

    def _postable(self, message: Message) -> Message | None:
        """``message`` once it exists where this delivery sends: None while its own post is still to
        come; posted anew, with its last rendering, when it never will (failed, or the outbox's)."""
        if live(self.delivery, message.ts):
            return message
        if message.id in self.pending:
            return None
        return self._anew(message)

    def _anew(self, message: Message) -> Message:
        """Post ``message`` anew with its last rendering."""
        with self.ledger.engine.connect() as conn:
            rendering = self.ledger.last_rendering(conn, message.id)
        if rendering is None:
            raise DeliveryError(f"the message {message.key} has nothing to post it with", code="no_text")
        return self._repost(message, rendering)

    def _repost(self, message: Message, payload: dict[str, Any]) -> Message:
        """Post ``message`` again as a new Slack message, through a post intent of its own so that
        a retry finds it: the one an earlier, unanswered repost left pending, else a new one (one
        for all the runs that repost it at once)."""
        intent = self.ledger.repost(
            message.id, key=f"{message.key}{REPOST}", payload=payload, as_of=datetime.now(UTC).date()
        )
        claimed = self.ledger.claim(intent, self.owner)
        if claimed is None:
            raise DeliveryError(f"{intent.key} is being sent by another run")
        try:
            return self._repost_as(claimed, message, payload)
        finally:
            self.ledger.release(intent, self.owner)

    def _repost_as(self, intent: Intent, message: Message, payload: dict[str, Any]) -> Message:
        key = intent.key
        log.info("Posting %s anew in %s: the message it updates is not in Slack", message.key, message.channel)
        try:
            post, thread_ts = dict(intent.payload), None
            if message.parent_id is not None and self.delivery.threads:
                # A continuation or a reply is posted anew where it belongs: in its thread.
                parent = self._postable(self.ledger.message(message.parent_id))
                if parent is None:
                    raise DeliveryError(f"{message.key} waits for its thread's message to be posted first")
                thread_ts = post["thread_ts"] = parent.ts
                post["channel"] = parent.channel_id or post["channel"]
            found = self._post(intent, message, post, thread_ts=thread_ts)
            self.handled.add(intent.id)
            if found or intent.payload.get("blocks") != payload.get("blocks"):
                # An earlier copy was found, or an older rendering was posted: bring it up to date.
                posted = self.ledger.message(message.id)
                assert posted.ts is not None
                channel_id = posted.channel_id or posted.channel
                key_as_of = {"key": key, "as_of": intent.as_of.isoformat()}
                self.delivery.update(payload, channel_id=channel_id, ts=posted.ts, **key_as_of)
        except DeliveryError as exc:
            found = classify(
                exc.code,
                channel=message.channel,
                needed=exc.needed,
                conn_id=self.conn_id,
                attempts=self.ledger.attempts(intent),
            )
            if isinstance(exc, _RefusedCall) or found is None or found.reach == "token":
                raise  # a token refused holds every call pending, the repost included
            if intent.id not in self.handled:
                self.ledger.fail(intent, found.reason())  # said once, on the intent that needed it
                self.handled.add(intent.id)
            raise _RefusedCall(exc, found) from None
        self.out.sent.append(intent.key)
        return self.ledger.message(message.id)

    def _post(self, intent: Intent, message: Message, payload: dict[str, Any], *, thread_ts: str | None) -> bool:
        """Post ``payload`` for ``intent``, unless an earlier attempt's copy is found in Slack;
        whether one was (then it is the message, and may show an older rendering)."""
        payload["metadata"] = {"event_type": METADATA_TYPE, "event_payload": {"intent": intent.id}}
        # An earlier attempt of this post, or of another post of the same message (one whose
        # lookup was refused before it was posted anew), may have been stored with no answer:
        # look for them all before posting.
        earlier = [i for i in self.ledger.attempted_posts(message.id) if i.first_attempt is not None]
        if earlier:
            channel = self.ledger.channel_id(message.channel) or payload["channel"]
            channel_id, found = self.delivery.lookup(
                {i.id for i in earlier},
                channel=channel,
                thread_ts=thread_ts,
                oldest=min(i.first_attempt for i in earlier if i.first_attempt) - SKEW,
            )
            copies = sorted((float(ts), ts, intent_id) for intent_id, stamps in found.items() for ts in stamps)
            if copies and channel_id is not None:
                (_, keep, _), *extra = copies  # the oldest copy is the message; the others go
                self.ledger.sent(intent, ts=keep, channel_id=channel_id)
                for _, ts, intent_id in extra:
                    self.out.deleted.extend(
                        remove(self.ledger, self.delivery, message, channel_id=channel_id, ts=ts, intent_id=intent_id)
                    )
                return True
        self._hold(intent)
        self._attempt(intent)
        ts, channel_id = self.delivery.post(
            payload, key=intent.key, as_of=intent.as_of.isoformat(), pace=message.channel
        )
        self.ledger.sent(intent, ts=ts, channel_id=channel_id)
        return False

    def _update(self, intent: Intent, message: Message) -> bool:
        if not self.delivery.threads:
            return True  # a webhook cannot update a message (nor post it anew for each update)
        if not live(self.delivery, message.ts):
            if message.id in self.pending:
                return False
            self._repost(message, intent.payload)
            self.ledger.sent(intent)
            return True
        assert message.ts is not None
        self._attempt(intent)  # counted, so that a code Slack does not document stops in time
        try:
            self.delivery.update(
                intent.payload,
                channel_id=message.channel_id or message.channel,
                ts=message.ts,
                key=intent.key,
                as_of=intent.as_of.isoformat(),
            )
        except DeliveryError as exc:
            if exc.code not in GONE:
                raise
            self._repost(message, intent.payload)
        self.ledger.sent(intent)
        return True

    def _upload(self, intent: Intent, message: Message) -> bool:
        if self.delivery.threads:
            postable = self._postable(message)
            if postable is None:
                return False
            message = postable
        # An upload has no metadata to find it by: once it may have been shared (no clear answer,
        # or a sender that died in it), it is not made again; at worst a chart is lost, never
        # shared twice. An upload Slack answered with an error shared nothing and is tried again.
        if intent.error is not None:
            log.warning("The chart %s is not shared again: %s", intent.key, intent.error)
            self.ledger.sent(intent)
            return True
        content = chart_bytes(intent.payload, self.render)
        if content is None:  # drawn by an evaluation's sender (this one has no data to draw it)
            return False
        if not content:  # nothing to draw (a ratio goal)
            self.ledger.sent(intent)
            return True
        self._hold(intent)
        self._attempt(intent)
        self.ledger.unsure(intent, "an earlier attempt may have shared it (no clear answer from Slack)")
        try:
            self.delivery.upload(
                content,
                channel_id=message.channel_id or message.channel,
                thread_ts=message.ts,
                filename=intent.payload["filename"],
                title=intent.payload["title"],
                key=intent.key,
                as_of=intent.as_of.isoformat(),
                pace=message.channel,
            )
        except DeliveryError as exc:
            if exc.code is not None and exc.code not in MAYBE_DONE:
                self.ledger.unsure(intent, None)  # Slack said no: nothing was shared
            raise
        self.ledger.sent(intent)
        return True

    def _attempt(self, intent: Intent) -> None:
        self.ledger.attempt(intent)
        self.counted.add(intent.id)

    def _hold(self, intent: Intent) -> None:
        """Renew this run's claim on ``intent`` before a call that must not be made twice: a
        lookup that outlasted the lease may have let another run take the call over."""
        if not self.ledger.renew(intent, self.owner):
            raise DeliveryError(f"{intent.key} was taken over by another run while this one looked for it")

    def _fail(self, intent: Intent, message: Message, refusal: Refusal) -> None:
        self.ledger.fail(intent, refusal.reason())
        with self.ledger.engine.connect() as conn:
            holders = self.ledger.holders(conn, message.id)
            if not holders and message.parent_id is not None:
                holders = self.ledger.holders(conn, message.parent_id)
        goals = tuple(sorted(holders))
        self.out.refused.append(
            Refused(intent.key, message.channel, goals, refusal, intent.as_of, intent.id, message.id, intent.kind)
        )
        log.error("Slack refused %s for %s for good: %s", intent.key, message.channel, refusal.reason())
