"""Send the ledger's pending Slack calls: to Slack, to an incoming webhook, or to the outbox.

Called by the evaluate DAG's ``notify`` task after ``alerts.plan``. Three ways out:

- ``SlackDelivery``: the Slack connection (``slack_api_default``) through the provider's
  ``SlackHook``, with slack_sdk's retry handlers for rate limits, server errors and dropped
  connections, and at most ``GOALWATCH_SLACK_RATE`` messages a second per channel (default 1);
- ``WebhookDelivery``: an incoming webhook (connection ``slack_webhook_default``) for teams
  without a bot token. A webhook cannot update a message or reply in a thread: updates are
  skipped and replies become messages of their own;
- ``Outbox``: no Slack configured: each call's exact payload is written to
  ``<outbox>/<as_of>/<key>.json`` and logged readably.

``deliver`` sends intents in the order they were planned. Before a post it counts an attempt; a
post that was attempted before is first looked for in the channel by the intent id in its
metadata, so a lost response or a killed task never makes a second message: the retry becomes a
``chat.update``. A call that still fails leaves its intent pending for the next run. Nothing here
logs a token or a webhook URL.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

from goalwatch.config import settings
from goalwatch.errors import DeliveryError

__all__ = ["Delivery", "Outbox", "SlackDelivery", "WebhookDelivery", "choose_delivery", "deliver", "readable",
           "slack_configured"]

log = logging.getLogger(__name__)
METADATA_TYPE = "goalwatch_alert"


class Delivery(Protocol):
    threads: bool

    def post(self, payload: dict[str, Any], *, key: str, as_of: str, pace: str | None = None
             ) -> tuple[str | None, str | None]:
        """Post a message (a reply when ``thread_ts`` is set); return its ``ts`` and channel id.
        ``pace`` names the channel for the rate limit, however the payload spells it."""

    def update(self, payload: dict[str, Any], *, channel_id: str, ts: str, key: str, as_of: str) -> None:
        """Replace a message's text and blocks."""

    def find(self, intent_id: str, *, channel: str, thread_ts: str | None) -> tuple[str, str] | None:
        """The ``ts`` and channel id of the message an earlier attempt of ``intent_id`` posted."""

    def upload(self, content: bytes, *, channel_id: str, thread_ts: str | None, filename: str, title: str,
               key: str, as_of: str, pace: str | None = None) -> None:
        """Share a file (a chart) in a message's thread."""


@dataclass
class Outbox:
    directory: Path
    threads: bool = True

    def _write(self, name: str, as_of: str, payload: dict[str, Any]) -> Path:
        path = self.directory / as_of / f"{name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return path

    def post(self, payload: dict[str, Any], *, key: str, as_of: str, pace: str | None = None
             ) -> tuple[str | None, str | None]:
        body = {k: v for k, v in payload.items() if k != "metadata"}
        path = self._write(key, as_of, body)
        log.info("Slack is not configured; wrote %s\n%s", path, readable(body))
        return f"outbox:{key}", payload["channel"]

    def update(self, payload: dict[str, Any], *, channel_id: str, ts: str, key: str, as_of: str) -> None:
        body = {"channel": channel_id, "ts": ts, **{k: v for k, v in payload.items() if k not in ("channel", "metadata")}}
        self._write(key, as_of, body)

    def find(self, intent_id: str, *, channel: str, thread_ts: str | None) -> tuple[str, str] | None:
        return None  # a file write has no lost response to reconcile

    def upload(self, content: bytes, *, channel_id: str, thread_ts: str | None, filename: str, title: str,
               key: str, as_of: str, pace: str | None = None) -> None:
        path = self.directory / as_of / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        log.info("Slack is not configured; wrote the chart %s", path)


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


