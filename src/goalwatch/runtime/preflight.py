"""``goalwatch slack check``: before the first alert, whether Slack will take goalwatch's messages.

Through the bot token's Airflow connection (``GOALWATCH_SLACK_CONN_ID``): ``auth.test`` says whose
token it is and, in its ``x-oauth-scopes`` header, which scopes it has; every channel goals.yml
names (the goals', the metrics' owners', the default) is resolved to its id and asked
(``conversations.info``) whether it exists, is archived, and has the bot as a member. Each
problem comes with what to do. Called by ``cli``; the token is never printed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from goalwatch.config import Config

__all__ = ["SCOPES", "Check", "check_slack"]

# What each scope is for: posting, reading back (once-only), channel ids by name, charts.
SCOPES = {
    "chat:write": "post, update and delete goalwatch's messages",
    "channels:history": "read public channels back, so a retried post is never a second message",
    "groups:history": "the same in private channels",
    "channels:read": "find a public channel's id by its name",
    "groups:read": "find a private channel's id by its name",
    "files:write": "share the charts in the threads",
}


@dataclass
class Check:
    team: str = ""
    bot: str = ""
    missing_scopes: list[str] = field(default_factory=list)
    channels: list[tuple[str, bool, str]] = field(default_factory=list)  # (channel, ok, what)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        out = [f"Slack workspace {self.team or '?'}, bot {self.bot or '?'}"]
        for scope in self.missing_scopes:
            out.append(f"✗ scope {scope} is missing ({SCOPES[scope]}): add it to the Slack app and reinstall it")
        if not self.missing_scopes and self.team:
            out.append(f"✓ scopes: {', '.join(SCOPES)}")
        out += [f"{'✓' if ok else '✗'} {channel}: {what}" for channel, ok, what in self.channels]
        out.append("Slack is ready for goalwatch." if self.ok else f"{len(self.problems)} problem(s) to fix.")
        return out


def check_slack(config: Config, *, conn_id: str) -> Check:
    """Ask Slack, through the connection ``conn_id``, everything goalwatch will need of it."""
    from airflow.providers.slack.hooks.slack import SlackHook
    from slack_sdk.errors import SlackApiError, SlackClientError

    result = Check()
    try:
        client = SlackHook(slack_conn_id=conn_id).client
        auth = client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error", "unknown_error")
        result.problems.append(f"the token was refused ({error}): put a current bot token in connection {conn_id}")
        return result
    except (SlackClientError, OSError) as exc:
        result.problems.append(f"Slack could not be reached ({type(exc).__name__}): check the network and base_url")
        return result
    result.team, result.bot = str(auth.get("team") or ""), str(auth.get("user") or auth.get("user_id") or "")
    granted = _scopes(auth.headers)
    if granted is not None:
        result.missing_scopes = [s for s in SCOPES if s not in granted]
        result.problems += [f"missing scope {s}" for s in result.missing_scopes]
    names = _channel_ids(client, granted)
    for channel in _channels(config):
        ok, what = _channel(client, channel, names, SlackApiError)
        result.channels.append((channel, ok, what))
        if not ok:
            result.problems.append(f"{channel}: {what}")
    return result


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


def _channel_ids(client: Any, granted: set[str] | None) -> dict[str, str]:
    """Channel name → id, every page of conversations.list (private ones only with groups:read)."""
    types = "public_channel,private_channel" if granted is None or "groups:read" in granted else "public_channel"
    out: dict[str, str] = {}
    cursor = None
    try:
        while True:
            page = client.conversations_list(types=types, limit=200, cursor=cursor, exclude_archived=False)
            out.update({c["name"]: c["id"] for c in page.get("channels", [])})
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return out
    except Exception:  # without channels:read the ids of names are unknown; the checks below say so
        return out


def _channel(client: Any, channel: str, names: dict[str, str], api_error: type[Exception]) -> tuple[bool, str]:
    channel_id = names.get(channel.lstrip("#")) if channel.startswith("#") else channel
    if channel_id is None:
        return False, (
            "no such channel the bot can see: create it, or for a private channel invite the bot "
            "(and add groups:read), or fix notify.channel in goals.yml"
        )
    try:
        info = client.conversations_info(channel=channel_id)["channel"]
    except api_error as exc:
        error = exc.response.get("error", "unknown_error")  # type: ignore[attr-defined]
        return False, f"Slack said {error} for {channel_id}"
    if info.get("is_archived"):
        return False, f"archived ({channel_id}): unarchive it or point notify.channel elsewhere"
    if not info.get("is_member"):
        return False, f"the bot is not a member ({channel_id}): invite it with /invite @goalwatch in {channel}"
    return True, f"the bot is a member ({channel_id}{', private' if info.get('is_private') else ''})"
