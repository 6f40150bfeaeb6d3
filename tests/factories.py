"""Verdicts for tests: monthly goals of 3,000 in November 2026, linear-paced.

:func:`monthly_verdict` is the one builder; by default a revenue goal for the rendering tests.
:func:`users_verdict` presets it for the alert tests' goals (``tests/integration``,
``tests/faults.py``, ``bench/alerts.py``): metric ``users``, no unit, labelled ``Goal <name>``.
:func:`q3_verdict` is a quarterly new-users goal of Q3 2026, for tests that give its numbers.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from goalwatch.core.verdicts import Verdict

NOV_1 = date(2026, 11, 1)
NOV_10 = date(2026, 11, 10)
NOV_30 = date(2026, 11, 30)
Q3_START, Q3_END = date(2026, 7, 1), date(2026, 9, 30)


def monthly_verdict(
    status: str,
    severity: str | None = None,
    *,
    goal: str = "monthly_revenue",
    label: str = "Revenue this month",
    as_of: date = NOV_10,
    per_day: float = 100,
    pace: float | None = None,
    forecast: tuple[float, float, float] | None = None,
    target: float = 3000,
    metric: str = "revenue",
    unit: str | None = "USD",
    channel: str = "#revenue-goals",
    segment: str | None = None,
    note: str = "",
    miss_probability: float = 0.5,
) -> Verdict:
    """``per_day`` every day of November up to ``as_of`` or, given ``pace``, that share of the
    linear expectation, against ``target``. ``forecast`` is (value, low, high); by default the run
    rate carried to the month's end: within 5% with ``per_day``, 28 to 32 days' worth with ``pace``."""
    days = (as_of - NOV_1).days + 1
    expected = target * days / 30
    if pace is None:
        actual = per_day * days
        pace = actual / expected
        run_rate = actual + per_day * (30 - days)
        default = (run_rate, run_rate * 0.95, run_rate * 1.05)
    else:
        actual = expected * pace
        default = (actual * 30 / days, actual * 28 / days, actual * 32 / days)
    value, low, high = forecast or default
    return Verdict(
        as_of=as_of,
        goal=goal,
        label=label,
        metric=metric,
        unit=unit,
        period="month",
        period_label="Nov 2026",
        period_start=NOV_1,
        period_end=NOV_30,
        target=target,
        actual_to_date=actual,
        expected_to_date=expected,
        pace_ratio=pace,
        forecast=value,
        forecast_low=low,
        forecast_high=high,
        miss_probability=miss_probability,
        channel=channel,
        segment=segment,
        status=status,
        severity=severity,
        note=note,
    )


def users_verdict(
    goal: str,
    as_of: date,
    status: str,
    severity: str | None = None,
    *,
    channel: str,
    pace: float,
    label: str | None = None,
    **numbers: Any,
) -> Verdict:
    """:func:`monthly_verdict` for a goal of the alert tests' configs (``metric: users``, no unit)."""
    return monthly_verdict(
        status,
        severity,
        goal=goal,
        label=label or f"Goal {goal}",
        as_of=as_of,
        metric="users",
        unit=None,
        channel=channel,
        pace=pace,
        **numbers,
    )


def q3_verdict(as_of: date, status: str, severity: str | None = None, **fields: Any) -> Verdict:
    """Goal ``q3_new_users`` (metric ``new_users``, no unit, #growth-goals) on ``as_of`` in Q3
    2026; ``fields`` give its numbers (target, actual_to_date, ...) and override the rest."""
    defaults = dict(
        goal="q3_new_users",
        label="New users this quarter",
        metric="new_users",
        unit=None,
        period="quarter",
        period_label="Q3 2026",
        period_start=Q3_START,
        period_end=Q3_END,
        channel="#growth-goals",
    )
    return Verdict(as_of=as_of, status=status, severity=severity, **{**defaults, **fields})
