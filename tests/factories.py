"""Verdicts for tests of rendering: a linear-paced monthly goal of 3,000 in November 2026."""

from __future__ import annotations

from datetime import date

from goalwatch.core.verdicts import Verdict

NOV_1 = date(2026, 11, 1)
NOV_10 = date(2026, 11, 10)
NOV_30 = date(2026, 11, 30)


def monthly_verdict(
    status: str,
    severity: str | None = None,
    *,
    goal: str = "monthly_revenue",
    label: str = "Revenue this month",
    as_of: date = NOV_10,
    per_day: float = 100,
    unit: str | None = "USD",
    segment: str | None = None,
    note: str = "",
    miss_probability: float = 0.5,
) -> Verdict:
    """``per_day`` every day of November up to ``as_of``, against a target of 3,000."""
    days = (as_of - NOV_1).days + 1
    actual = per_day * days
    expected = 3000 * days / 30
    forecast = actual + per_day * (30 - days)
    v = Verdict(
        as_of=as_of,
        goal=goal,
        label=label,
        metric="revenue",
        unit=unit,
        period="month",
        period_label="Nov 2026",
        period_start=NOV_1,
        period_end=NOV_30,
        target=3000,
        actual_to_date=actual,
        expected_to_date=expected,
        pace_ratio=actual / expected,
        forecast=forecast,
        forecast_low=forecast * 0.95,
        forecast_high=forecast * 1.05,
        miss_probability=miss_probability,
        channel="#revenue-goals",
        segment=segment,
    )
    return v.with_status(status, severity, note)
