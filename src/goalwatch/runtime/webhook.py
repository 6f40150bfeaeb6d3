"""The incoming-webhook transport, for teams without a bot token (``slack_webhook_default``).

A webhook cannot update a message, read a channel back, delete or share a file: updates are
skipped and replies become messages of their own. Its error strings (plain text with a 4xx status)
are carried as the Web API code that means the same (:data:`WEBHOOK_CODES`), so
``alerting.refusals`` judges them alike. The webhook URL is the secret: slack_sdk's webhook client
is given a logger that says nothing, and no error repeats the URL or a body that may quote it.
Picked by ``runtime.slack.choose_delivery``.
"""

from __future__ import annotations

import logging
import re
from functools import cached_property
from typing import TYPE_CHECKING, Any

from goalwatch.errors import DeliveryError
from goalwatch.runtime.connections import unusable_connection

if TYPE_CHECKING:
    from collections.abc import Collection
    from datetime import datetime

__all__ = ["WEBHOOK_CODES", "WebhookDelivery"]

log = logging.getLogger(__name__)

# An incoming webhook answers an error as a plain-text string with a 4xx status
# (https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks#handling_errors,
# api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks). Those the Web API
# spells otherwise are carried as the Web API code that means the same; the rest as they are.
WEBHOOK_CODES = {
    "channel_is_archived": "is_archived",
    "action_prohibited": "restricted_action",
    "posting_to_general_channel_denied": "restricted_action",
    "user_not_found": "channel_not_found",  # the person a webhook posts to as a DM is gone
    "invalid_payload": "invalid_arguments",
    "no_service": "invalid_auth",  # the webhook was disabled or removed
    "no_service_id": "invalid_auth",
    "no_team": "invalid_auth",
    "team_disabled": "invalid_auth",
    "invalid_token": "invalid_auth",
}
_CODE = re.compile(r"[a-z][a-z0-9_]{1,63}")


def _silent_logger() -> logging.Logger:
    """For slack_sdk's webhook client, which logs the webhook URL (the secret) with every request
    at debug level and with every retry at info level: it says nothing at all."""
    silent = logging.getLogger(f"{__name__}.webhook_client")
    silent.setLevel(logging.CRITICAL + 1)
    silent.propagate = False
    return silent


class WebhookDelivery:
    """An incoming webhook: posts only; no updates, no threads, no ``ts`` to keep."""

    threads = False

    def __init__(self, *, conn_id: str) -> None:
        self.conn_id = conn_id

    @cached_property
    def hook(self) -> Any:
        from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook
        from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

        # Only a 429 is tried again: a post whose answer was lost may have been stored, and a
        # webhook cannot read the channel back to know (slack_sdk's default would resend it).
        return SlackWebhookHook(
            slack_webhook_conn_id=self.conn_id,
            logger=_silent_logger(),
            retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=3)],
        )

    def post(
        self, payload: dict[str, Any], *, key: str, as_of: str, pace: str | None = None
    ) -> tuple[str | None, str | None]:
        try:
            client = self.hook.client
        except Exception as exc:  # missing, no URL, unreadable
            raise unusable_connection(
                self.conn_id,
                exc,
                f"the alert {key}",
                conn_type="slackwebhook",
                secret="https://hooks.slack.com/services/…",
                variable="GOALWATCH_SLACK_WEBHOOK_CONN_ID",
            ) from None
        try:
            response = client.send(text=payload.get("text"), blocks=payload.get("blocks"))
        except Exception as exc:  # urllib's errors may quote the URL: only the type is said
            raise DeliveryError(
                f"the Slack webhook could not be reached for the alert {key}: {type(exc).__name__}"
            ) from None
        status, body = response.status_code, str(response.body or "").strip()
        if status == 200:
            return None, None
        raise _webhook_error(status, body, key)

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


def _webhook_error(status: int, body: str, key: str) -> DeliveryError:
    """What the webhook's answer means: a 5xx or a rate limit passes (no code, or Slack's); a 4xx
    string is Slack's code, as the Web API spells it. A body that is not a code (a proxy's page,
    which may quote the URL) is never repeated."""
    said = body if _CODE.fullmatch(body) else None
    if status >= 500:
        return DeliveryError(f"the Slack webhook failed the alert {key}: {said or 'no code'} (HTTP {status})")
    if status == 429:
        return DeliveryError(f"the Slack webhook rate-limited the alert {key} (HTTP 429)", code="ratelimited")
    if said is None:
        return DeliveryError(f"the Slack webhook refused the alert {key} (HTTP {status})", code=f"http_{status}")
    code = WEBHOOK_CODES.get(said, said)
    means = f", which the Web API calls {code}" if code != said else ""
    return DeliveryError(f"the Slack webhook refused the alert {key}: {said} (HTTP {status}{means})", code=code)
