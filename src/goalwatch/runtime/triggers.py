"""The triggerer's side of "a Redis message announces new data": every message on a channel
becomes an event on the messages asset (``runtime.assets``), which schedules the evaluate DAG.

Why not the Redis provider's ``AwaitMessageTrigger`` (what ``MessageQueueTrigger(scheme=
"redis+pubsub")`` builds) as it stands: it yields one message and ends, and the triggerer
subscribes it again a second or two later; pub/sub keeps nothing for a channel without a
subscriber, so a burst loses every message but the first (measured: 1 event of 10 published
at once). This one takes the same arguments and the provider's ``RedisHook``, and stays
subscribed, yielding each message as it comes. Messages published while no triggerer is
subscribed (one down or restarting) are still lost: the scheduled ingest covers those days.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

__all__ = ["RedisMessages"]

RECONNECT = 2.0  # seconds between attempts to reach a Redis that went away
NO_CONNECTION = 60.0  # seconds between looks for a connection that is not set


class RedisMessages(BaseEventTrigger):
    """Every message published on ``channels`` of the Redis behind ``redis_conn_id``, for as long
    as the trigger runs; ``poll_interval`` is how long one wait for a message may block."""

    def __init__(self, channels: list[str] | str, redis_conn_id: str = "redis_default", poll_interval: float = 0.5):
        super().__init__()
        self.channels = [channels] if isinstance(channels, str) else list(channels)
        self.redis_conn_id = redis_conn_id
        self.poll_interval = poll_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {"channels": self.channels, "redis_conn_id": self.redis_conn_id, "poll_interval": self.poll_interval},
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        import asyncio

        from airflow.exceptions import AirflowNotFoundException
        from airflow.providers.redis.hooks.redis import RedisHook
        from asgiref.sync import sync_to_async
        from redis.exceptions import ConnectionError as RedisDown
        from redis.exceptions import TimeoutError as RedisSlow

        while True:  # a Redis that went away is waited for, then listened to again
            try:
                client = await sync_to_async(RedisHook(redis_conn_id=self.redis_conn_id).get_conn)()
            except AirflowNotFoundException:
                self.log.warning(
                    "No Airflow connection %r: add one for your Redis to announce data by message, or set "
                    "GOALWATCH_REDIS_CHANNEL=none; looking again in %.0f s",
                    self.redis_conn_id,
                    NO_CONNECTION,
                )
                await asyncio.sleep(NO_CONNECTION)
                continue
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            # Off the event loop's shared thread: a blocking wait must not hold up other triggers.
            wait = sync_to_async(pubsub.get_message, thread_sensitive=False)
            try:
                await sync_to_async(pubsub.subscribe, thread_sensitive=False)(*self.channels)
                self.log.info("Listening on Redis channel(s) %s", ", ".join(self.channels))
                while True:
                    message = await wait(timeout=self.poll_interval)
                    if message and message.get("type") == "message":
                        yield TriggerEvent({k: _text(v) for k, v in message.items()})
            except (RedisDown, RedisSlow) as exc:
                self.log.warning(
                    "Redis is unreachable (%s): what is published meanwhile is lost, and the scheduled "
                    "ingest covers its days; listening again in %.0f s",
                    type(exc).__name__,
                    RECONNECT,
                )
                await asyncio.sleep(RECONNECT)
            finally:
                pubsub.close()


def _text(value: Any) -> Any:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
