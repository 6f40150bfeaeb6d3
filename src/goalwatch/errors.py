"""The one error family of goalwatch.

    GoalwatchError              anything goalwatch raises on purpose
    ├── ConfigError             goals.yml is wrong: names the file and the key
    ├── SourceError             a metric's source could not be read (connection, query, file)
    ├── DataQualityError        a metric's data failed its data-quality suite
    └── DeliveryError           Slack (or the outbox) did not take an alert

Third-party errors are wrapped at the boundary with ``raise ... from exc``; messages never carry
a token, webhook URL or password.
"""

from __future__ import annotations

__all__ = ["ConfigError", "DataQualityError", "DeliveryError", "GoalwatchError", "SourceError"]


class GoalwatchError(Exception):
    """Base class of every error goalwatch raises on purpose."""


class ConfigError(GoalwatchError):
    """A config file is invalid. ``problems`` holds one ``file: key: message`` line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class SourceError(GoalwatchError):
    """A metric's source could not be read."""


class DataQualityError(GoalwatchError):
    """A metric's data failed its data-quality suite."""


class DeliveryError(GoalwatchError):
    """An alert could not be delivered."""
