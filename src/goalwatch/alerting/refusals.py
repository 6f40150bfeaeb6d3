"""What Slack's answer to a call means for the alert: try again later, repost, or give up and say why.

Slack answers a refused call with an error code (``{"ok": false, "error": "not_in_channel"}``).
Some codes pass (a rate limit, an ``internal_error``, a dropped connection: the call is tried again
on the next attempt, and the task fails so Airflow retries it); others never will until a person
acts (the bot is not in the channel, a scope is missing, the token was revoked). A channel's or a
message's refusal fails the alert for good: ``alerting.send`` marks its intent ``failed`` with the
reason, goes on with the other goals and channels, and ``alerting.notices.plan_failures`` says it
once in plain words. A refused token stops every call: they wait, and the task fails.

A message that is gone (deleted in Slack, or only ever written to the outbox) is neither: an
update of it posts a new message instead. Called by ``alerting.send``; pure (no Slack client).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["GONE", "Refusal", "classify"]

# The token itself is refused: every call fails the same way until the connection is fixed.
_TOKEN = {"not_authed", "invalid_auth", "account_inactive", "token_revoked", "token_expired", "no_permission"}
# The channel refuses the bot: every call to that channel fails until someone acts there.
_CHANNEL = {
    "not_in_channel",
    "channel_not_found",
    "is_archived",
    "is_inactive",
    "restricted_action",
    "restricted_action_read_only_channel",
    "restricted_action_thread_only_channel",
    "restricted_action_non_threadable_channel",
    "posting_to_channel_denied",
    "team_access_not_granted",
    "missing_scope",
}
# This one message is refused (its size or shape): others may still go.
_MESSAGE = {
    "invalid_blocks",
    "invalid_blocks_format",
    "msg_too_long",
    "msg_blocks_too_long",
    "invalid_arguments",
    "invalid_metadata_format",
    "invalid_metadata_schema",
    "metadata_too_large",
    "too_many_attachments",
    "no_text",
    "cannot_reply_to_message",
    "invalid_thread_ts",
    "thread_not_found",
    "file_uploads_disabled",
    "file_upload_size_restricted",
}
# The message to update is not there (or is not the bot's): post a new one instead.
GONE = {"message_not_found", "cant_update_message", "edit_window_closed"}


@dataclass(frozen=True)
class Refusal:
    """A permanent refusal: ``reach`` is ``"token"``, ``"channel"`` or ``"message"``."""

    code: str
    reach: str
    channel: str
    advice: str

    def reason(self) -> str:
        return f"Slack said {self.code}: {self.advice}"


def classify(code: str | None, *, channel: str, needed: str | None = None, conn_id: str = "") -> Refusal | None:
    """The permanent refusal ``code`` stands for, None when trying again may work (no code: the
    call did not get an answer; a rate limit or a server error; a code Slack does not document
    as permanent)."""
    if code is None:
        return None
    if code in _TOKEN:
        where = f"the Airflow connection {conn_id}" if conn_id else "the Slack connection"
        return Refusal(code, "token", channel, f"the bot token is not valid any more: put a current one in {where}")
    if code in _CHANNEL:
        return Refusal(code, "channel", channel, _channel_advice(code, channel, needed))
    if code in _MESSAGE:
        return Refusal(
            code,
            "message",
            channel,
            "Slack refused this message's content, which goalwatch should never build: "
            "please report it with this task's log",
        )
    return None


def _channel_advice(code: str, channel: str, needed: str | None) -> str:
    name = channel if channel.startswith("#") else f"channel {channel}"
    if code == "not_in_channel":
        return f"invite the bot to {name} (type /invite @goalwatch there)"
    if code == "channel_not_found":
        return (
            f"check that {name} exists; for a private channel, invite the bot and add the groups:read scope; "
            "or point notify.channel in goals.yml at a channel that exists"
        )
    if code == "is_archived":
        return f"unarchive {name}, or point notify.channel in goals.yml at another channel"
    if code == "missing_scope":
        scope = needed or "the missing"
        return f"add the {scope} scope to the Slack app and reinstall it to the workspace"
    return f"a workspace admin restricts posting in {name}: ask them to allow the goalwatch app"
