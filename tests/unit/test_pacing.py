"""Linear pacing, the run-rate forecast, and the status a goal gets."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from goalwatch.pacing import Verdict, decide_status, pace

NOV_1 = date(2026, 11, 1)
NOV_10 = date(2026, 11, 10)
NOV_30 = date(2026, 11, 30)


def days(first: date, last: date, value: float) -> dict[date, float]:
    """``value`` on every day from ``first`` to ``last`` inclusive."""
    return {first + timedelta(days=i): value for i in range((last - first).days + 1)}


def verdict(
    daily: dict[date, float], as_of: date, *, period: str = "month", target: float = 3000
) -> Verdict:
    return pace(
        goal="monthly_revenue",
        label="Revenue this month",
        metric="revenue",
        unit="USD",
        period=period,
        target=target,
        warn_below=0.97,
        critical_below=0.90,
        channel="#revenue-goals",
        daily=daily,
        as_of=as_of,
    )


@pytest.mark.parametrize(
    ("period", "target", "as_of", "expected"),
    [
        pytest.param("month", 3000, NOV_1, 100, id="month-first-day"),
        pytest.param("month", 3000, NOV_10, 1000, id="month-tenth-day"),
        pytest.param("month", 3000, NOV_30, 3000, id="month-last-day"),
        pytest.param("month", 2900, date(2024, 2, 29), 2900, id="leap-february-last-day"),
        pytest.param("quarter", 92000, date(2026, 10, 31), 31000, id="q4-one-month-in"),
        pytest.param("week", 700, date(2026, 11, 11), 300, id="week-wednesday"),
        pytest.param("day", 50, NOV_10, 50, id="day"),
    ],
)
def test_expected_to_date_is_linear(period, target, as_of, expected):
    v = verdict({}, as_of, period=period, target=target)

    assert v.expected_to_date == pytest.approx(expected)


@pytest.mark.parametrize(
    ("daily", "actual", "ratio"),
    [
        pytest.param(days(NOV_1, NOV_10, 100), 1000, 1.0, id="on-pace"),
        pytest.param(days(NOV_1, NOV_10, 90), 900, 0.9, id="behind"),
        pytest.param(days(NOV_1, NOV_10, 125), 1250, 1.25, id="ahead"),
        pytest.param({}, 0, 0.0, id="nothing-yet"),
        # Days before the period belong to the previous month.
        pytest.param(
            {**days(date(2026, 10, 1), date(2026, 10, 31), 500), **days(NOV_1, NOV_10, 90)},
            900,
            0.9,
            id="previous-month-not-counted",
        ),
    ],
)
def test_actual_to_date_and_pace_ratio(daily, actual, ratio):
    v = verdict(daily, NOV_10)

    assert v.actual_to_date == pytest.approx(actual)
    assert v.pace_ratio == pytest.approx(ratio)


@pytest.mark.parametrize(
    ("daily", "forecast"),
    [
        # The last 28 days (14 Oct to 10 Nov) ran at 100/day; the older 1000/day days do not count.
        pytest.param(
            {
                **days(date(2026, 9, 1), date(2026, 10, 13), 1000),
                **days(date(2026, 10, 14), NOV_10, 100),
            },
            1000 + 20 * 100,
            id="28-day-run-rate",
        ),
        # The run rate crosses the month boundary: October's 200/day is part of the last 28 days.
        pytest.param(
            {**days(date(2026, 10, 14), date(2026, 10, 31), 200), **days(NOV_1, NOV_10, 20)},
            200 + 20 * (18 * 200 + 10 * 20) / 28,
            id="run-rate-includes-last-month",
        ),
        # Only five days of history: their mean is the run rate, not their sum over 28 days.
        pytest.param(days(date(2026, 11, 6), NOV_10, 200), 1000 + 20 * 200, id="short-history"),
        # A day without a row inside the history counts as zero.
        pytest.param({NOV_1: 100, NOV_10: 900}, 1000 + 20 * 100, id="gap-counts-as-zero"),
        pytest.param({}, 0, id="no-history"),
    ],
)
def test_forecast_extends_the_run_rate(daily, forecast):
    v = verdict(daily, NOV_10)

    assert v.forecast == pytest.approx(forecast)
    assert v.forecast_ratio == pytest.approx(forecast / 3000)


@pytest.mark.parametrize(
    ("period", "as_of", "days_left", "days_total", "closed"),
    [
        pytest.param("month", NOV_1, 29, 30, False, id="month-first-day"),
        pytest.param("month", NOV_10, 20, 30, False, id="month-tenth-day"),
        pytest.param("month", date(2026, 11, 29), 1, 30, False, id="month-second-last-day"),
        pytest.param("month", NOV_30, 0, 30, True, id="month-last-day"),
        pytest.param("quarter", date(2026, 10, 1), 91, 92, False, id="q4-first-day"),
        pytest.param("year", date(2024, 1, 1), 365, 366, False, id="leap-year-first-day"),
        pytest.param("day", NOV_10, 0, 1, True, id="day"),
    ],
)
def test_days_left(period, as_of, days_left, days_total, closed):
    v = verdict({}, as_of, period=period)

    assert (v.days_left, v.days_total, v.closed) == (days_left, days_total, closed)
    assert v.days_elapsed + v.days_left == v.days_total


def test_days_after_as_of_are_ignored():
    history = days(date(2026, 10, 1), NOV_10, 100)
    future = days(date(2026, 11, 11), NOV_30, 10_000)

    with_future = verdict({**history, **future}, NOV_10)

    assert with_future == verdict(history, NOV_10)
    assert with_future.actual_to_date == pytest.approx(1000)
    assert with_future.forecast == pytest.approx(3000)


def test_closed_period_forecast_is_the_actual():
    v = verdict(days(NOV_1, NOV_30, 90), NOV_30)

    assert v.forecast == pytest.approx(v.actual_to_date) == pytest.approx(2700)


# --- status ---------------------------------------------------------------------------------------

NO_FLAGS = {"below_critical": False, "below_warning": False, "forecast_short": False}
ALL_FLAGS = {"below_critical": True, "below_warning": True, "forecast_short": True}


@pytest.mark.parametrize(
    ("as_of", "per_day", "flags", "status", "severity"),
    [
        pytest.param(NOV_30, 110, ALL_FLAGS, "achieved", None, id="closed-achieved"),
        pytest.param(NOV_30, 100, ALL_FLAGS, "achieved", None, id="closed-exactly-on-target"),
        pytest.param(NOV_30, 99, NO_FLAGS, "missed", "critical", id="closed-missed"),
        pytest.param(NOV_10, 80, ALL_FLAGS, "off_track", "critical", id="critical"),
        pytest.param(
            NOV_10,
            95,
            {**NO_FLAGS, "below_warning": True, "forecast_short": True},
            "off_track",
            "warning",
            id="warning",
        ),
        pytest.param(
            NOV_10,
            98,
            {**NO_FLAGS, "forecast_short": True},
            "at_risk",
            "warning",
            id="forecast-short",
        ),
        pytest.param(NOV_10, 100, NO_FLAGS, "on_track", None, id="on-track"),
    ],
)
def test_decide_status(as_of, per_day, flags, status, severity):
    v = verdict(days(NOV_1, as_of, per_day), as_of)

    decided = decide_status(v, **flags)

    assert (decided.status, decided.severity) == (status, severity)
    assert decided.actual_to_date == v.actual_to_date
    assert decided.forecast == v.forecast


def test_new_verdict_is_pending():
    assert verdict({}, NOV_10).status == "pending"


# --- the dict form: `evaluate --json` and XCom ----------------------------------------------------

DICT_KEYS = {
    "as_of",
    "goal",
    "metric",
    "period_start",
    "period_end",
    "actual_to_date",
    "expected_to_date",
    "target",
    "pace_ratio",
    "forecast",
    "status",
}


def decided_verdict() -> Verdict:
    v = verdict(days(date(2026, 10, 14), NOV_10, 95), NOV_10)
    return decide_status(v, below_critical=False, below_warning=True, forecast_short=True)


def test_to_dict_has_the_documented_keys():
    out = decided_verdict().to_dict()

    assert DICT_KEYS <= out.keys()
    assert out["as_of"] == "2026-11-10"
    assert (out["period_start"], out["period_end"]) == ("2026-11-01", "2026-11-30")
    assert (out["goal"], out["metric"], out["status"]) == (
        "monthly_revenue",
        "revenue",
        "off_track",
    )
    assert (out["actual_to_date"], out["expected_to_date"], out["target"]) == (950, 1000, 3000)
    assert out["pace_ratio"] == 0.95
    assert out["forecast"] == 950 + 20 * 95
    assert out["days_left"] == 20


def test_to_dict_is_json():
    out = decided_verdict().to_dict()

    assert json.loads(json.dumps(out)) == out


def test_from_dict_round_trip():
    v = decided_verdict()

    back = Verdict.from_dict(json.loads(json.dumps(v.to_dict())))

    assert back == v
    assert (back.status, back.severity) == ("off_track", "warning")


def test_round_trip_is_exact_for_awkward_numbers():
    # Later tasks decide the status from the dict: any rounding could move a goal across a level.
    v = verdict({NOV_1: 1234.567, date(2026, 11, 5): 0.004, NOV_10: 1 / 3}, NOV_10, target=4123.45)

    back = Verdict.from_dict(json.loads(json.dumps(v.to_dict())))

    assert back == v
    assert back.pace_ratio == v.actual_to_date / v.expected_to_date