class SlackDelivery:
    threads = True

    def __init__(self, *, conn_id: str, rate: float | None = None) -> None:
        self.conn_id = conn_id
        self.limit = _RateLimit(rate if rate is not None else float(os.environ.get("GOALWATCH_SLACK_RATE", "1")))

    def _hook(self, *, reconnect: bool) -> Any:
        from airflow.providers.slack.hooks.slack import SlackHook
        from slack_sdk.http_retry.builtin_handlers import (
            ConnectionErrorRetryHandler,
            RateLimitErrorRetryHandler,
            ServerErrorRetryHandler,
        )
        from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator

        backoff = BackoffRetryIntervalCalculator(backoff_factor=float(os.environ.get("GOALWATCH_SLACK_BACKOFF", "0.5")))
        handlers = [
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2, interval_calculator=backoff),
        ]
        if reconnect:
            handlers.append(ConnectionErrorRetryHandler(max_retry_count=2, interval_calculator=backoff))
        timeout = int(os.environ.get("GOALWATCH_SLACK_TIMEOUT", "30"))
        return SlackHook(slack_conn_id=self.conn_id, retry_handlers=handlers, timeout=timeout)

    @cached_property
    def hook(self) -> Any:
        """For calls that are safe to repeat (updates, lookups): all three retry handlers."""
        return self._hook(reconnect=True)

    @cached_property
    def post_hook(self) -> Any:
        """For chat.postMessage: rate-limit and server-error retries only. A connection that drops
        after Slack stored the message would make a retried post a second message; instead the
        post fails, its intent stays attempted, and the next attempt finds it by its metadata."""
        return self._hook(reconnect=False)

    def _call(self, what: str, key: str, where: str, fn: Any, **kwargs: Any) -> Any:
        from slack_sdk.errors import SlackApiError, SlackClientError

        try:
            return fn(**kwargs)
        except SlackApiError as exc:
            error = exc.response.get("error", "unknown_error") if exc.response is not None else "unknown_error"
            raise DeliveryError(f"Slack refused {what} {key} for {where}: {error}") from None
        except (SlackClientError, OSError) as exc:
            raise DeliveryError(f"Slack could not be reached for {what} {key} to {where}: {type(exc).__name__}") from None

    def _paced(self, channel: str, call: Any) -> Any:
        self.limit.wait(channel)
        try:
            return call()
        finally:
            self.limit.done(channel)

    def post(self, payload: dict[str, Any], *, key: str, as_of: str, pace: str | None = None) -> tuple[str | None, str | None]:
        response = self._paced(pace or payload["channel"], lambda: self._call(
            "the alert", key, payload["channel"], self.post_hook.client.chat_postMessage, **payload))
        log.info("Posted %s to %s (ts %s)", key, payload["channel"], response.get("ts"))
        return response.get("ts"), response.get("channel")

    def update(self, payload: dict[str, Any], *, channel_id: str, ts: str, key: str, as_of: str) -> None:
        body = {k: v for k, v in payload.items() if k not in ("channel", "thread_ts")}
        self._call("the update", key, channel_id, self.hook.client.chat_update, channel=channel_id, ts=ts, **body)
        log.info("Updated %s in %s (ts %s)", key, channel_id, ts)

    def find(self, intent_id: str, *, channel: str, thread_ts: str | None) -> tuple[str, str] | None:
        client = self.hook.client
        channel_id = channel if not channel.startswith("#") else self._channel_id(channel)
        if channel_id is None:
            return None
        if thread_ts:
            response = self._call("the lookup", intent_id, channel, client.conversations_replies,
                                  channel=channel_id, ts=thread_ts, include_all_metadata=True, limit=200)
        else:
            response = self._call("the lookup", intent_id, channel, client.conversations_history,
                                  channel=channel_id, include_all_metadata=True, limit=200)
        for message in response.get("messages", []):
            meta = message.get("metadata") or {}
            if meta.get("event_type") == METADATA_TYPE and (meta.get("event_payload") or {}).get("intent") == intent_id:
                return message["ts"], channel_id
        return None

    def upload(self, content: bytes, *, channel_id: str, thread_ts: str | None, filename: str, title: str,
               key: str, as_of: str, pace: str | None = None) -> None:
        self._paced(pace or channel_id, lambda: self._call(
            "the chart", key, channel_id, self.hook.client.files_upload_v2, channel=channel_id,
            thread_ts=thread_ts, content=content, filename=filename, title=title))
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

    def post(self, payload: dict[str, Any], *, key: str, as_of: str, pace: str | None = None
             ) -> tuple[str | None, str | None]:
        try:
            self.hook.send(text=payload.get("text"), blocks=payload.get("blocks"))
        except Exception as exc:  # the provider's errors vary; never echo the URL
            raise DeliveryError(f"the Slack webhook refused the alert {key}: {type(exc).__name__}") from None
        return None, None

    def update(self, payload: dict[str, Any], *, channel_id: str, ts: str, key: str, as_of: str) -> None:
        log.info("Webhooks cannot update messages; %s not sent", key)

    def find(self, intent_id: str, *, channel: str, thread_ts: str | None) -> tuple[str, str] | None:
        return None

    def upload(self, content: bytes, *, channel_id: str, thread_ts: str | None, filename: str, title: str,
               key: str, as_of: str, pace: str | None = None) -> None:
        log.info("Webhooks cannot share files; the chart %s is not sent", filename)


