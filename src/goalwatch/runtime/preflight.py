"""``goalwatch slack check``: before the first alert, whether Slack will take goalwatch's messages.

Through the bot token's Airflow connection (``GOALWATCH_SLACK_CONN_ID``): ``auth.test`` says whose
token it is and, in its ``x-oauth-scopes`` header, which scopes it has; every channel goals.yml
names (the goals', the metrics' owners', the default) is resolved to its id and asked
(``conversations.info``) whether it exists, is private, is archived, and has the bot as a member.
The private-channel scopes (``groups:read``, ``groups:history``) are asked for only when such a
channel is configured. Each problem comes with what to do, a refused or failed call too (a
missing scope, a rate limit, no answer): the check never stops on one. Called by ``cli``; the
token is never printed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from goalwatch.config import Config

__all__ = ["OPTIONAL", "PRIVATE", "SCOPES", "Check", "check_slack"]

# What each scope is for: posting, reading back (once-only), channel ids by name, charts.
SCOPES = {
    "chat:write": "post, update and delete goalwatch's messages",
    "channels:history": "read public channels back, so a retried post is never a second message",
    "groups:history": "the same in private channels",
    "channels:read": "find a public channel's id by its name",
    "groups:read": "see a private channel (find its id, ask whether the bot is in it)",
    "files:write": "share the charts in the threads",
}
# Needed only when goals.yml names a private channel.
PRIVATE = ("groups:read", "groups:history")
# Never needed; said when granted, so nobody counts on it for what it does not do.
OPTIONAL = {
    "chat:write.public": "lets the bot post in public channels it is not a member of; it does not reach "
    "private channels, and goalwatch still needs the bot in each channel to read it back",
}


@dataclass
class Check:
    team: str = ""
    bot: str = ""
    needed_scopes: list[str] = field(default_factory=list)
    missing_scopes: list[str] = field(default_factory=list)
    channels: list[tuple[str, bool, str]] = field(default_factory=list)  # (channel, ok, what)
    problems: list[str] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)  # problems with a call itself (token, list), said as is
    notes: list[str] = field(default_factory=list)  # said, not problems

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        out = [f"Slack workspace {self.team or '?'}, bot {self.bot or '?'}"]
        out += [f"✗ {problem}" for problem in self.calls]
        for scope in self.missing_scopes:
            out.append(f"✗ scope {scope} is missing ({SCOPES[scope]}): add it to the Slack app and reinstall it")
        if not self.missing_scopes and self.team:
            out.append(f"✓ scopes: {', '.join(self.needed_scopes or SCOPES)}")
        out += [f"· {note}" for note in self.notes]
        out += [f"{'✓' if ok else '✗'} {channel}: {what}" for channel, ok, what in self.channels]
        out.append("Slack is ready for goalwatch." if self.ok else f"{len(self.problems)} problem(s) to fix.")
        return out


def check_slack(config: Config, *, conn_id: str) -> Check:
    """Ask Slack, through the connection ``conn_id``, everything goalwatch will need of it."""
    from airflow.providers.slack.hooks.slack import SlackHook
    from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

    result = Check()
    try:
        # Every call here is a read: a dropped connection or a rate limit is waited out a little.
        handlers = [ConnectionErrorRetryHandler(), RateLimitErrorRetryHandler(max_retry_count=1)]
        client = SlackHook(slack_conn_id=conn_id, retry_handlers=handlers).client
    except Exception as exc:  # missing, no password, unreadable; its text may quote what it read
        return _said(
            result,
            f"the Airflow connection {conn_id} could not be used ({type(exc).__name__}): "
            f"put the bot token (xoxb-…) in its password, and check its extras",
        )
    auth = _ask(client, "auth_test")
    if isinstance(auth, _Failed):
        if auth.code is not None and auth.code != "ratelimited":
            return _said(
                result, f"the token was refused ({auth.code}): put a current bot token in connection {conn_id}"
            )
        return _said(result, f"auth.test: {auth.advice}")
    result.team, result.bot = str(auth.get("team") or ""), str(auth.get("user") or auth.get("user_id") or "")
    granted = _scopes(auth.headers)

    names = _channel_ids(client, granted, result)
    private = False
    for channel in _channels(config):
        ok, what, is_private = _channel(client, channel, names, granted)
        private = private or is_private
        result.channels.append((channel, ok, what))
        if not ok:
            result.problems.append(f"{channel}: {what}")

    if granted is not None:
        result.needed_scopes = [s for s in SCOPES if private or s not in PRIVATE]
        result.missing_scopes = [s for s in result.needed_scopes if s not in granted]
        result.problems += [f"missing scope {s}" for s in result.missing_scopes]
        if not private and (absent := [s for s in PRIVATE if s not in granted]):
            result.notes.append(
                f"scope {' and '.join(absent)} not granted: needed only for private channels, and none below is one"
            )
        result.notes += [f"scope {scope} {what}" for scope, what in OPTIONAL.items() if scope in granted]
    return result


def _said(result: Check, problem: str) -> Check:
    result.calls.append(problem)
    result.problems.append(problem)
    return result


@dataclass(frozen=True)
class _Failed:
    """A call that did not answer ok: Slack's code (None when Slack was not reached) and what to do."""

    method: str
    code: str | None
    advice: str
    needed: str | None = None


