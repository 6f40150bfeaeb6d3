"""Send the ledger's pending Slack calls through a :class:`Delivery`: Slack, a webhook, or the outbox.

Called after ``alerting.plan`` by the evaluate DAG's ``notify`` task, the digest, the watchdog
and replays. The transports through Airflow's Slack connections live in ``runtime.slack``; here
is what every transport promises (:class:`Delivery`), the ``Outbox`` used when no Slack is
configured (each call's exact payload written to ``<outbox>/<as_of>/<key>.json`` and logged
readably), and :func:`deliver`.

``deliver`` sends intents in the order they were planned. Before a post it counts an attempt; a
post that was attempted before is first looked for in the channel by the intent id in its
metadata, so a lost response or a killed task never makes a second message: the retry becomes a
``chat.update``. A call that still fails leaves its intent pending for the next run. Nothing here
logs a token or a webhook URL.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from goalwatch.errors import DeliveryError

__all__ = ["METADATA_TYPE", "Delivery", "Outbox", "deliver", "readable"]

log = logging.getLogger(__name__)
METADATA_TYPE = "goalwatch_alert"


class Delivery(Protocol):
    threads: bool

    def post(
        self, payload: dict[str, Any], *, key: str, as_of: str, pace: str | None = None
    ) -> tuple[str | None, str | None]:
        """Post a message (a reply when ``thread_ts`` is set); return its ``ts`` and channel id.
        ``pace`` names the channel for the rate limit, however the payload spells it."""

    def update(self, payload: dict[str, Any], *, channel_id: str, ts: str, key: str, as_of: str) -> None:
        """Replace a message's text and blocks."""

    def find(self, intent_id: str, *, channel: str, thread_ts: str | None) -> tuple[str, str] | None:
        """The ``ts`` and channel id of the message an earlier attempt of ``intent_id`` posted."""

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

    def post(
        self, payload: dict[str, Any], *, key: str, as_of: str, pace: str | None = None
    ) -> tuple[str | None, str | None]:
        body = {k: v for k, v in payload.items() if k != "metadata"}
        path = self._write(key, as_of, body)
        log.info("Slack is not configured; wrote %s\n%s", path, readable(body))
        return f"outbox:{key}", payload["channel"]

    def update(self, payload: dict[str, Any], *, channel_id: str, ts: str, key: str, as_of: str) -> None:
        body = {
            "channel": channel_id,
            "ts": ts,
            **{k: v for k, v in payload.items() if k not in ("channel", "metadata")},
        }
        self._write(key, as_of, body)

    def find(self, intent_id: str, *, channel: str, thread_ts: str | None) -> tuple[str, str] | None:
        return None  # a file write has no lost response to reconcile

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
        path = self.directory / as_of / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        log.info("Slack is not configured; wrote the chart %s", path)


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
                    delivery.upload(
                        base64.b64decode(intent.payload["content"]),
                        channel_id=message.channel_id or message.channel,
                        thread_ts=message.ts,
                        filename=intent.payload["filename"],
                        title=intent.payload["title"],
                        key=intent.key,
                        as_of=as_of,
                        pace=message.channel,
                    )
                ledger.sent(intent)
            elif intent.kind == "update":
                if not delivery.threads and message.ts is None:
                    ledger.sent(intent)  # a webhook message cannot be updated
                    continue
                if message.ts is None:
                    waiting.append(intent.key)
                    continue
                delivery.update(
                    intent.payload,
                    channel_id=message.channel_id or message.channel,
                    ts=message.ts,
                    key=intent.key,
                    as_of=as_of,
                )
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
