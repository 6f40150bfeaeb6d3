"""What a send did: the calls sent, waiting, failed for a passing reason, refused for good, healed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from goalwatch.alerting.refusals import Refusal

__all__ = ["Outcome", "Refused"]


@dataclass(frozen=True)
class Refused:
    """An intent Slack refused for good: its key, the channel, the goals it spoke for, and why."""

    key: str
    channel: str
    goals: tuple[str, ...]
    refusal: Refusal
    as_of: date
    intent_id: str = ""
    message_id: int = 0
    kind: str = "post"


@dataclass
class Outcome:
    sent: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # a passing failure: kept pending for the next attempt
    refused: list[Refused] = field(default_factory=list)  # failed for good, with the reason
    deleted: list[str] = field(default_factory=list)  # duplicates healed

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "waiting": self.waiting,
            "failed": self.failed,
            "refused": [f"{r.key} in {r.channel}: {r.refusal.reason()}" for r in self.refused],
            "deleted": self.deleted,
        }
