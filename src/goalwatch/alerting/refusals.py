"""What Slack's answer to a call means for the alert: try again later, repost, or give up and say why.

Slack answers a refused call with an error code (``{"ok": false, "error": "not_in_channel"}``).
Some codes pass (a rate limit, an ``internal_error``, a dropped connection: the call is tried again
on the next attempt, and the task fails so Airflow retries it); others never will until a person
acts. How far a refusal reaches decides what else waits:

- the token (revoked, expired, not allowed in the workspace): every call waits, and the task fails;
- a channel (the bot is not in it, it is archived or gone, posting there is restricted): every
  call to that channel fails with the same reason, other channels go on;
- a scope (``missing_scope`` names it): each call that needs it fails, others go on;
- one message (its size or shape, or an edit the workspace no longer allows).

A refused intent is marked ``failed`` with the reason by ``alerting.send``, and
``alerting.notices.plan_failures`` says it once in plain words. A code Slack does not document
as permanent is tried again, up to :data:`UNKNOWN_TRIES` attempts, then fails its message.

A message that is gone (deleted in Slack, or only ever written to the outbox) is neither: an
update of it posts a new message instead. One that is there but may not be edited any more
(``cant_update_message``, ``edit_window_closed``) is never posted twice: the update fails, and
the goal's later news goes on in its thread. Called by ``alerting.send``; pure (no Slack client).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["GONE", "MAYBE_DONE", "UNDELETABLE", "UNKNOWN_TRIES", "Refusal", "classify", "undocumented"]

# The token itself is refused: every call fails the same way until the connection is fixed.
_TOKEN = {
    "not_authed",
    "invalid_auth",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "not_allowed_token_type",
    "team_not_found",
    "two_factor_setup_required",
    "org_login_required",
    "enterprise_is_restricted",
    "access_denied",
    "ekm_access_denied",
    "team_access_not_granted",
}
# The channel refuses the bot: every call to that channel fails until someone acts there.
_CHANNEL = {
    "not_in_channel",
    "channel_not_found",
    "is_archived",
    "is_inactive",
    "no_permission",
    "messages_tab_disabled",
    "restricted_action",
    "restricted_action_read_only_channel",
    "restricted_action_thread_only_channel",
    "restricted_action_non_threadable_channel",
    "posting_to_channel_denied",
}
# This one message is refused (its size or shape, or a call goalwatch should never make): others
# may still go.
_MESSAGE = {
    "invalid_blocks",
    "invalid_blocks_format",
    "msg_too_long",
    "msg_blocks_too_long",
    "invalid_arguments",
    "invalid_metadata_format",
    "invalid_metadata_schema",
    "metadata_too_large",
    "metadata_must_be_sent_from_app",
    "too_many_attachments",
    "attachment_payload_limit_exceeded",
    "no_text",
    "as_user_not_supported",
    "duplicate_channel_not_found",
    "duplicate_message_not_found",
    "cannot_reply_to_message",
    "invalid_thread_ts",
    "thread_not_found",
    "file_uploads_disabled",
    "file_upload_size_restricted",
    "invalid_arg_name",
    "invalid_array_arg",
    "invalid_charset",
    "invalid_form_data",
    "invalid_post_type",
    "missing_post_type",
    "invalid_json",
    "json_not_object",
    "method_deprecated",
    "deprecated_endpoint",
    "upgrade_required",
}
# The message is there but may not be edited any more: the news goes on in its thread.
_FROZEN = {"cant_update_message", "edit_window_closed"}
# The message may not be deleted (heal leaves the copy and says so).
UNDELETABLE = {"cant_delete_message", "compliance_exports_prevent_deletion"}
# The message to update is not there any more (deleted in Slack): post a new one instead.
GONE = {"message_not_found"}
# Codes that pass: Slack was busy or failed inside; the same call may well work on the next attempt.
_PASSING = {
    "ratelimited",
    "rate_limited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
    "unknown_error",
}
# Codes of a call that failed inside Slack, after it may have done its work (Slack documents that
# an internal_error may follow a partial success): a call that must not be made twice is not
# assumed undone.
MAYBE_DONE = {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "unknown_error"}
# A code Slack does not document as permanent is tried again, but not for ever.
UNKNOWN_TRIES = 5


@dataclass(frozen=True)
class Refusal:
    """A permanent refusal. ``reach`` is how far it goes: ``"token"`` (every call), ``"channel"``
    (every call to ``channel``), ``"scope"`` (every call that needs the ``needed`` scope) or
    ``"message"`` (this call alone)."""

    code: str
    reach: str
    channel: str
    advice: str
    needed: str | None = None

    def reason(self) -> str:
        return f"Slack said {self.code}: {self.advice}"

    @property
    def topic(self) -> str:
        """What a notice about it is keyed on: the code, and the scope a ``missing_scope`` names."""
        return f"{self.code}.{self.needed}" if self.reach == "scope" and self.needed else self.code


def classify(
    code: str | None, *, channel: str, needed: str | None = None, conn_id: str = "", attempts: int = 0
) -> Refusal | None:
    """The permanent refusal ``code`` stands for, None when trying again may work (no code: the
    call did not get an answer; a rate limit or a server error). A code Slack does not document
    as permanent is tried again until the call has made :data:`UNKNOWN_TRIES` ``attempts``, then
    refuses the message."""
    if code is None or code in _PASSING:
        return None
    if code in _TOKEN:
        where = f"the Airflow connection {conn_id}" if conn_id else "the Slack connection"
        advice = f"the bot token is not valid any more: put a current one in {where}"
        if code in ("not_allowed_token_type", "team_access_not_granted", "ekm_access_denied", "access_denied"):
            advice = (
                f"the workspace does not let this token call Slack: put a bot token (xoxb-) allowed there in {where}"
            )
        return Refusal(code, "token", channel, advice)
    if code in _CHANNEL:
        return Refusal(code, "channel", channel, _channel_advice(code, channel))
    if code == "missing_scope":
        scope = needed or "the missing"
        return Refusal(
            code, "scope", channel, f"add the {scope} scope to the Slack app and reinstall it to the workspace", needed
        )
    if code in _FROZEN:
        return Refusal(
            code,
            "message",
            channel,
            "the workspace no longer lets the bot edit this message (its edit window closed); "
            "the goal's later news still goes to its thread. Allow apps to edit their messages to keep it current",
        )
    if code in _MESSAGE or (code not in GONE and attempts >= UNKNOWN_TRIES):
        return Refusal(
            code,
            "message",
            channel,
            "Slack refused this message's content or call, which goalwatch should never make: "
            "please report it with this task's log",
        )
    return None


def undocumented(code: str | None) -> bool:
    """Whether ``code`` is an answer this module does not know: tried again until
    :data:`UNKNOWN_TRIES` attempts, then refused."""
    known = _TOKEN | _CHANNEL | _MESSAGE | _FROZEN | UNDELETABLE | GONE | _PASSING | {"missing_scope"}
    return code is not None and code not in known


def _channel_advice(code: str, channel: str) -> str:
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
    if code == "no_permission":
        return f"the bot may not post in {name}: invite it there (type /invite @goalwatch), or ask an admin to allow it"
    if code == "messages_tab_disabled":
        return f"{name} is a direct message whose Messages tab is off: turn it on in the app's App Home settings"
    return f"a workspace admin restricts posting in {name}: ask them to allow the goalwatch app"
