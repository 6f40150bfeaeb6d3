"""What every transport of Slack calls promises (:class:`Delivery`), and the outbox.

``alerting.send`` sends the ledger's pending intents through a Delivery: the transports through
Airflow's Slack connections (``runtime.slack``), or the ``Outbox`` used when no Slack is
configured (each call's exact payload written to ``<outbox>/<as_of>/<key>.json`` and logged
readably, see :func:`readable`). Nothing here logs a token or a webhook URL.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

__all__ = ["METADATA_TYPE", "Delivery", "Outbox", "readable"]

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

    def lookup(
        self, intent_ids: Collection[str], *, channel: str, thread_ts: str | None, oldest: datetime
    ) -> tuple[str | None, dict[str, list[str]]]:
        """The channel's id and, for each of ``intent_ids``, the ``ts`` of every message carrying it
        in its metadata (oldest first), in the channel or in the thread ``thread_ts``, posted since
        ``oldest``: every page read."""

    def delete(self, *, channel_id: str, ts: str, key: str) -> None:
        """Delete one of goalwatch's own messages."""

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

    def lookup(
        self, intent_ids: Collection[str], *, channel: str, thread_ts: str | None, oldest: datetime
    ) -> tuple[str | None, dict[str, list[str]]]:
        return None, {}  # a file write has no lost response to reconcile

    def delete(self, *, channel_id: str, ts: str, key: str) -> None:
        log.info("The outbox keeps every file; %s not deleted", key)

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
