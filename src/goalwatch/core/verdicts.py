"""The verdict on one goal (or one segment of it) on one day. Pure: no Airflow, GX or Slack.

Built by ``core.pacing`` with the numbers, finished by the goal checks with a status, rendered by
``alerting.render.messages``, printed by ``goalwatch evaluate --json`` and ``replay --json``, and
passed between the evaluate DAG's tasks as JSON.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

__all__ = ["HISTORY", "STATUSES", "Status", "Verdict"]

Status = Literal["pending", "on_track", "at_risk", "off_track", "missed", "achieved", "data_issue"]
STATUSES: tuple[str, ...] = ("on_track", "at_risk", "off_track", "missed", "achieved", "data_issue")
Severity = Literal["critical", "warning"]
_DATES = ("as_of", "period_start", "period_end")
HISTORY = ("pace_ratio", "miss_probability", "evidence", "swings")
# How the note of a data_issue begins when the data passed its checks but the goal has nothing to
# be judged on: a growth goal without its comparison period, a closed period without an outcome.
NO_BASELINE, NO_DATA = "no baseline", "no data for"
NO_OUTCOME = (NO_BASELINE, NO_DATA)


@dataclass(frozen=True)
class Verdict:
    as_of: date
    goal: str
    label: str
    metric: str
    unit: str | None
    period: str
    period_label: str
    period_start: date
    period_end: date
    target: float
    actual_to_date: float
    expected_to_date: float
    pace_ratio: float
    forecast: float
    forecast_low: float
    forecast_high: float
    miss_probability: float
    channel: str
    kind: str = "total"
    denominator: str | None = None  # the ratio's denominator metric
    segment: str | None = None
    pacing: str = "linear"
    warn_below: float = 0.97
    critical_below: float = 0.90
    confidence: float = 0.8
    interval: float = 0.8
    hysteresis: float = 0.02
    prior_level: int = 0  # the status level held yesterday (see ``status``)
    explanation: tuple[tuple[str, float], ...] = ()  # segments behind the shortfall, with shares
    curve: str = ""  # the curve the numbers were paced on (``pacing: auto`` picks one per goal)
    evidence: float = float("nan")  # the share of the period's pace due so far (its weight, not its days)
    min_evidence: float = 0.1  # the goal's ``evidence``: no alarm before this share is due
    swings: float = float("nan")  # the deficit to pace in the series' usual swings (day-to-day noise)
    min_swings: float = 3.0  # the goal's ``swing``: off track only beyond this many swings
    required_rate: float = float("nan")  # per day, for the days left, to reach the target
    recent_rate: float = float("nan")  # per day over the last four weeks (RECENT_DAYS)
    status: Status = "pending"
    severity: Severity | None = None
    note: str = ""
    # The period's days so far, today last, as rows of HISTORY (a numpy array from core.pacing):
    # what the goal checks validate to decide the status with its history. Not in the JSON.
    history: Any = field(default=None, compare=False, repr=False)

    @property
    def days_total(self) -> int:
        return (self.period_end - self.period_start).days + 1

    @property
    def days_elapsed(self) -> int:
        return min((self.as_of - self.period_start).days + 1, self.days_total)

    @property
    def days_left(self) -> int:
        return self.days_total - self.days_elapsed

    @property
    def paced_on(self) -> str:
        """The curve behind the numbers: ``curve`` when ``pacing: auto`` chose it, else ``pacing``."""
        return self.curve or self.pacing

    @property
    def stands_out(self) -> bool:
        """The deficit to pace is larger than the series' usual day-to-day swing allows."""
        return self.swings == self.swings and self.swings > self.min_swings

    @property
    def forecast_ratio(self) -> float:
        return self.forecast / self.target if self.target else float("nan")

    @property
    def closed(self) -> bool:
        return self.as_of >= self.period_end

    @property
    def key(self) -> str:
        return self.goal if self.segment is None else f"{self.goal}[{self.segment}]"

    def with_status(self, status: Status, severity: Severity | None = None, note: str = "") -> Verdict:
        notes = "; ".join(n for n in (self.note, note) if n)
        return dataclasses.replace(self, status=status, severity=severity, note=notes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the ``evaluate --json`` objects and the XCom between tasks."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "history"}
        for key in _DATES:
            out[key] = out[key].isoformat()
        out["explanation"] = [list(pair) for pair in self.explanation]
        out.update(
            forecast_ratio=self.forecast_ratio,
            days_elapsed=self.days_elapsed,
            days_total=self.days_total,
            days_left=self.days_left,
        )
        for key, value in out.items():  # JSON has no NaN: a number that could not be computed is null
            if isinstance(value, float) and not math.isfinite(value):
                out[key] = None
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Verdict:
        names = {f.name for f in dataclasses.fields(cls)} - {"history"}
        kwargs = {k: v for k, v in data.items() if k in names}
        for key in _DATES:
            kwargs[key] = date.fromisoformat(kwargs[key])
        kwargs["explanation"] = tuple((str(s), float(v)) for s, v in kwargs.get("explanation", ()))
        for f in dataclasses.fields(cls):
            if f.type == "float" and kwargs.get(f.name, 0.0) is None:
                kwargs[f.name] = float("nan")
        return cls(**kwargs)
