"""Send alert payloads: to Slack through the provider's hook, or to the local outbox.

Called by the evaluate DAG's ``notify`` task. When the Slack connection (``slack_api_default`` by
default) exists, payloads go to ``chat.postMessage`` with slack_sdk's retry handlers for rate
limits, server errors and dropped connections; otherwise each payload is written, exactly as it
would be posted, to ``<outbox>/<as_of>/<key>.json``. Neither path logs the token.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

from goalwatch import settings
from goalwatch.errors import DeliveryError

__all__ = ["Delivery", "Outbox", "SlackDelivery", "choose_delivery", "readable", "slack_configured"]

log = logging.getLogger(__name__)


class Delivery(Protocol):
    def send(self, payload: dict[str, Any], *, key: str, as_of: str) -> str | None:
        """Deliver one payload; return the Slack ``ts`` where there is one."""


@dataclass
class Outbox:
    directory: Path

    def send(self, payload: dict[str, Any], *, key: str, as_of: str) -> str | None:
        path = self.directory / as_of / f"{key}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        log.info("Slack is not configured; wrote %s\n%s", path, readable(payload))
        return None


class SlackDelivery:
    def __init__(self, *, conn_id: str) -> None:
        self.conn_id = conn_id

    @cached_property
    def hook(self) -> Any:
        from airflow.providers.slack.hooks.slack import SlackHook
        from slack_sdk.http_retry.builtin_handlers import (
            ConnectionErrorRetryHandler,
            RateLimitErrorRetryHandler,
            ServerErrorRetryHandler,
        )

        handlers = [
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
        ]
        return SlackHook(slack_conn_id=self.conn_id, retry_handlers=handlers)

    def send(self, payload: dict[str, Any], *, key: str, as_of: str) -> str | None:
        from slack_sdk.errors import SlackApiError, SlackClientError

        try:
            response = self.hook.client.chat_postMessage(**payload)
        except SlackApiError as exc:
            error = exc.response.get("error", "unknown_error") if exc.response is not None else "unknown_error"
            raise DeliveryError(f"Slack refused the alert {key} for {payload['channel']}: {error}") from None
        except SlackClientError as exc:
            raise DeliveryError(
                f"Slack could not be reached for the alert {key} to {payload['channel']}: {type(exc).__name__}"
            ) from None
        log.info("Posted %s to %s (ts %s)", key, payload["channel"], response.get("ts"))
        return response.get("ts")


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
    return Outbox(settings.outbox_dir())


def readable(payload: dict[str, Any]) -> str:
    """A payload as a person reads it in Slack: header, sections and fields as plain lines."""
    lines = [f"→ {payload['channel']}"]
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
