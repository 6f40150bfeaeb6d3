"""The Airflow Assets: one per metric, which the ingest DAG updates, and the messages asset a Redis
channel's messages update; the evaluate DAG is scheduled on all of them.

External systems announce new data for a metric by posting an event for its asset
(``POST /api/v2/assets/events``, or ``goalwatch announce``), or by publishing
``{"metric": ..., "as_of": ...}`` on the Redis channel (``GOALWATCH_REDIS_CHANNEL``, through the
connection ``GOALWATCH_REDIS_CONN_ID``); ``runtime.events`` reads all of them.
"""

from __future__ import annotations

from airflow.sdk import Asset, AssetWatcher

from goalwatch.config.settings import Settings, settings
from goalwatch.runtime.events import MESSAGES_URI, METRIC_URI

__all__ = ["messages_asset", "metric_asset"]


def metric_asset(metric: str) -> Asset:
    return Asset(name=f"goalwatch.metric.{metric}", uri=f"{METRIC_URI}{metric}", group="goalwatch")


def messages_asset(env: Settings | None = None) -> Asset:
    """The asset a Redis channel's messages update, watched by the triggerer (no watcher when
    ``GOALWATCH_REDIS_CHANNEL`` is ``none``); the evaluate DAG's sweep updates it too."""
    from goalwatch.runtime.triggers import RedisMessages

    env = env or settings()
    if env.redis_channel is None:
        return Asset(name="goalwatch.messages", uri=MESSAGES_URI, group="goalwatch")
    trigger = RedisMessages(channels=[env.redis_channel], redis_conn_id=env.redis_conn_id, poll_interval=env.redis_poll)
    watcher = AssetWatcher(name=f"goalwatch_redis_{env.redis_channel}", trigger=trigger)
    return Asset(name="goalwatch.messages", uri=MESSAGES_URI, group="goalwatch", watchers=[watcher])