def _ask(client: Any, method: str, **kwargs: Any) -> Any:
    """``client.method(**kwargs)``'s answer, or a :class:`_Failed` saying why not."""
    from slack_sdk.errors import SlackApiError, SlackClientError

    name = method.replace("_", ".", 1)
    try:
        return getattr(client, method)(**kwargs)
    except SlackApiError as exc:
        response = exc.response
        code = str(response.get("error") or "unknown_error")
        needed = response.get("needed")
        if code == "missing_scope":
            scope = needed or "the missing"
            advice = f"Slack said missing_scope: add the {scope} scope to the Slack app and reinstall it"
            return _Failed(name, code, advice, needed)
        if code in ("ratelimited", "rate_limited"):
            return _Failed(
                name, "ratelimited", "Slack is rate-limiting these calls: run goalwatch slack check again in a minute"
            )
        return _Failed(name, code, f"Slack said {code}")
    except (SlackClientError, OSError) as exc:
        return _Failed(
            name, None, f"Slack did not answer ({type(exc).__name__}): check the network and base_url, and run it again"
        )


def _scopes(headers: Any) -> set[str] | None:
    """The token's scopes from Slack's ``x-oauth-scopes`` header (None when Slack sent none)."""
    for key, value in dict(headers or {}).items():
        if key.lower() == "x-oauth-scopes":
            text = value[0] if isinstance(value, list) else value
            return {s.strip() for s in str(text).split(",") if s.strip()}
    return None


def _channels(config: Config) -> list[str]:
    named = [config.channel_for(g) for g in config.goals]
    named += [m.owner_channel for m in config.metrics.values() if m.owner_channel]
    return list(dict.fromkeys([*named, config.default_channel]))


def _channel_ids(client: Any, granted: set[str] | None, result: Check) -> dict[str, str] | None:
    """Channel name → id, every page of conversations.list (private ones only with groups:read);
    None when the list could not be read (said as a problem)."""
    types = "public_channel,private_channel" if granted is None or "groups:read" in granted else "public_channel"
    out: dict[str, str] = {}
    cursor = None
    while True:
        page = _ask(client, "conversations_list", types=types, limit=200, cursor=cursor, exclude_archived=False)
        if isinstance(page, _Failed):
            _said(result, f"conversations.list (the channels' ids by name): {page.advice}")
            return None
        out.update({c["name"]: c["id"] for c in page.get("channels", [])})
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return out


def _channel(
    client: Any, channel: str, names: dict[str, str] | None, granted: set[str] | None
) -> tuple[bool, str, bool]:
    """(ok, what to say, whether it is private) for one channel goals.yml names."""
    if channel.startswith("#") and names is None:
        return False, "not checked: its id could not be looked up (see conversations.list above)", False
    channel_id = names.get(channel.lstrip("#")) if names is not None and channel.startswith("#") else channel
    if channel_id is None:
        return (
            False,
            (
                "no such channel the bot can see: create it, or for a private channel invite the bot "
                "(and add groups:read), or fix notify.channel in goals.yml"
            ),
            False,
        )
    info = _ask(client, "conversations_info", channel=channel_id)
    if isinstance(info, _Failed):
        private = "groups:" in (info.needed or "")  # Slack asks for groups:* of a private channel only
        if info.code == "channel_not_found":
            return (
                False,
                (
                    f"Slack has no channel {channel_id} the bot can see: for a private channel, invite the bot "
                    "(and add groups:read); else fix notify.channel in goals.yml"
                ),
                private,
            )
        return False, f"conversations.info for {channel_id}: {info.advice}", private
    info = info.get("channel") or {}
    private = bool(info.get("is_private"))
    if info.get("is_archived"):
        return False, f"archived ({channel_id}): unarchive it or point notify.channel elsewhere", private
    if not info.get("is_member"):
        public = (
            "; chat:write.public lets the bot post here, but goalwatch must read the channel back too"
            if not private and granted is not None and "chat:write.public" in granted
            else ""
        )
        return (
            False,
            f"the bot is not a member ({channel_id}){public}: invite it with /invite @goalwatch in {channel}",
            private,
        )
    return True, f"the bot is a member ({channel_id}{', private' if private else ''})", private
