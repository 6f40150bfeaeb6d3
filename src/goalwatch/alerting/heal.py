"""Heal what late writes left: the second copies of goalwatch's messages in Slack.

A post that Slack stored after the client gave up (a late write) leaves a second copy once the
post is tried again. :func:`heal` runs after each delivery (``alerting.notify``): it reads back
the channels (or threads) of the recent messages whose posts took more than one attempt, and
deletes every copy but the one the ledger holds. :func:`remove` deletes one copy and records it in
the ledger (``alert_deletions``); ``alerting.send`` uses it too, when a post made anew finds an
earlier copy. A delete that fails never stops a run: a copy someone deleted already is recorded as
gone, one Slack will not let the bot delete is recorded and left, any other failure waits for the
next run.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from goalwatch.alerting.delivery import Delivery
from goalwatch.alerting.ledger import Intent, Ledger, Message
from goalwatch.alerting.refusals import GONE, UNDELETABLE
from goalwatch.errors import DeliveryError

__all__ = ["HEAL_WINDOW", "SKEW", "heal", "remove"]

log = logging.getLogger(__name__)
SKEW = timedelta(minutes=5)  # how far Slack's clock may be behind ours when we read back from `oldest`
HEAL_WINDOW = timedelta(days=3)  # how long after a post goalwatch still looks for its late twin


def heal(ledger: Ledger, delivery: Delivery, *, now: datetime | None = None) -> list[str]:
    """Delete the second copies that late writes made: for each message of the last
    :data:`HEAL_WINDOW` whose posts took more than one attempt in all (a retried post, or a post
    made anew after an attempt that got no answer), read its channel (or thread) back for every one
    of its posts' intent ids and keep only the copy the ledger holds. Returns what it deleted; a
    failed read waits for the next run."""
    now = now or datetime.now(UTC)
    posts: dict[int, list[Intent]] = defaultdict(list)
    messages: dict[int, Message] = {}
    for intent, message in ledger.recent_posts(since=now - HEAL_WINDOW):
        posts[message.id].append(intent)
        messages[message.id] = message
    retried = [
        (intents, messages[m])
        for m, intents in posts.items()
        if sum(i.attempts for i in intents) > 1 and messages[m].ts
    ]
    places: dict[tuple[str, str | None], list[tuple[list[Intent], Message]]] = defaultdict(list)
    for intents, message in retried:
        # A reply is looked for in its own thread, named by its own ts (conversations.replies takes
        # any ts of a thread): the parent may have been posted anew since, under a new ts.
        thread = message.ts if message.parent_id is not None else None
        places[(message.channel_id or message.channel, thread)].append((intents, message))
    deleted: list[str] = []
    for (channel, thread_ts), items in places.items():
        oldest = min(i.first_attempt or now for intents, _ in items for i in intents) - SKEW
        try:
            channel_id, found = delivery.lookup(
                {i.id for intents, _ in items for i in intents}, channel=channel, thread_ts=thread_ts, oldest=oldest
            )
            for intents, message in items:
                copies = {ts: i.id for i in intents for ts in found.get(i.id, [])}
                if message.ts not in copies or channel_id is None:
                    continue  # only ever delete beside the copy the ledger holds, seen alive
                for ts, intent_id in sorted(copies.items()):
                    if ts != message.ts:
                        deleted += remove(
                            ledger, delivery, message, channel_id=channel_id, ts=ts, intent_id=intent_id, late=True
                        )
        except DeliveryError as exc:
            log.warning("Could not look for duplicates in %s: %s; the next run looks again", channel, exc)
    return deleted


def remove(
    ledger: Ledger,
    delivery: Delivery,
    message: Message,
    *,
    channel_id: str,
    ts: str,
    intent_id: str,
    late: bool = False,
) -> list[str]:
    """Delete the second copy of ``message`` at ``ts`` (made by ``intent_id``) and record it; what
    was deleted (``["<key>@<ts>"]``), or nothing. A copy someone deleted already is recorded as
    gone; one Slack will not let the bot delete is recorded as such and left, with a word in the
    log on what to do; any other failure is logged, and the next run tries again."""
    what = f"a {'late ' if late else ''}second copy of {message.key} in {message.channel} (ts {ts})"
    if ledger.deleted(channel_id=channel_id, ts=ts):
        return []
    reason = "late write" if late else "duplicate"
    try:
        delivery.delete(channel_id=channel_id, ts=ts, key=message.key)
    except DeliveryError as exc:
        if exc.code in UNDELETABLE:
            log.warning("Slack did not let goalwatch delete %s (%s): delete it by hand in Slack", what, exc.code)
            reason = f"not deletable: {exc.code}"
        elif exc.code in GONE:
            reason += ", deleted already"
        else:
            log.warning("Could not delete %s: %s; the next run tries again", what, exc)
            return []
    ledger.record_deletion(message_id=message.id, channel_id=channel_id, ts=ts, intent_id=intent_id, reason=reason)
    if reason.startswith("not deletable"):
        return []
    log.warning("Deleted %s", what)
    return [f"{message.key}@{ts}"]
