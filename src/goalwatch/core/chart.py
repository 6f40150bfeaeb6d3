"""What a goal's chart shows: the period's days, cumulative actual, the pace, target and forecast.

A value built by ``core.pacing.chart_series`` and drawn by ``alerting.render.charts``; pure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = ["ChartData"]


@dataclass(frozen=True)
class ChartData:
    """What one chart shows. ``days`` is every day of the period; ``actual`` is the cumulative
    actual-to-date per day, a number up to and including ``as_of`` and None after it;
    ``expected`` is the pace (expected-to-date) for every day, ending at the target.

    A chart needs at least the as-of day's actual, so ``as_of`` before the period starts is a
    ``ValueError``; ``as_of`` on or after the period end is a closed period (no forecast wedge).
    """

    title: str
    unit: str | None
    kind: str
    period_start: date
    period_end: date
    as_of: date
    days: tuple[date, ...]
    actual: tuple[float | None, ...]
    expected: tuple[float, ...]
    target: float
    forecast: float
    forecast_low: float
    forecast_high: float

    def __post_init__(self) -> None:
        problem = self._problem()
        if problem:
            raise ValueError(f"chart {self.title!r}: {problem}")

    def _problem(self) -> str | None:
        start, end, as_of = self.period_start, self.period_end, self.as_of
        if end < start:
            return f"period_end {end} is before period_start {start}"
        if as_of < start:
            return f"as_of {as_of} is before the period starts ({start}); no actual to chart yet"
        span = (end - start).days + 1
        if tuple(self.days) != tuple(start + timedelta(d) for d in range(span)):
            return f"days must be every day from {start} to {end} ({span}), got {len(self.days)}"
        for name in ("actual", "expected"):
            if len(getattr(self, name)) != span:
                return f"{name} has {len(getattr(self, name))} values for a period of {span} days"
        for day, value in zip(self.days, self.actual):
            if day <= as_of and value is None:
                return f"actual on {day} is missing (as_of {as_of})"
            if day > as_of and value is not None:
                return f"actual on {day} is after as_of {as_of}; it must be None"
        numbers = (
            [v for v in self.actual if v is not None]
            + list(self.expected)
            + [self.target, self.forecast, self.forecast_low, self.forecast_high]
        )
        if not all(math.isfinite(v) for v in numbers):
            return "every value must be a finite number"
        return None

    @property
    def closed(self) -> bool:
        return self.as_of >= self.period_end

    @property
    def last_actual(self) -> float:
        """The actual on the as-of day (the period's last day once it is closed)."""
        return next(v for v in reversed(self.actual) if v is not None)
