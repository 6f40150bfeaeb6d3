"""Slack through Airflow's Slack provider: the bot token's ``SlackHook`` and the incoming webhook.

The transports that ``alerting.send.deliver`` sends through when an Airflow connection is
configured; :func:`choose_delivery` picks one (else the outbox). Credentials come only from the
connections; nothing here logs a token or a webhook URL, or puts one in an error.

- ``SlackDelivery``: the connection ``GOALWATCH_SLACK_CONN_ID`` (``slack_api_default``) through
  the provider's ``SlackHook`` (slack_sdk underneath), at most ``GOALWATCH_SLACK_RATE`` posts a
  second per channel (default 1). ``chat.postMessage`` and chart uploads (``files_upload_v2``)
  are retried by slack_sdk only after a 429 (Slack did nothing); after a server error or a lost
  answer Slack may have stored the message or shared the chart, so the post fails and the next
  attempt reads the channel back first (``alerting.send``); an upload is not tried again. Updates,
  lookups and deletes, which are safe to repeat, also retry server errors and dropped
  connections. A lookup reads at most :data:`MAX_PAGES` pages. Slack's error code travels in the
  ``DeliveryError`` (``code``, ``needed``) for ``alerting.refusals`` to judge; a connection that
  is missing or cannot be read is a ``DeliveryError`` without a code that names it;
- ``WebhookDelivery`` (``runtime.webhook``): an incoming webhook (``slack_webhook_default``) for
  teams without a bot token.
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
from goalwatch.runtime.connections import unusable_connection
from goalwatch.runtime.webhook import WebhookDelivery

__all__ = ["MAX_PAGES", "SlackDelivery", "WebhookDelivery", "choose_delivery", "connection_exists"]

log = logging.getLogger(__name__)

# A lookup (or a channel's id by its name) reads at most this many pages, then goes on with what
# it found: a channel busy enough to hide a post further back gets it posted again, and heal
# removes the twin later. 50 pages are 10,000 messages (750 where Slack caps a page at 15).
MAX_PAGES = 50


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
        self._ids: dict[str, str] = {}  # channel name -> id, from conversations.list

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
        """For chat.postMessage and chart uploads: the rate-limit retry only. A 5xx or a dropped
        connection may come after Slack stored the message (or shared the chart:
        files.completeUploadExternal), so a retried call could be a second one; instead it fails,
        and the next attempt finds a post by its metadata (an upload is not tried again)."""
        return self._hook(repeatable=False)

    def _call(self, what: str, key: str, where: str, method: str, *, post: bool = False, **kwargs: Any) -> Any:
        """``method`` of the slack_sdk client (the post hook's with ``post``), its failures as a
        ``DeliveryError``: Slack's code when Slack answered, none when it could not be reached or
        the Airflow connection could not give a client."""
        from slack_sdk.errors import SlackApiError, SlackClientError

        try:
            fn = getattr((self.post_hook if post else self.hook).client, method)
        except Exception as exc:  # missing, no password, unreadable extras, a failing secrets backend
            raise unusable_connection(
                self.conn_id,
                exc,
                f"{what} {key}",
                conn_type="slack",
                secret="xoxb-…",
                variable="GOALWATCH_SLACK_CONN_ID",
            ) from None
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
        except Exception as exc:  # the provider's own (AirflowException), a base_url urllib cannot use...
            raise DeliveryError(
                f"{what} {key} for {where} failed in the Slack client of the Airflow connection {self.conn_id!r} "
                f"({type(exc).__name__}): check its base_url and extras (`airflow connections get {self.conn_id}`); "
                "it is tried again on the next attempt"
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
            lambda: self._call("the alert", key, payload["channel"], "chat_postMessage", post=True, **payload),
        )
        log.info("Posted %s to %s (ts %s)", key, payload["channel"], response.get("ts"))
        return response.get("ts"), response.get("channel")

    def update(self, payload: dict[str, Any], *, channel_id: str, ts: str, key: str, as_of: str) -> None:
        body = {k: v for k, v in payload.items() if k not in ("channel", "thread_ts")}
        self._call("the update", key, channel_id, "chat_update", channel=channel_id, ts=ts, **body)
        log.info("Updated %s in %s (ts %s)", key, channel_id, ts)

    def lookup(
        self, intent_ids: Collection[str], *, channel: str, thread_ts: str | None, oldest: datetime
    ) -> tuple[str | None, dict[str, list[str]]]:
        channel_id = channel if not channel.startswith("#") else self._channel_id(channel)
        if channel_id is None:
            return None, {}
        wanted, found = set(intent_ids), defaultdict(list)
        method = "conversations_replies" if thread_ts else "conversations_history"
        args = {"ts": thread_ts} if thread_ts else {}
        cursor = None
        for _ in range(MAX_PAGES):
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
        else:
            log.warning(
                "Stopped reading %s back after %d pages; what was not found is posted again, "
                "and heal removes a second copy once it sees one",
                channel,
                MAX_PAGES,
            )
        return channel_id, {i: sorted(set(ts), key=Decimal) for i, ts in found.items()}

    def delete(self, *, channel_id: str, ts: str, key: str) -> None:
        self._call("the delete", key, channel_id, "chat_delete", channel=channel_id, ts=ts)
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
                "files_upload_v2",
                post=True,
                channel=channel_id,
                thread_ts=thread_ts,
                content=content,
                filename=filename,
                title=title,
            ),
        )
        log.info("Shared the chart %s in %s", filename, channel_id)

    def _channel_id(self, name: str) -> str | None:
        """The channel's id, None when Slack lists no such channel; a failed lookup is an error, so
        the intent waits rather than posting a second message it could not rule out. Private
        channels are listed too when the token has groups:read; without it only public ones (a
        private channel is invisible to it anyway), so a config of public channels needs no
        groups:read."""
        wanted = name.lstrip("#")
        types, cursor, pages = "public_channel,private_channel", None, 0
        while wanted not in self._ids:
            if pages == MAX_PAGES:
                log.warning("Stopped looking for the channel %s after %d pages of channels", name, MAX_PAGES)
                break
            try:
                page = self._call(
                    "the channel lookup", name, name, "conversations_list", types=types, limit=200, cursor=cursor
                )
            except DeliveryError as exc:
                if exc.code != "missing_scope" or types == "public_channel":
                    raise
                types, cursor, pages = "public_channel", None, 0  # no groups:read: the public ones
                continue
            pages += 1
            self._ids.update({c["name"]: c["id"] for c in page.get("channels", []) if c.get("name")})
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return self._ids.get(wanted)


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
