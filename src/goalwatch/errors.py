"""The one error family of goalwatch.

    GoalwatchError              anything goalwatch raises on purpose
    ├── ConfigError             goals.yml, a suite file or a GOALWATCH_* variable is wrong: names
    │                           the file and key (or the variable) and what to do
    ├── SourceError             a metric's source could not be read (connection, query, file)
    └── DeliveryError           Slack (or the outbox) did not take an alert

Data that fails its checks is not an error: it is a finding (``core.findings``) that becomes a
data-issue alert, and the goals on it get no verdict. Third-party errors are wrapped at the
boundary with ``raise ... from exc`` (or ``from None`` where their message could carry a secret);
messages never carry a token, webhook URL or password.
"""

from __future__ import annotations

__all__ = ["ConfigError", "DeliveryError", "GoalwatchError", "SourceError"]


class GoalwatchError(Exception):
    """Base class of every error goalwatch raises on purpose."""


class ConfigError(GoalwatchError):
    """A config file is invalid. ``problems`` holds one ``file: key: message`` line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class SourceError(GoalwatchError):
    """A metric's source could not be read."""


class DeliveryError(GoalwatchError):
    """An alert could not be delivered. ``code`` is Slack's error code when Slack answered (None
    when it could not be reached), ``needed`` the scope a ``missing_scope`` names."""

    def __init__(self, message: str, *, code: str | None = None, needed: str | None = None) -> None:
        super().__init__(message)
        self.code, self.needed = code, needed
