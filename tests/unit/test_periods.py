"""Calendar periods, their names, and which day a run is about."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from goalwatch.config import PERIODS
from goalwatch.periods import as_of_for, period_bounds, period_label

LA = ZoneInfo("America/Los_Angeles")


@pytest.mark.parametrize(
    ("period", "day", "start", "end"),
    [
        pytest.param("day", date(2026, 11, 15), date(2026, 11, 15), date(2026, 11, 15), id="day"),
        pytest.param(
            "week", date(2026, 11, 11), date(2026, 11, 9), date(2026, 11, 15), id="week-midweek"
        ),
        pytest.param(
            "week", date(2026, 11, 9), date(2026, 11, 9), date(2026, 11, 15), id="week-monday"
        ),
        pytest.param(
            "week", date(2026, 11, 15), date(2026, 11, 9), date(2026, 11, 15), id="week-sunday"
        ),
        pytest.param(
            "week",
            date(2026, 12, 31),
            date(2026, 12, 28),
            date(2027, 1, 3),
            id="week-across-year-end",
        ),
        pytest.param(
            "month", date(2026, 11, 15), date(2026, 11, 1), date(2026, 11, 30), id="month-30-days"
        ),
        pytest.param(
            "month", date(2024, 2, 10), date(2024, 2, 1), date(2024, 2, 29), id="february-leap-year"
        ),
        pytest.param(
            "month",
            date(2026, 2, 10),
            date(2026, 2, 1),
            date(2026, 2, 28),
            id="february-common-year",
        ),
        pytest.param(
            "month", date(2000, 2, 29), date(2000, 2, 1), date(2000, 2, 29), id="february-2000-leap"
        ),
        pytest.param(
            "month",
            date(2100, 2, 1),
            date(2100, 2, 1),
            date(2100, 2, 28),
            id="february-2100-not-leap",
        ),
        pytest.param(
            "month",
            date(2026, 12, 31),
            date(2026, 12, 1),
            date(2026, 12, 31),
            id="december-year-end",
        ),
        pytest.param(
            "month",
            date(2027, 1, 1),
            date(2027, 1, 1),
            date(2027, 1, 31),
            id="january-after-year-end",
        ),
        pytest.param(
            "quarter", date(2026, 1, 1), date(2026, 1, 1), date(2026, 3, 31), id="q1-first-day"
        ),
        pytest.param(
            "quarter", date(2026, 3, 31), date(2026, 1, 1), date(2026, 3, 31), id="q1-last-day"
        ),
        pytest.param(
            "quarter", date(2026, 4, 1), date(2026, 4, 1), date(2026, 6, 30), id="q2-first-day"
        ),
        pytest.param(
            "quarter", date(2026, 9, 30), date(2026, 7, 1), date(2026, 9, 30), id="q3-last-day"
        ),
        pytest.param(
            "quarter", date(2026, 10, 1), date(2026, 10, 1), date(2026, 12, 31), id="q4-first-day"
        ),
        pytest.param(
            "quarter", date(2026, 12, 31), date(2026, 10, 1), date(2026, 12, 31), id="q4-year-end"
        ),
        pytest.param(
            "year", date(2024, 2, 29), date(2024, 1, 1), date(2024, 12, 31), id="year-leap"
        ),
        pytest.param(
            "year", date(2026, 12, 31), date(2026, 1, 1), date(2026, 12, 31), id="year-last-day"
        ),
    ],
)
def test_period_bounds(period, day, start, end):
    assert period_bounds(period, day) == (start, end)


@pytest.mark.parametrize("period", PERIODS)
def test_periods_tile_the_calendar(period):
    # Every day from 2023 to 2025 (a leap year inside) falls in exactly one period, with no gaps.
    day = date(2023, 1, 1)
    start, end = period_bounds(period, day)
    while day <= date(2025, 12, 31):
        if day > end:
            assert day == end + timedelta(days=1)
            start, end = period_bounds(period, day)
            assert start == day
        assert period_bounds(period, day) == (start, end)
        day += timedelta(days=1)


def test_unknown_period_is_named():
    with pytest.raises(ValueError, match="'fortnight'"):
        period_bounds("fortnight", date(2026, 11, 15))


@pytest.mark.parametrize(
    ("period", "start", "label"),
    [
        pytest.param("day", date(2026, 11, 15), "2026-11-15", id="day"),
        pytest.param("week", date(2026, 11, 9), "week of 2026-11-09", id="week"),
        pytest.param("month", date(2026, 11, 1), "Nov 2026", id="month"),
        pytest.param("quarter", date(2026, 1, 1), "Q1 2026", id="q1"),
        pytest.param("quarter", date(2026, 4, 1), "Q2 2026", id="q2"),
        pytest.param("quarter", date(2026, 7, 1), "Q3 2026", id="q3"),
        pytest.param("quarter", date(2026, 10, 1), "Q4 2026", id="q4"),
        pytest.param("year", date(2026, 1, 1), "2026", id="year"),
    ],
)
def test_period_label(period, start, label):
    assert period_label(period, start) == label


@pytest.mark.parametrize(
    ("moment", "zone", "as_of"),
    [
        # 00:15 on 16 Nov in Los Angeles: the 15th has just ended there.
        pytest.param(
            datetime(2026, 11, 16, 0, 15, tzinfo=LA),
            "America/Los_Angeles",
            date(2026, 11, 15),
            id="la-run-in-la",
        ),
        # The same instant is 08:15 UTC on the 16th: in UTC the 15th has ended too.
        pytest.param(
            datetime(2026, 11, 16, 8, 15, tzinfo=UTC),
            "America/Los_Angeles",
            date(2026, 11, 15),
            id="la-run-given-in-utc",
        ),
        pytest.param(
            datetime(2026, 11, 16, 0, 15, tzinfo=LA), "UTC", date(2026, 11, 15), id="la-run-in-utc"
        ),
        # 00:15 UTC on the 16th is still 15 Nov (16:15) in Los Angeles: there only the 14th has ended.
        pytest.param(
            datetime(2026, 11, 16, 0, 15, tzinfo=UTC),
            "UTC",
            date(2026, 11, 15),
            id="utc-run-in-utc",
        ),
        pytest.param(
            datetime(2026, 11, 16, 0, 15, tzinfo=UTC),
            "America/Los_Angeles",
            date(2026, 11, 14),
            id="utc-run-in-la",
        ),
        pytest.param(
            datetime(2026, 11, 16, 0, 0, tzinfo=LA),
            "America/Los_Angeles",
            date(2026, 11, 15),
            id="exactly-midnight",
        ),
        pytest.param(
            datetime(2026, 11, 15, 23, 59, 59, tzinfo=LA),
            "America/Los_Angeles",
            date(2026, 11, 14),
            id="one-second-before-midnight",
        ),
        pytest.param(
            datetime(2026, 11, 2, 0, 15, tzinfo=LA),
            "America/Los_Angeles",
            date(2026, 11, 1),
            id="day-after-dst-ends",
        ),
        pytest.param(
            datetime(2027, 1, 1, 0, 15, tzinfo=LA),
            "America/Los_Angeles",
            date(2026, 12, 31),
            id="new-year",
        ),
    ],
)
def test_as_of_is_the_last_day_that_had_ended(moment, zone, as_of):
    assert as_of_for(moment, zone) == as_of


def test_as_of_needs_an_aware_datetime():
    with pytest.raises(ValueError, match="aware"):
        as_of_for(datetime(2026, 11, 16, 0, 15), "America/Los_Angeles")
