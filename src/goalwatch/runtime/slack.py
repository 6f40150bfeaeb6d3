"""Slack through Airflow's Slack provider: the bot token's ``SlackHook`` and the incoming webhook.

The transports that ``alerting.send.deliver`` sends through when an Airflow connection is
configured; :func:`choose_delivery` picks one (else the outbox). Credentials come only from the
connections; nothing here logs a token or a webhook URL.

- ``SlackDelivery``: the connection ``GOALWATCH_SLACK_CONN_ID`` (``slack_api_default``) through
  the provider's ``SlackHook`` (slack_sdk underneath), at most ``GOALWATCH_SLACK_RATE`` posts a
  second per channel (default 1). ``chat.postMessage`` is retried by slack_sdk only after a 429
  (Slack did nothing); after a server error or a lost answer Slack may have stored it, so the
  next attempt reads the channel back first (``alerting.send``). Updates, lookups and deletes,
  which are safe to repeat, also retry server errors and dropped connections. Slack's error code
  travels in the ``DeliveryError`` (``code``, ``needed``) for ``alerting.refusals`` to judge;
- ``WebhookDelivery``: an incoming webhook (``slack_webhook_default``) for teams without a bot
  token. It cannot update a message or reply in a thread: updates are skipped and replies become
  messages of their own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Collection
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import Any

from goalwatch.alerting.delivery import METADATA_TYPE, Delivery, Outbox
from goalwatch.config.settings import settings
from goalwatch.errors import DeliveryError

__all__ = ["SlackDelivery", "WebhookDelivery", "choose_delivery", "connection_exists"]

log = logging.getLogger(__name__)


class _RateLimit:
    """At most ``rate`` messages a second per channel (Slack's own guidance is about one)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.last: dict[str, float] = {}
        self.lock = threading.Lock()

    def wait(self, channel: str) -> None:
        """Block until ``channel``'s last call finished at least one interval ago."""
        with self.lock:
            now = time.monotonic()
            ready = self.last.get(channel, -1e9) + self.interval
            if ready > now:
                time.sleep(ready - now)

    def done(self, channel: str) -> None:
        """A call to ``channel`` just ended (after any retries): the next one waits from here."""
        with self.lock:
            self.last[channel] = time.monotonic()


class _Jitter:
    """slack_sdk's ``Jitter``: a random extra of up to ``limit`` seconds."""

    def __init__(self, limit: float) -> None:
        self.limit = limit

    def recalculate(self, duration: float) -> float:
        import random

        return duration + random.uniform(0, self.limit)


class SlackDelivery:
    threads = True

    def __init__(self, *, conn_id: str, rate: float | None = None) -> None:
        self.conn_id = conn_id
        self.limit = _RateLimit(rate if rate is not None else settings().slack_rate)

    def _hook(self, *, repeatable: bool) -> Any:
        from airflow.providers.slack.hooks.slack import SlackHook
        from slack_sdk.http_retry.builtin_handlers import (
            ConnectionErrorRetryHandler,
            RateLimitErrorRetryHandler,
            ServerErrorRetryHandler,
        )
        from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator

        env = settings()
        # Exponential backoff from GOALWATCH_SLACK_BACKOFF, with a random jitter of up to that
        # factor (slack_sdk's default jitter adds up to a whole second whatever the factor).
        backoff = BackoffRetryIntervalCalculator(backoff_factor=env.slack_backoff, jitter=_Jitter(env.slack_backoff))
        handlers: list[Any] = [RateLimitErrorRetryHandler(max_retry_count=3)]
        if repeatable:
            handlers.append(ServerErrorRetryHandler(max_retry_count=2, interval_calculator=backoff))
            handlers.append(ConnectionErrorRetryHandler(max_retry_count=2, interval_calculator=backoff))
        return SlackHook(slack_conn_id=self.conn_id, retry_handlers=handlers, timeout=env.slack_timeout)

    @cached_property
    def hook(self) -> Any:
        """For calls that are safe to repeat (updates, lookups, deletes): all three retry handlers."""
        return self._hook(repeatable=True)

    @cached_property
    def post_hook(self) -> Any:
        """For chat.postMessage: the rate-limit retry only. A 5xx or a dropped connection may come
        after Slack stored the message, so a retried post could be a second message; instead the
        post fails, its intent stays attempted, and the next attempt finds it by its metadata."""
        return self._hook(repeatable=False)

    def _call(self, what: str, key: str, where: str, fn: Any, **kwargs: Any) -> Any:
        from slack_sdk.errors import SlackApiError, SlackClientError

        try:
            return fn(**kwargs)
        except SlackApiError as exc:
            response = exc.response
            error = str(response.get("error") or "unknown_error") if response is not None else "unknown_error"
            needed = response.get("needed") if response is not None else None
            status = getattr(response, "status_code", 200)
            raise DeliveryError(
                f"Slack refused {what} {key} for {where}: {error}" + (f" (HTTP {status})" if status != 200 else ""),
                code=error,
                needed=needed,
            ) from None
        except (SlackClientError, OSError) as exc:
            raise DeliveryError(
                f"Slack could not be reached for {what} {key} to {where}: {type(exc).__name__}"
            ) from None

    def _paced(self, channel: str, call: Any) -> Any:
        self.limit.wait(channel)
        try:
            return call()
        finally:
            self.limit.done(channel)

    def post(
        self, payload: dict[str, Any], *, key: str, as_of: str, pace: str | None = None
    ) -> tuple[str | None, str | None]:
        response = self._paced(
            pace or payload["channel"],
            lambda: self._call("the alert", key, payload["channel"], self.post_hook.client.chat_postMessage, **payload),
        )
        log.info("Posted %s to %s (ts %s)", key, payload["channel"], response.get("ts"))
        return response.get("ts"), response.get("channel")

    def update(self, payload: dict[str, Any], *, channel_id: str, ts: str, key: str, as_of: str) -> None:
        body = {k: v for k, v in payload.items() if k not in ("channel", "thread_ts")}
        self._call("the update", key, channel_id, self.hook.client.chat_update, channel=channel_id, ts=ts, **body)
        log.info("Updated %s in %s (ts %s)", key, channel_id, ts)

    def lookup(
        self, intent_ids: Collection[str], *, channel: str, thread_ts: str | None, oldest: datetime
    ) -> tuple[str | None, dict[str, list[str]]]:
        channel_id = channel if not channel.startswith("#") else self._channel_id(channel)
        if channel_id is None:
            return None, {}
        wanted, found = set(intent_ids), defaultdict(list)
        method = self.hook.client.conversations_replies if thread_ts else self.hook.client.conversations_history
        args = {"ts": thread_ts} if thread_ts else {}
        cursor = None
        while True:
            response = self._call(
                "the lookup",
                ",".join(sorted(wanted)),
                channel,
                method,
                channel=channel_id,
                oldest=f"{oldest.timestamp():.6f}",
                include_all_metadata=True,
                limit=200,
                cursor=cursor,
                **args,
            )
            for message in response.get("messages", []):
                meta = message.get("metadata") or {}
                intent = (meta.get("event_payload") or {}).get("intent")
                if meta.get("event_type") == METADATA_TYPE and intent in wanted:
                    found[intent].append(message["ts"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return channel_id, {i: sorted(set(ts), key=Decimal) for i, ts in found.items()}

    def delete(self, *, channel_id: str, ts: str, key: str) -> None:
        self._call("the delete", key, channel_id, self.hook.client.chat_delete, channel=channel_id, ts=ts)
        log.info("Deleted %s in %s (ts %s)", key, channel_id, ts)

    def upload(
        self,
        content: bytes,
        *,
        channel_id: str,
        thread_ts: str | None,
        filename: str,
        title: str,
        key: str,
        as_of: str,
        pace: str | None = None,
    ) -> None:
        self._paced(
            pace or channel_id,
            lambda: self._call(
                "the chart",
                key,
                channel_id,
                self.hook.client.files_upload_v2,
                channel=channel_id,
                thread_ts=thread_ts,
                content=content,
                filename=filename,
                title=title,
            ),
        )
        log.info("Shared the chart %s in %s", filename, channel_id)

    def _channel_id(self, name: str) -> str | None:
        """The channel's id, None when Slack has no such channel; a failed lookup is an error, so
        the intent waits rather than posting a second message it could not rule out."""
        try:
            return self._call("the channel lookup", name, name, self.hook.get_channel_id, channel_name=name.lstrip("#"))
        except LookupError:
            return None


class WebhookDelivery:
    """An incoming webhook: posts only; no updates, no threads, no ``ts`` to keep."""

    threads = False

    def __init__(self, *, conn_id: str) -> None:
        self.conn_id = conn_id

    @cached_property
    def hook(self) -> Any:
        from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook

        return SlackWebhookHook(slack_webhook_conn_id=self.conn_id)

    def post(
        self, payload: dict[str, Any], *, key: str, as_of: str, pace: str | None = None
    ) -> tuple[str | None, str | None]:
        try:
            self.hook.send(text=payload.get("text"), blocks=payload.get("blocks"))
        except Exception as exc:  # the provider's errors vary; never echo the URL
            raise DeliveryError(f"the Slack webhook refused the alert {key}: {type(exc).__name__}") from None
        return None, None

    def update(self, payload: dict[str, Any], *, channel_id: str, ts: str, key: str, as_of: str) -> None:
        log.info("Webhooks cannot update messages; %s not sent", key)

    def lookup(
        self, intent_ids: Collection[str], *, channel: str, thread_ts: str | None, oldest: datetime
    ) -> tuple[str | None, dict[str, list[str]]]:
        return None, {}  # a webhook cannot read a channel back

    def delete(self, *, channel_id: str, ts: str, key: str) -> None:
        log.info("Webhooks cannot delete messages; %s kept", key)

    def upload(
        self,
        content: bytes,
        *,
        channel_id: str,
        thread_ts: str | None,
        filename: str,
        title: str,
        key: str,
        as_of: str,
        pace: str | None = None,
    ) -> None:
        log.info("Webhooks cannot share files; the chart %s is not sent", filename)


def connection_exists(conn_id: str) -> bool:
    """Whether the Airflow connection ``conn_id`` exists."""
    from airflow.sdk import BaseHook

    try:
        BaseHook.get_connection(conn_id)
    except Exception as exc:  # AirflowNotFoundException, under whichever module raises it
        if type(exc).__name__ == "AirflowNotFoundException":
            return False
        raise
    return True


def choose_delivery() -> Delivery:
    """The bot token's connection if it exists, else the webhook's, else the outbox."""
    env = settings()
    if connection_exists(env.slack_conn_id):
        return SlackDelivery(conn_id=env.slack_conn_id)
    if connection_exists(env.slack_webhook_conn_id):
        return WebhookDelivery(conn_id=env.slack_webhook_conn_id)
    return Outbox(env.outbox_dir)
