"""Calendar periods, their names, and which day a run is about: fiscal years, week starts, the
period before and the same period a year earlier, and windows that cross a DST change."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from goalwatch.core.periods import PERIODS, Calendar, as_of_for

LA = ZoneInfo("America/Los_Angeles")
BERLIN = ZoneInfo("Europe/Berlin")
FEB_FY = Calendar(fiscal_year_start_month=2)  # a retailer's year: 1 Feb to 31 Jan
APR_FY = Calendar(fiscal_year_start_month=4)  # 1 April to 31 March
SUNDAY_WEEKS = Calendar(week_start=6)


@pytest.mark.parametrize(
    ("period", "day", "start", "end"),
    [
        pytest.param("day", date(2026, 11, 15), date(2026, 11, 15), date(2026, 11, 15), id="day"),
        pytest.param("week", date(2026, 11, 11), date(2026, 11, 9), date(2026, 11, 15), id="week-midweek"),
        pytest.param("week", date(2026, 11, 9), date(2026, 11, 9), date(2026, 11, 15), id="week-monday"),
        pytest.param("week", date(2026, 11, 15), date(2026, 11, 9), date(2026, 11, 15), id="week-sunday"),
        pytest.param(
            "week",
            date(2026, 12, 31),
            date(2026, 12, 28),
            date(2027, 1, 3),
            id="week-across-year-end",
        ),
        pytest.param("month", date(2026, 11, 15), date(2026, 11, 1), date(2026, 11, 30), id="month-30-days"),
        pytest.param("month", date(2024, 2, 10), date(2024, 2, 1), date(2024, 2, 29), id="february-leap-year"),
        pytest.param(
            "month",
            date(2026, 2, 10),
            date(2026, 2, 1),
            date(2026, 2, 28),
            id="february-common-year",
        ),
        pytest.param("month", date(2000, 2, 29), date(2000, 2, 1), date(2000, 2, 29), id="february-2000-leap"),
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
        pytest.param("quarter", date(2026, 1, 1), date(2026, 1, 1), date(2026, 3, 31), id="q1-first-day"),
        pytest.param("quarter", date(2026, 3, 31), date(2026, 1, 1), date(2026, 3, 31), id="q1-last-day"),
        pytest.param("quarter", date(2026, 4, 1), date(2026, 4, 1), date(2026, 6, 30), id="q2-first-day"),
        pytest.param("quarter", date(2026, 9, 30), date(2026, 7, 1), date(2026, 9, 30), id="q3-last-day"),
        pytest.param("quarter", date(2026, 10, 1), date(2026, 10, 1), date(2026, 12, 31), id="q4-first-day"),
        pytest.param("quarter", date(2026, 12, 31), date(2026, 10, 1), date(2026, 12, 31), id="q4-year-end"),
        pytest.param("year", date(2024, 2, 29), date(2024, 1, 1), date(2024, 12, 31), id="year-leap"),
        pytest.param("year", date(2026, 12, 31), date(2026, 1, 1), date(2026, 12, 31), id="year-last-day"),
    ],
)
def test_period_bounds(period, day, start, end):
    assert Calendar().bounds(period, day) == (start, end)


@pytest.mark.parametrize("period", PERIODS)
def test_periods_tile_the_calendar(period):
    # Every day from 2023 to 2025 (a leap year inside) falls in exactly one period, with no gaps.
    day = date(2023, 1, 1)
    start, end = Calendar().bounds(period, day)
    while day <= date(2025, 12, 31):
        if day > end:
            assert day == end + timedelta(days=1)
            start, end = Calendar().bounds(period, day)
            assert start == day
        assert Calendar().bounds(period, day) == (start, end)
        day += timedelta(days=1)


def test_unknown_period_is_named():
    with pytest.raises(ValueError, match="'fortnight'"):
        Calendar().bounds("fortnight", date(2026, 11, 15))


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
    assert Calendar().label(period, start) == label


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
        pytest.param(datetime(2026, 11, 16, 0, 15, tzinfo=LA), "UTC", date(2026, 11, 15), id="la-run-in-utc"),
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


# --- fiscal years ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("calendar", "period", "day", "start", "end", "label"),
    [
        pytest.param(
            FEB_FY,
            "quarter",
            date(2026, 2, 1),
            date(2026, 2, 1),
            date(2026, 4, 30),
            "FY2027 Q1",
            id="feb-fy-q1-first-day",
        ),
        pytest.param(
            FEB_FY,
            "quarter",
            date(2026, 4, 30),
            date(2026, 2, 1),
            date(2026, 4, 30),
            "FY2027 Q1",
            id="feb-fy-q1-last-day",
        ),
        pytest.param(
            FEB_FY,
            "quarter",
            date(2026, 5, 1),
            date(2026, 5, 1),
            date(2026, 7, 31),
            "FY2027 Q2",
            id="feb-fy-q2",
        ),
        pytest.param(
            FEB_FY,
            "quarter",
            date(2026, 9, 15),
            date(2026, 8, 1),
            date(2026, 10, 31),
            "FY2027 Q3",
            id="feb-fy-q3",
        ),
        # Q4 spans the calendar year end and keeps the name of the fiscal year it closes.
        pytest.param(
            FEB_FY,
            "quarter",
            date(2026, 12, 31),
            date(2026, 11, 1),
            date(2027, 1, 31),
            "FY2027 Q4",
            id="feb-fy-q4-in-december",
        ),
        pytest.param(
            FEB_FY,
            "quarter",
            date(2027, 1, 31),
            date(2026, 11, 1),
            date(2027, 1, 31),
            "FY2027 Q4",
            id="feb-fy-q4-in-january",
        ),
        pytest.param(
            FEB_FY,
            "quarter",
            date(2026, 1, 15),
            date(2025, 11, 1),
            date(2026, 1, 31),
            "FY2026 Q4",
            id="feb-fy-january-closes-last-fiscal-year",
        ),
        pytest.param(
            FEB_FY,
            "quarter",
            date(2024, 2, 29),
            date(2024, 2, 1),
            date(2024, 4, 30),
            "FY2025 Q1",
            id="feb-fy-q1-leap-day",
        ),
        pytest.param(
            FEB_FY,
            "year",
            date(2026, 2, 1),
            date(2026, 2, 1),
            date(2027, 1, 31),
            "FY2027",
            id="feb-fy-year-first-day",
        ),
        pytest.param(
            FEB_FY,
            "year",
            date(2027, 1, 31),
            date(2026, 2, 1),
            date(2027, 1, 31),
            "FY2027",
            id="feb-fy-year-last-day",
        ),
        pytest.param(
            FEB_FY,
            "year",
            date(2026, 1, 31),
            date(2025, 2, 1),
            date(2026, 1, 31),
            "FY2026",
            id="feb-fy-year-before",
        ),
        pytest.param(
            APR_FY,
            "quarter",
            date(2026, 4, 1),
            date(2026, 4, 1),
            date(2026, 6, 30),
            "FY2027 Q1",
            id="apr-fy-q1",
        ),
        pytest.param(
            APR_FY,
            "quarter",
            date(2026, 8, 15),
            date(2026, 7, 1),
            date(2026, 9, 30),
            "FY2027 Q2",
            id="apr-fy-q2",
        ),
        pytest.param(
            APR_FY,
            "quarter",
            date(2026, 11, 15),
            date(2026, 10, 1),
            date(2026, 12, 31),
            "FY2027 Q3",
            id="apr-fy-q3-before-calendar-year-end",
        ),
        pytest.param(
            APR_FY,
            "quarter",
            date(2027, 3, 31),
            date(2027, 1, 1),
            date(2027, 3, 31),
            "FY2027 Q4",
            id="apr-fy-q4-after-calendar-year-end",
        ),
        pytest.param(
            APR_FY,
            "quarter",
            date(2026, 3, 31),
            date(2026, 1, 1),
            date(2026, 3, 31),
            "FY2026 Q4",
            id="apr-fy-march-closes-last-fiscal-year",
        ),
        pytest.param(
            APR_FY,
            "year",
            date(2026, 4, 1),
            date(2026, 4, 1),
            date(2027, 3, 31),
            "FY2027",
            id="apr-fy-year-first-day",
        ),
        pytest.param(
            APR_FY,
            "year",
            date(2026, 3, 31),
            date(2025, 4, 1),
            date(2026, 3, 31),
            "FY2026",
            id="apr-fy-year-last-day",
        ),
        pytest.param(
            APR_FY,
            "year",
            date(2024, 2, 29),
            date(2023, 4, 1),
            date(2024, 3, 31),
            "FY2024",
            id="apr-fy-year-with-leap-day",
        ),
    ],
)
def test_fiscal_bounds_and_labels(calendar, period, day, start, end, label):
    assert calendar.bounds(period, day) == (start, end)
    assert calendar.label(period, start) == label


@pytest.mark.parametrize(
    ("calendar", "period", "start", "label"),
    [
        # Months, weeks and days are named the same whatever the fiscal year.
        pytest.param(FEB_FY, "month", date(2026, 2, 1), "Feb 2026", id="feb-fy-month"),
        pytest.param(APR_FY, "week", date(2026, 3, 30), "week of 2026-03-30", id="apr-fy-week"),
        pytest.param(APR_FY, "day", date(2026, 4, 1), "2026-04-01", id="apr-fy-day"),
    ],
)
def test_fiscal_year_leaves_other_labels_alone(calendar, period, start, label):
    assert calendar.label(period, start) == label


@pytest.mark.parametrize(
    "calendar",
    [
        pytest.param(FEB_FY, id="fiscal-february"),
        pytest.param(APR_FY, id="fiscal-april"),
        pytest.param(Calendar(fiscal_year_start_month=12), id="fiscal-december"),
        pytest.param(SUNDAY_WEEKS, id="sunday-weeks"),
        pytest.param(Calendar(week_start=2), id="wednesday-weeks"),
    ],
)
@pytest.mark.parametrize("period", ["week", "quarter", "year"])
def test_other_calendars_tile_the_calendar(calendar, period):
    # Every day from 2023 to 2025 falls in exactly one period, each starting the day after the last.
    day = date(2023, 1, 1)
    start, end = calendar.bounds(period, day)
    assert start <= day <= end
    while day <= date(2025, 12, 31):
        if day > end:
            assert day == end + timedelta(days=1)
            start, end = calendar.bounds(period, day)
            assert start == day
        assert calendar.bounds(period, day) == (start, end)
        day += timedelta(days=1)


@pytest.mark.parametrize(
    ("calendar", "period", "starts_in"),
    [
        pytest.param(FEB_FY, "quarter", {2, 5, 8, 11}, id="feb-fy-quarters"),
        pytest.param(APR_FY, "quarter", {1, 4, 7, 10}, id="apr-fy-quarters"),
        pytest.param(FEB_FY, "year", {2}, id="feb-fy-year"),
        pytest.param(APR_FY, "year", {4}, id="apr-fy-year"),
    ],
)
def test_fiscal_periods_start_on_the_first_of_their_months(calendar, period, starts_in):
    day = date(2024, 1, 1)
    while day <= date(2025, 12, 31):
        start, _ = calendar.bounds(period, day)
        assert start.day == 1
        assert start.month in starts_in
        day += timedelta(days=1)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        pytest.param({"fiscal_year_start_month": 0}, "fiscal_year_start_month", id="fiscal-month-0"),
        pytest.param({"fiscal_year_start_month": 13}, "fiscal_year_start_month", id="fiscal-month-13"),
        pytest.param({"week_start": 7}, "week_start", id="week-start-7"),
        pytest.param({"week_start": -1}, "week_start", id="week-start-negative"),
    ],
)
def test_calendar_rejects_impossible_settings(arguments, message):
    with pytest.raises(ValueError, match=message):
        Calendar(**arguments)


# --- week start -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("calendar", "day", "start", "end"),
    [
        pytest.param(
            Calendar(),
            date(2026, 11, 15),
            date(2026, 11, 9),
            date(2026, 11, 15),
            id="monday-weeks-sunday-is-last",
        ),
        pytest.param(
            Calendar(),
            date(2026, 11, 16),
            date(2026, 11, 16),
            date(2026, 11, 22),
            id="monday-weeks-monday-is-first",
        ),
        pytest.param(
            SUNDAY_WEEKS,
            date(2026, 11, 15),
            date(2026, 11, 15),
            date(2026, 11, 21),
            id="sunday-weeks-sunday-is-first",
        ),
        pytest.param(
            SUNDAY_WEEKS,
            date(2026, 11, 14),
            date(2026, 11, 8),
            date(2026, 11, 14),
            id="sunday-weeks-saturday-is-last",
        ),
        pytest.param(
            SUNDAY_WEEKS,
            date(2026, 11, 11),
            date(2026, 11, 8),
            date(2026, 11, 14),
            id="sunday-weeks-midweek",
        ),
        pytest.param(
            SUNDAY_WEEKS,
            date(2027, 1, 1),
            date(2026, 12, 27),
            date(2027, 1, 2),
            id="sunday-weeks-across-year-end",
        ),
    ],
)
def test_week_start(calendar, day, start, end):
    assert calendar.bounds("week", day) == (start, end)
    assert calendar.label("week", start) == f"week of {start.isoformat()}"


# --- the period before and the same period a year earlier -----------------------------------------


@pytest.mark.parametrize(
    ("calendar", "period", "start", "before"),
    [
        pytest.param(
            Calendar(),
            "day",
            date(2024, 3, 1),
            (date(2024, 2, 29), date(2024, 2, 29)),
            id="day-after-leap-day",
        ),
        pytest.param(
            Calendar(),
            "week",
            date(2026, 1, 5),
            (date(2025, 12, 29), date(2026, 1, 4)),
            id="week-across-year-end",
        ),
        pytest.param(
            SUNDAY_WEEKS,
            "week",
            date(2026, 11, 15),
            (date(2026, 11, 8), date(2026, 11, 14)),
            id="sunday-week",
        ),
        pytest.param(
            Calendar(),
            "month",
            date(2024, 3, 1),
            (date(2024, 2, 1), date(2024, 2, 29)),
            id="march-after-leap-february",
        ),
        pytest.param(
            Calendar(),
            "month",
            date(2026, 1, 1),
            (date(2025, 12, 1), date(2025, 12, 31)),
            id="january-after-december",
        ),
        pytest.param(
            Calendar(),
            "quarter",
            date(2024, 1, 1),
            (date(2023, 10, 1), date(2023, 12, 31)),
            id="q1-after-q4",
        ),
        pytest.param(
            FEB_FY,
            "quarter",
            date(2026, 2, 1),
            (date(2025, 11, 1), date(2026, 1, 31)),
            id="feb-fy-q1-after-q4",
        ),
        pytest.param(
            APR_FY,
            "year",
            date(2026, 4, 1),
            (date(2025, 4, 1), date(2026, 3, 31)),
            id="apr-fy-year",
        ),
        pytest.param(
            Calendar(),
            "year",
            date(2025, 1, 1),
            (date(2024, 1, 1), date(2024, 12, 31)),
            id="year-after-leap-year",
        ),
    ],
)
def test_previous_period(calendar, period, start, before):
    assert calendar.previous(period, start) == before


@pytest.mark.parametrize(
    ("calendar", "period", "start", "earlier", "days_now", "days_then"),
    [
        # A day is compared with the same weekday 52 weeks earlier, not the same date.
        pytest.param(
            Calendar(),
            "day",
            date(2024, 2, 29),
            date(2023, 3, 2),
            1,
            1,
            id="leap-day-vs-same-weekday",
        ),
        pytest.param(Calendar(), "day", date(2025, 3, 1), date(2024, 3, 2), 1, 1, id="day-after-leap-year"),
        pytest.param(Calendar(), "week", date(2026, 11, 9), date(2025, 11, 10), 7, 7, id="monday-week"),
        pytest.param(SUNDAY_WEEKS, "week", date(2026, 11, 8), date(2025, 11, 9), 7, 7, id="sunday-week"),
        pytest.param(
            Calendar(),
            "month",
            date(2024, 2, 1),
            date(2023, 2, 1),
            29,
            28,
            id="leap-february-vs-common",
        ),
        pytest.param(
            Calendar(),
            "month",
            date(2025, 2, 1),
            date(2024, 2, 1),
            28,
            29,
            id="common-february-vs-leap",
        ),
        pytest.param(
            Calendar(),
            "quarter",
            date(2024, 1, 1),
            date(2023, 1, 1),
            91,
            90,
            id="leap-q1-vs-common-q1",
        ),
        pytest.param(Calendar(), "quarter", date(2026, 10, 1), date(2025, 10, 1), 92, 92, id="q4"),
        pytest.param(FEB_FY, "quarter", date(2026, 2, 1), date(2025, 2, 1), 89, 89, id="feb-fy-q1"),
        pytest.param(
            FEB_FY,
            "quarter",
            date(2024, 2, 1),
            date(2023, 2, 1),
            90,
            89,
            id="feb-fy-q1-with-leap-day",
        ),
        pytest.param(APR_FY, "year", date(2026, 4, 1), date(2025, 4, 1), 365, 365, id="apr-fy-year"),
        pytest.param(
            Calendar(),
            "year",
            date(2024, 1, 1),
            date(2023, 1, 1),
            366,
            365,
            id="leap-year-vs-common",
        ),
    ],
)
def test_year_before(calendar, period, start, earlier, days_now, days_then):
    now_start, now_end = calendar.bounds(period, start)
    then_start, then_end = calendar.year_before(period, start)

    assert now_start == start
    assert then_start == earlier
    assert calendar.label(period, then_start) != calendar.label(period, start)
    assert ((now_end - now_start).days + 1, (then_end - then_start).days + 1) == (
        days_now,
        days_then,
    )
    if period in ("day", "week"):
        assert then_start.weekday() == start.weekday()


# --- windows as instants across DST ---------------------------------------------------------------


def hours(window: tuple[datetime, datetime]) -> float:
    # Subtracting two datetimes in the same zone gives wall-clock time; elapsed time needs UTC.
    start, end = window
    return (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() / 3600


@pytest.mark.parametrize(
    ("zone", "period", "day", "length"),
    [
        pytest.param("America/Los_Angeles", "month", date(2026, 3, 15), 743, id="la-march"),
        pytest.param("America/Los_Angeles", "month", date(2026, 11, 15), 721, id="la-november"),
        pytest.param("America/Los_Angeles", "month", date(2026, 10, 15), 744, id="la-october"),
        pytest.param("America/Los_Angeles", "day", date(2026, 3, 8), 23, id="la-spring-forward-day"),
        pytest.param("America/Los_Angeles", "day", date(2026, 11, 1), 25, id="la-fall-back-day"),
        pytest.param("America/Los_Angeles", "day", date(2026, 3, 29), 24, id="la-berlin-change-day"),
        pytest.param("America/Los_Angeles", "week", date(2026, 3, 8), 167, id="la-week-ending-on-change"),
        pytest.param("America/Los_Angeles", "week", date(2026, 11, 2), 168, id="la-week-after-change"),
        pytest.param("America/Los_Angeles", "quarter", date(2026, 2, 1), 2159, id="la-q1"),
        pytest.param("America/Los_Angeles", "year", date(2026, 6, 1), 8760, id="la-year-nets-out"),
        pytest.param("Europe/Berlin", "month", date(2026, 3, 15), 743, id="berlin-march"),
        pytest.param("Europe/Berlin", "month", date(2026, 10, 15), 745, id="berlin-october"),
        pytest.param("Europe/Berlin", "month", date(2026, 11, 15), 720, id="berlin-november"),
        pytest.param("Europe/Berlin", "day", date(2026, 3, 29), 23, id="berlin-spring-forward-day"),
        pytest.param("Europe/Berlin", "day", date(2026, 10, 25), 25, id="berlin-fall-back-day"),
        pytest.param("Europe/Berlin", "day", date(2026, 3, 8), 24, id="berlin-la-change-day"),
        pytest.param("UTC", "month", date(2026, 3, 15), 744, id="utc-march"),
    ],
)
def test_window_lasts_the_real_hours(zone, period, day, length):
    assert hours(Calendar().window(period, day, zone)) == length


@pytest.mark.parametrize(
    ("zone", "day", "start_utc", "end_utc"),
    [
        # PST (UTC-8) at the start of March, PDT (UTC-7) at its end.
        pytest.param(
            "America/Los_Angeles",
            date(2026, 3, 15),
            datetime(2026, 3, 1, 8, tzinfo=UTC),
            datetime(2026, 4, 1, 7, tzinfo=UTC),
            id="la-march",
        ),
        pytest.param(
            "America/Los_Angeles",
            date(2026, 11, 15),
            datetime(2026, 11, 1, 7, tzinfo=UTC),
            datetime(2026, 12, 1, 8, tzinfo=UTC),
            id="la-november",
        ),
        pytest.param(
            "Europe/Berlin",
            date(2026, 3, 15),
            datetime(2026, 2, 28, 23, tzinfo=UTC),
            datetime(2026, 3, 31, 22, tzinfo=UTC),
            id="berlin-march",
        ),
        pytest.param(
            "Europe/Berlin",
            date(2026, 10, 15),
            datetime(2026, 9, 30, 22, tzinfo=UTC),
            datetime(2026, 10, 31, 23, tzinfo=UTC),
            id="berlin-october",
        ),
    ],
)
def test_window_starts_and_ends_at_local_midnight(zone, day, start_utc, end_utc):
    start, end = Calendar().window("month", day, zone)

    assert (start, end) == (start_utc, end_utc)
    assert (start.astimezone(ZoneInfo(zone)).hour, end.astimezone(ZoneInfo(zone)).hour) == (0, 0)


def test_consecutive_windows_meet():
    # November's window begins at the instant October's ends: no hour is lost or counted twice.
    calendar = Calendar()
    for zone in ("America/Los_Angeles", "Europe/Berlin"):
        _, october_end = calendar.window("month", date(2026, 10, 15), zone)
        november_start, _ = calendar.window("month", date(2026, 11, 15), zone)
        assert october_end.astimezone(UTC) == november_start.astimezone(UTC)


def test_fiscal_window_follows_the_fiscal_quarter():
    start, end = FEB_FY.window("quarter", date(2026, 12, 15), "America/Los_Angeles")

    assert (start.date(), end.date()) == (date(2026, 11, 1), date(2027, 2, 1))
    assert hours((start, end)) == 92 * 24 + 1  # 1 Nov 2026 is the day LA falls back


# --- the as-of day on DST change days -------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "zone", "as_of"),
    [
        # Los Angeles springs forward at 02:00 on 8 March 2026 (UTC-8 -> UTC-7).
        pytest.param(
            datetime(2026, 3, 8, 3, 30, tzinfo=LA),
            "America/Los_Angeles",
            date(2026, 3, 7),
            id="la-spring-forward-day-after-the-jump",
        ),
        pytest.param(
            datetime(2026, 3, 9, 0, 15, tzinfo=LA),
            "America/Los_Angeles",
            date(2026, 3, 8),
            id="la-after-the-23-hour-day",
        ),
        # 07:30 UTC on 9 March is 00:30 PDT: the 8th has ended (in PST it would still be the 8th).
        pytest.param(
            datetime(2026, 3, 9, 7, 30, tzinfo=UTC),
            "America/Los_Angeles",
            date(2026, 3, 8),
            id="la-spring-forward-given-in-utc",
        ),
        pytest.param(
            datetime(2026, 3, 9, 6, 59, tzinfo=UTC),
            "America/Los_Angeles",
            date(2026, 3, 7),
            id="la-spring-forward-last-minute-of-the-day",
        ),
        # Los Angeles falls back at 02:00 on 1 November 2026 (UTC-7 -> UTC-8): 01:30 happens twice.
        pytest.param(
            datetime(2026, 11, 1, 1, 30, fold=0, tzinfo=LA),
            "America/Los_Angeles",
            date(2026, 10, 31),
            id="la-fall-back-first-0130",
        ),
        pytest.param(
            datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=LA),
            "America/Los_Angeles",
            date(2026, 10, 31),
            id="la-fall-back-second-0130",
        ),
        # 07:30 UTC on 2 November is 23:30 PST on the 1st: the 25-hour day has not ended yet.
        pytest.param(
            datetime(2026, 11, 2, 7, 30, tzinfo=UTC),
            "America/Los_Angeles",
            date(2026, 10, 31),
            id="la-fall-back-given-in-utc-still-the-first",
        ),
        pytest.param(
            datetime(2026, 11, 2, 8, 15, tzinfo=UTC),
            "America/Los_Angeles",
            date(2026, 11, 1),
            id="la-after-the-25-hour-day",
        ),
        # Berlin springs forward at 02:00 on 29 March 2026 (UTC+1 -> UTC+2).
        pytest.param(
            datetime(2026, 3, 29, 22, 15, tzinfo=UTC),
            "Europe/Berlin",
            date(2026, 3, 29),
            id="berlin-after-the-23-hour-day",
        ),
        pytest.param(
            datetime(2026, 3, 29, 21, 59, tzinfo=UTC),
            "Europe/Berlin",
            date(2026, 3, 28),
            id="berlin-spring-forward-last-minute",
        ),
        # Berlin falls back at 03:00 on 25 October 2026 (UTC+2 -> UTC+1).
        pytest.param(
            datetime(2026, 10, 25, 22, 59, tzinfo=UTC),
            "Europe/Berlin",
            date(2026, 10, 24),
            id="berlin-fall-back-last-minute",
        ),
        pytest.param(
            datetime(2026, 10, 25, 23, 0, tzinfo=UTC),
            "Europe/Berlin",
            date(2026, 10, 25),
            id="berlin-after-the-25-hour-day",
        ),
        pytest.param(
            datetime(2026, 10, 25, 0, 15, tzinfo=BERLIN),
            "Europe/Berlin",
            date(2026, 10, 24),
            id="berlin-fall-back-day-just-begun",
        ),
    ],
)
def test_as_of_on_dst_change_days(moment, zone, as_of):
    assert as_of_for(moment, zone) == as_of


@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Europe/Berlin"])
def test_as_of_turns_at_each_window_end(zone):
    # The as-of day moves on exactly when a day's window ends, on 23- and 25-hour days too.
    calendar = Calendar()
    for day in (date(2026, 3, 8), date(2026, 3, 29), date(2026, 10, 25), date(2026, 11, 1)):
        _, end = calendar.window("day", day, zone)
        assert as_of_for(end, zone) == day
        assert as_of_for(end - timedelta(seconds=1), zone) == day - timedelta(days=1)


def test_periods_within_a_span_are_the_whole_ones_only():
    # Mid-January to the end of April holds February, March and April whole; January is cut.
    months = Calendar().within("month", date(2026, 1, 15), date(2026, 4, 30))
    assert months == [
        (date(2026, 2, 1), date(2026, 2, 28)),
        (date(2026, 3, 1), date(2026, 3, 31)),
        (date(2026, 4, 1), date(2026, 4, 30)),
    ]
    # 2 Dec 2026 is a Wednesday: the first whole Monday week starts on the 7th; the 20th is a Sunday.
    weeks = Calendar().within("week", date(2026, 12, 2), date(2026, 12, 20))
    assert weeks == [(date(2026, 12, 7), date(2026, 12, 13)), (date(2026, 12, 14), date(2026, 12, 20))]
    # A fiscal year from February: 2026 holds Feb-Apr, May-Jul and Aug-Oct; Nov-Jan runs into 2027.
    quarters = Calendar(fiscal_year_start_month=2).within("quarter", date(2026, 1, 1), date(2026, 12, 31))
    assert [q[0].month for q in quarters] == [2, 5, 8]
    assert Calendar().within("quarter", date(2026, 7, 2), date(2026, 9, 30)) == []