def slack_configured(conn_id: str) -> bool:
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
    conn_id = settings.slack_conn_id()
    if slack_configured(conn_id):
        return SlackDelivery(conn_id=conn_id)
    webhook = os.environ.get("GOALWATCH_SLACK_WEBHOOK_CONN_ID", "slack_webhook_default")
    if slack_configured(webhook):
        return WebhookDelivery(conn_id=webhook)
    return Outbox(settings.outbox_dir())


def deliver(ledger: Any, delivery: Delivery) -> dict[str, Any]:
    """Send every pending intent in order; keep what fails pending and report it."""
    sent, waiting, failed = [], [], []
    blocked: set[str] = set()  # a channel whose call failed: later calls to it wait for the next run
    for intent in ledger.pending():
        message = ledger.message(intent.message_id)
        if message.channel in blocked:
            waiting.append(intent.key)
            continue
        as_of = intent.as_of.isoformat()
        try:
            if intent.kind == "upload":
                if message.ts is None and delivery.threads:
                    waiting.append(intent.key)
                    continue
                import base64

                # An upload has no metadata to find it by: one attempt only, so a lost response can
                # at worst lose a chart, never post it twice.
                if intent.attempts == 0:
                    ledger.attempt(intent)
                    delivery.upload(base64.b64decode(intent.payload["content"]),
                                    channel_id=message.channel_id or message.channel, thread_ts=message.ts,
                                    filename=intent.payload["filename"], title=intent.payload["title"],
                                    key=intent.key, as_of=as_of, pace=message.channel)
                ledger.sent(intent)
            elif intent.kind == "update":
                if not delivery.threads and message.ts is None:
                    ledger.sent(intent)  # a webhook message cannot be updated
                    continue
                if message.ts is None:
                    waiting.append(intent.key)
                    continue
                delivery.update(intent.payload, channel_id=message.channel_id or message.channel, ts=message.ts,
                                key=intent.key, as_of=as_of)
                ledger.sent(intent)
            else:
                payload = dict(intent.payload)
                thread_ts = None
                if message.parent_id is not None and delivery.threads:
                    parent = ledger.message(message.parent_id)
                    if parent.ts is None:
                        waiting.append(intent.key)
                        continue
                    thread_ts = parent.ts
                    payload["thread_ts"] = thread_ts
                    payload["channel"] = parent.channel_id or payload["channel"]
                payload["metadata"] = {"event_type": METADATA_TYPE, "event_payload": {"intent": intent.id}}
                if intent.attempts > 0:
                    channel = ledger.channel_id(message.channel) or payload["channel"]
                    found = delivery.find(intent.id, channel=channel, thread_ts=thread_ts)
                    if found is not None:
                        ts, channel_id = found
                        delivery.update(payload, channel_id=channel_id, ts=ts, key=intent.key, as_of=as_of)
                        ledger.sent(intent, ts=ts, channel_id=channel_id)
                        sent.append(intent.key)
                        continue
                ledger.attempt(intent)
                ts, channel_id = delivery.post(payload, key=intent.key, as_of=as_of, pace=message.channel)
                ledger.sent(intent, ts=ts, channel_id=channel_id)
            sent.append(intent.key)
        except DeliveryError as exc:
            log.warning("%s; it stays pending for the next run", exc)
            failed.append(str(exc))
            blocked.add(message.channel)
    return {"sent": sent, "waiting": waiting, "failed": failed}


def readable(payload: dict[str, Any]) -> str:
    """A payload as a person reads it in Slack: header, sections and fields as plain lines."""
    lines = [f"→ {payload['channel']}" + (f" (thread {payload['thread_ts']})" if payload.get("thread_ts") else "")]
    for block in payload.get("blocks", []):
        if block["type"] == "header":
            lines.append(block["text"]["text"])
        elif block["type"] == "section":
            if "text" in block:
                lines.append(block["text"]["text"].replace("*", ""))
            for f in block.get("fields", []):
                lines.append("  " + f["text"].replace("*", "").replace("\n", ": "))
        elif block["type"] == "context":
            lines.extend(e.get("text", "") for e in block["elements"])
    return "\n".join(lines)
