"""Pacing, forecast and status for one goal's current period. Pure: no Airflow, GX or Slack.

``pace`` turns a goal and its daily totals into a :class:`Verdict` with the numbers;
``decide_status`` turns the goal checks' findings (from GX, see ``validation``) into a status.
Linear pacing: the target is spread evenly over the days of the period.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from goalwatch.periods import period_bounds, period_label

__all__ = ["RUN_RATE_DAYS", "STATUSES", "Status", "Verdict", "decide_status", "pace"]

Status = Literal["pending", "on_track", "at_risk", "off_track", "missed", "achieved", "data_issue"]
STATUSES: tuple[str, ...] = ("on_track", "at_risk", "off_track", "missed", "achieved", "data_issue")
Severity = Literal["critical", "warning"]
# The forecast extends the recent daily run rate: the mean of the last four weeks.
RUN_RATE_DAYS = 28


@dataclass(frozen=True)
class Verdict:
    """Where one goal stands on ``as_of``: the numbers, then the status the checks gave it."""

    as_of: date
    goal: str
    label: str
    metric: str
    unit: str | None
    period: str
    period_start: date
    period_end: date
    target: float
    actual_to_date: float
    expected_to_date: float
    pace_ratio: float
    forecast: float
    warn_below: float
    critical_below: float
    channel: str
    status: Status = "pending"
    severity: Severity | None = None
    note: str = ""

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
    def forecast_ratio(self) -> float:
        return self.forecast / self.target

    @property
    def closed(self) -> bool:
        return self.as_of >= self.period_end

    @property
    def period_label(self) -> str:
        return period_label(self.period, self.period_start)

    def with_status(self, status: Status, severity: Severity | None = None, note: str = "") -> Verdict:
        return dataclasses.replace(self, status=status, severity=severity, note=note or self.note)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: the ``evaluate --json`` objects and the XCom between tasks."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        for key in ("as_of", "period_start", "period_end"):
            out[key] = out[key].isoformat()
        out["forecast_ratio"] = self.forecast_ratio
        out["days_elapsed"] = self.days_elapsed
        out["days_total"] = self.days_total
        out["days_left"] = self.days_left
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Verdict:
        names = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in names}
        for key in ("as_of", "period_start", "period_end"):
            kwargs[key] = date.fromisoformat(kwargs[key])
        return cls(**kwargs)


def pace(
    *,
    goal: str,
    label: str,
    metric: str,
    unit: str | None,
    period: str,
    target: float,
    warn_below: float,
    critical_below: float,
    channel: str,
    daily: Mapping[date, float],
    as_of: date,
) -> Verdict:
    """Numbers for the period holding ``as_of``; days after ``as_of`` in ``daily`` are ignored."""
    start, end = period_bounds(period, as_of)
    elapsed = (as_of - start).days + 1
    total_days = (end - start).days + 1
    actual = sum(v for d, v in daily.items() if start <= d <= as_of)
    expected = target * elapsed / total_days
    days_left = total_days - elapsed
    return Verdict(
        as_of=as_of,
        goal=goal,
        label=label,
        metric=metric,
        unit=unit,
        period=period,
        period_start=start,
        period_end=end,
        target=float(target),
        actual_to_date=float(actual),
        expected_to_date=float(expected),
        pace_ratio=actual / expected,
        forecast=float(actual + _run_rate(daily, as_of) * days_left),
        warn_below=warn_below,
        critical_below=critical_below,
        channel=channel,
    )


def decide_status(
    verdict: Verdict, *, below_critical: bool, below_warning: bool, forecast_short: bool
) -> Verdict:
    """The status from the goal checks' findings. A closed period is achieved or missed."""
    if verdict.closed:
        if verdict.actual_to_date >= verdict.target:
            return verdict.with_status("achieved")
        return verdict.with_status("missed", "critical")
    if below_critical:
        return verdict.with_status("off_track", "critical")
    if below_warning:
        return verdict.with_status("off_track", "warning")
    if forecast_short:
        return verdict.with_status("at_risk", "warning")
    return verdict.with_status("on_track")


def _run_rate(daily: Mapping[date, float], as_of: date) -> float:
    """Mean daily value over the last RUN_RATE_DAYS days up to ``as_of`` (fewer if history is short)."""
    known = [d for d in daily if d <= as_of]
    if not known:
        return 0.0
    first = max(min(known), as_of - timedelta(days=RUN_RATE_DAYS - 1))
    window = (as_of - first).days + 1
    return sum(v for d, v in daily.items() if first <= d <= as_of) / window
