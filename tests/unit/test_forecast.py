"""Pacing curves, projections and forecast intervals (goalwatch.core.forecast) on small synthetic panels.

Every panel here is built with numpy from a rule (a weekday pattern, a back-loaded month, a
seeded random walk), so each expected number can be worked out by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import numpy as np
import pytest

from goalwatch.core.forecast import Panel, Projection, project
from goalwatch.core.periods import Calendar

CALENDAR = Calendar()
NOV_1, NOV_30 = date(2026, 11, 1), date(2026, 11, 30)  # 1 Nov 2026 is a Sunday
# Nov 2026 has 21 weekdays and 9 weekend days: at 100 a weekday and 50 a weekend day, 2550.
WEEKEND_HALF = (100.0, 100.0, 100.0, 100.0, 100.0, 50.0, 50.0)
NOVEMBER_AT_WEEKEND_HALF = 21 * 100 + 9 * 50
FLAT = (100.0,) * 7
SEASONAL_NOTE = "seasonal pacing needs the same period a year earlier; paced by weekday"
LEVEL_NOTE = "{} pacing applies to totals; a level goal paces linearly"


def series(
    first: date,
    last: date,
    weekdays: tuple[float, ...] = FLAT,
    factor: Callable[[date], float] = lambda day: 1.0,
) -> np.ndarray:
    """One value a day from ``first`` to ``last``: the weekday's value (Monday first) times
    ``factor``."""
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return np.array([weekdays[d.weekday()] * factor(d) for d in days])


def november(
    pacing: str, *rows: np.ndarray, first: date, kind: str = "sum", groups: np.ndarray | None = None
) -> Projection:
    return project(
        Panel(np.vstack(rows), first, kind),
        NOV_1,
        NOV_30,
        pacing,
        CALENDAR,
        period="month",
        groups=groups,
    )


def increments(expected: np.ndarray) -> np.ndarray:
    """What each day adds to the expected-to-date."""
    return np.diff(expected, prepend=0.0)


def pacing_notes(projection: Projection) -> list[str]:
    return [n for n in projection.notes if not n.startswith("range from")]


# --- pacing curves --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "day", "length"),
    [
        pytest.param("day", date(2026, 11, 15), 1, id="day"),
        pytest.param("week", date(2026, 11, 11), 7, id="week"),
        pytest.param("month", date(2026, 11, 15), 30, id="month-30-days"),
        pytest.param("month", date(2024, 2, 10), 29, id="leap-february"),
        pytest.param("quarter", date(2026, 10, 5), 92, id="q4"),
    ],
)
def test_linear_pacing_gives_every_day_an_equal_share(period, day, length):
    start, end = CALENDAR.bounds(period, day)
    first = start - timedelta(days=120)
    # A strong weekday pattern in the data: linear pacing ignores it.
    values = series(first, end, WEEKEND_HALF)

    projection = project(Panel(values[None, :], first), start, end, "linear", CALENDAR, period=period)
    expected = projection.expected(np.array([length * 30.0]))[0]

    assert projection.share[0] == pytest.approx(np.arange(1, length + 1) / length)
    assert increments(expected) == pytest.approx(np.full(length, 30.0))
    assert pacing_notes(projection) == []


def test_weekday_pacing_follows_the_weekdays():
    first = NOV_1 - timedelta(days=84)
    projection = november("weekday", series(first, NOV_30, WEEKEND_HALF), first=first)

    expected = projection.expected(np.array([float(NOVEMBER_AT_WEEKEND_HALF)]))[0]

    weekend = np.array([(NOV_1 + timedelta(days=i)).weekday() >= 5 for i in range(30)])
    # A weekend day is expected to bring half of what a weekday brings.
    assert increments(expected) == pytest.approx(np.where(weekend, 50.0, 100.0))
    assert expected[-1] == pytest.approx(NOVEMBER_AT_WEEKEND_HALF)
    # A month that goes exactly as the weekdays say is on pace every day, weekends included.
    assert projection.cum[0] / expected == pytest.approx(np.ones(30))
    assert pacing_notes(projection) == []


@pytest.mark.parametrize(
    ("pacing", "pace_on_sunday"),
    [
        # Linear pacing expects a 30th of the month on the first Sunday: 85, got 50.
        pytest.param("linear", 50 / (NOVEMBER_AT_WEEKEND_HALF / 30), id="linear-calls-it-behind"),
        pytest.param("weekday", 1.0, id="weekday-knows-sundays-are-slow"),
        pytest.param("seasonal", 1.0, id="seasonal-knows-sundays-are-slow"),
    ],
)
def test_pace_on_a_slow_weekday(pacing, pace_on_sunday):
    first = date(2025, 1, 1)
    projection = november(pacing, series(first, NOV_30, WEEKEND_HALF), first=first)

    expected = projection.expected(np.array([float(NOVEMBER_AT_WEEKEND_HALF)]))[0]

    assert projection.cum[0, 0] / expected[0] == pytest.approx(pace_on_sunday)


@pytest.mark.parametrize("pacing", [pytest.param("weekday", id="weekday"), pytest.param("seasonal", id="seasonal")])
@pytest.mark.parametrize(
    ("change_from", "change_to"),
    [
        # The curve stays fixed through the period whatever happens in it: replays never look ahead.
        pytest.param(NOV_1, NOV_30, id="days-inside-the-period"),
        # Weekday shares come from the last 12 weeks (84 days) before the period.
        pytest.param(date(2026, 7, 1), NOV_1 - timedelta(days=85), id="days-older-than-12-weeks"),
    ],
)
def test_curve_ignores_days_it_is_not_learned_from(pacing, change_from, change_to):
    first = date(2025, 1, 1)
    values = series(first, NOV_30, WEEKEND_HALF)
    changed = values.copy()
    lo, hi = (change_from - first).days, (change_to - first).days + 1
    # Mondays become ten times busier, Sundays empty.
    weekday = np.array([(first + timedelta(days=i)).weekday() for i in range(len(values))])
    changed[lo:hi] = np.where(weekday[lo:hi] == 0, 1000.0, np.where(weekday[lo:hi] == 6, 0.0, 100.0))

    before = november(pacing, values, first=first)
    after = november(pacing, changed, first=first)

    assert after.share == pytest.approx(before.share)


def test_weekday_shares_follow_recent_weeks():
    # Weekends used to be as busy as weekdays; in the last 12 weeks they are half as busy.
    first = date(2026, 3, 1)
    values = series(
        first,
        NOV_30,
        WEEKEND_HALF,
        lambda d: 2.0 if d < NOV_1 - timedelta(days=84) and d.weekday() >= 5 else 1.0,
    )

    projection = november("weekday", values, first=first)

    weekend = np.array([(NOV_1 + timedelta(days=i)).weekday() >= 5 for i in range(30)])
    assert increments(projection.share[0]) == pytest.approx(np.where(weekend, 50, 100) / NOVEMBER_AT_WEEKEND_HALF)


def back_loaded(month: int) -> Callable[[date], float]:
    """Three times the business in the second half of ``month`` (a sale, a renewal run)."""
    return lambda day: 3.0 if day.month == month and day.day > 15 else 1.0


@pytest.mark.parametrize(
    ("busy_month", "share_by_the_15th"),
    [
        # Last November was back-loaded: expect about a quarter of this November by the 15th.
        pytest.param(11, 0.27, id="last-november-back-loaded"),
        # Last October was back-loaded, not November: nothing to learn for November.
        pytest.param(10, 0.49, id="last-october-back-loaded"),
    ],
)
def test_seasonal_pacing_uses_the_same_period_a_year_earlier(busy_month, share_by_the_15th):
    first = date(2025, 1, 1)
    values = series(first, NOV_30, WEEKEND_HALF, back_loaded(busy_month))

    projection = november("seasonal", values, first=first)

    assert projection.share[0, 14] == pytest.approx(share_by_the_15th, abs=0.02)
    assert projection.share[0, -1] == pytest.approx(1.0)
    assert pacing_notes(projection) == []


def test_seasonal_pacing_keeps_this_years_weekdays():
    # Last November's shape with this November's weekdays: Saturday 7 Nov brings half of Friday.
    first = date(2025, 1, 1)
    projection = november("seasonal", series(first, NOV_30, WEEKEND_HALF, back_loaded(11)), first=first)

    daily = increments(projection.share[0])

    assert daily[6] == pytest.approx(daily[5] / 2, rel=0.02)
    assert daily[7] == pytest.approx(daily[6], rel=0.02)  # Sunday 8 Nov


def test_seasonal_forecast_sees_the_back_loaded_month_coming():
    first = date(2025, 1, 1)
    values = series(first, NOV_30, WEEKEND_HALF, back_loaded(11))
    final = values[-30:].sum()

    seasonal = november("seasonal", values, first=first).forecast()[0]
    weekday = november("weekday", values, first=first).forecast()[0]

    # On 10 November the seasonal forecast is within 5% of how the month ends; the weekday
    # forecast only extends the first ten days and falls about half short.
    assert seasonal[9] == pytest.approx(final, rel=0.05)
    assert weekday[9] < 0.6 * final


@pytest.mark.parametrize(
    ("pacing", "history", "note", "paced_like"),
    [
        pytest.param("seasonal", 300, SEASONAL_NOTE, "weekday", id="seasonal-under-a-year"),
        pytest.param("seasonal", 28, SEASONAL_NOTE, "weekday", id="seasonal-just-enough-for-weekdays"),
        pytest.param(
            "seasonal",
            27,
            "weekday pacing needs 28 days of history before the period, had 27",
            "linear",
            id="seasonal-27-days",
        ),
        pytest.param(
            "seasonal",
            0,
            "weekday pacing needs 28 days of history before the period, had 0",
            "linear",
            id="seasonal-no-history",
        ),
        pytest.param(
            "weekday",
            27,
            "weekday pacing needs 28 days of history before the period, had 27",
            "linear",
            id="weekday-27-days",
        ),
        pytest.param("weekday", 28, None, "weekday", id="weekday-28-days"),
    ],
)
def test_pacing_falls_back_when_history_is_short(pacing, history, note, paced_like):
    first = NOV_1 - timedelta(days=history)
    values = series(first, NOV_30, WEEKEND_HALF)

    projection = november(pacing, values, first=first)

    notes = pacing_notes(projection)
    if note is None:
        assert notes == []
    else:
        assert len(notes) == 1
        assert notes[0].startswith(note)
        assert paced_like != "linear" or notes[0].endswith("; paced linearly")
    if paced_like == "linear":
        assert projection.share[0] == pytest.approx(np.arange(1, 31) / 30)
    else:
        weekend = np.array([(NOV_1 + timedelta(days=i)).weekday() >= 5 for i in range(30)])
        assert increments(projection.share[0]) == pytest.approx(np.where(weekend, 50, 100) / NOVEMBER_AT_WEEKEND_HALF)


# --- projections ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pacing", "weekdays", "scale", "day", "projected"),
    [
        pytest.param("linear", FLAT, 0.9, 10, 2700, id="linear-behind"),
        pytest.param("linear", FLAT, 1.25, 1, 3750, id="linear-ahead-on-day-one"),
        pytest.param("linear", FLAT, 0.0, 10, 0, id="linear-nothing-yet"),
        pytest.param("linear", FLAT, 0.9, 30, 2700, id="last-day-is-the-actual"),
        pytest.param("weekday", WEEKEND_HALF, 1.0, 1, NOVEMBER_AT_WEEKEND_HALF, id="weekday-slow-sunday"),
        pytest.param("weekday", WEEKEND_HALF, 1.0, 9, NOVEMBER_AT_WEEKEND_HALF, id="weekday-second-monday"),
        pytest.param("weekday", WEEKEND_HALF, 0.9, 10, 0.9 * NOVEMBER_AT_WEEKEND_HALF, id="weekday-behind"),
    ],
)
def test_projection_is_actual_to_date_over_share(pacing, weekdays, scale, day, projected):
    first = NOV_1 - timedelta(days=84)
    history = series(first, NOV_1 - timedelta(days=1), weekdays)
    this_month = series(NOV_1, NOV_30, weekdays) * scale
    this_month[day:] = np.nan  # days after the as-of day have no data yet

    projection = november(pacing, np.r_[history, this_month], first=first)

    assert projection.projected[0, day - 1] == pytest.approx(projected)
    assert projection.projected[0, day - 1] == pytest.approx(projection.cum[0, day - 1] / projection.share[0, day - 1])


def test_missing_days_of_a_total_count_as_nothing():
    first = NOV_1 - timedelta(days=84)
    values = series(first, NOV_30)
    values[(NOV_1 - first).days + 4] = np.nan  # 5 Nov: no row

    projection = november("linear", values, first=first)

    assert projection.cum[0, 9] == pytest.approx(900)


# --- level goals ----------------------------------------------------------------------------------


def subscribers(first: date) -> np.ndarray:
    """1000 subscribers on 31 October, ten more each day of November."""
    days = np.arange((NOV_30 - first).days + 1)
    return 1000.0 + 10.0 * (days - (NOV_1 - first).days + 1)


def test_level_goal_paces_from_the_level_before_the_period():
    first = NOV_1 - timedelta(days=60)

    projection = november("linear", subscribers(first), first=first, kind="level")
    expected = projection.expected(np.array([1400.0]))[0]

    assert projection.base[0] == pytest.approx(1000)
    # Actual-to-date of a level is the level read that day, not a sum.
    assert projection.cum[0, 9] == pytest.approx(1100)
    # The 400 to gain are paced over the month, from 1000.
    assert expected[9] == pytest.approx(1000 + 400 * 10 / 30)
    assert expected[-1] == pytest.approx(1400)
    # Ten a day for thirty days ends at 1300 whichever day the projection is made.
    assert projection.projected[0] == pytest.approx(np.full(30, 1300.0))


@pytest.mark.parametrize("pacing", [pytest.param("weekday", id="weekday"), pytest.param("seasonal", id="seasonal")])
def test_level_goal_paces_linearly(pacing):
    first = date(2025, 1, 1)

    projection = november(pacing, subscribers(first), first=first, kind="level")

    assert projection.share[0] == pytest.approx(np.arange(1, 31) / 30)
    assert LEVEL_NOTE.format(pacing) in projection.notes


def test_level_missing_day_keeps_the_last_reading():
    first = NOV_1 - timedelta(days=60)
    values = subscribers(first)
    values[(NOV_1 - first).days + 4] = np.nan  # 5 Nov was not read

    projection = november("linear", values, first=first, kind="level")

    assert projection.cum[0, 4] == pytest.approx(1040)  # still 4 Nov's reading
    assert projection.cum[0, 5] == pytest.approx(1060)


def test_level_without_a_reading_before_the_period_starts_from_the_first_day():
    values = subscribers(NOV_1)

    projection = november("linear", values, first=NOV_1, kind="level")

    assert projection.base[0] == pytest.approx(1010)
    assert projection.expected(np.array([1310.0]))[0, -1] == pytest.approx(1310)


# --- groups: a goal's total and its segments ------------------------------------------------------


def segmented(kind: str = "sum") -> tuple[Projection, np.ndarray]:
    """Goal 0 has segments 'web' (weekend-heavy) and 'store' (weekday-heavy); goal 1 has one."""
    first = NOV_1 - timedelta(days=84)
    web = series(first, NOV_30, (40.0, 40.0, 40.0, 40.0, 40.0, 120.0, 120.0))
    store = series(first, NOV_30, WEEKEND_HALF)
    other = series(first, NOV_30, FLAT) * 3
    groups = np.array([0, 0, 1])
    rows = (web, store, other) if kind == "sum" else tuple(np.cumsum(r) for r in (web, store, other))
    return november("weekday", *rows, first=first, kind=kind, groups=groups), groups


@pytest.mark.parametrize("kind", [pytest.param("sum", id="totals"), pytest.param("level", id="levels")])
def test_group_rows_are_the_sums_of_their_series(kind):
    projection, _ = segmented(kind)

    # Three series, then one row per goal.
    assert projection.cum.shape == projection.projected.shape == (5, 30)
    for array in (projection.cum, projection.projected, projection.base[:, None]):
        assert array[3] == pytest.approx(array[0] + array[1])
        assert array[4] == pytest.approx(array[2])
    assert projection.mu.shape == projection.sigma.shape == (5, 30)


def test_segment_expectations_add_up_to_the_goals():
    projection, _ = segmented()
    targets = np.array([2000.0, 2600.0, 9000.0])

    expected = projection.expected(targets)

    assert expected.shape == (5, 30)
    assert expected[3] == pytest.approx(expected[0] + expected[1])
    assert expected[4] == pytest.approx(expected[2])
    assert expected[3:, -1] == pytest.approx([4600, 9000])
    # Each segment keeps its own curve: the web shop is expected to sell more on a Sunday.
    assert expected[0, 0] / 2000 > expected[1, 0] / 2600


# --- forecast intervals ---------------------------------------------------------------------------


def weekdays_only(past_weeks: int) -> Projection:
    """A business open Monday to Friday, 100 a day, paced linearly over the week of 9 Nov 2026:
    midweek, linear pacing projects 700 for a week that always ends at 500."""
    start, end = date(2026, 11, 9), date(2026, 11, 15)
    first = start - timedelta(days=7 * past_weeks)
    values = series(first, end, (100.0,) * 5 + (0.0, 0.0))
    return project(Panel(values[None, :], first), start, end, "linear", CALENDAR, period="week")


@pytest.mark.parametrize("past_weeks", [pytest.param(n, id=f"{n}-past-weeks") for n in (3, 4, 8, 12)])
def test_calibrated_forecast_corrects_the_pacing_bias(past_weeks):
    projection = weekdays_only(past_weeks)

    assert projection.projected[0, 2] == pytest.approx(700)  # Wednesday: 300 / (3/7)
    assert projection.mu[0, 2] == pytest.approx(np.log(500 / 700))
    assert projection.forecast()[0] == pytest.approx(np.full(7, 500.0))
    low, high = projection.bounds(0.8)
    assert low[0, 2] < 500 < high[0, 2]
    assert not any(n.startswith("range from") for n in projection.notes)


@pytest.mark.parametrize("past_weeks", [pytest.param(n, id=f"{n}-past-weeks") for n in (0, 1, 2)])
def test_interval_falls_back_without_three_past_periods(past_weeks):
    projection = weekdays_only(past_weeks)

    assert (
        f"range from the series' own daily variation: {past_weeks} past period(s) on linear pacing to calibrate on, "
        "3 needed"
    ) in projection.notes
    assert projection.mu[0] == pytest.approx(np.zeros(7))
    assert projection.forecast()[0, 2] == pytest.approx(700)  # no bias correction to learn from
    assert (projection.sigma[0, :-1] > 0).all()
    assert projection.sigma[0, -1] == 0  # the week is over: its outcome is known


HISTORY = {"calibrated": date(2025, 11, 1), "from-daily-variation": date(2026, 10, 1)}


def noisy_and_steady(history: str) -> Projection:
    """Two series from the ``history`` start: one steady at 100 a day, one 100 a day with seeded
    noise (no weekday pattern), paced linearly over November 2026."""
    first = HISTORY[history]
    rng = np.random.default_rng(20261101)
    length = (NOV_30 - first).days + 1
    steady = np.full(length, 100.0)
    noisy = 100.0 * rng.lognormal(0.0, 0.6, length)
    return november("linear", steady, noisy, first=first)


def test_noisier_history_gives_a_wider_interval():
    projection = noisy_and_steady("calibrated")

    assert not any(n.startswith("range from") for n in projection.notes)
    # Steady days never err; a floor stops the interval claiming more than 0.5% precision.
    assert ((projection.sigma[0, :-1] >= 0.005) & (projection.sigma[0, :-1] < 0.01)).all()
    assert (projection.sigma[1, :-1] > projection.sigma[0, :-1]).all()
    assert projection.sigma[1, 2] > 0.2
    # The spread shrinks as the month fills in.
    assert projection.sigma[1, 2] > projection.sigma[1, 25]


@pytest.mark.parametrize("history", list(HISTORY))
def test_bounds_widen_with_the_level(history):
    projection = noisy_and_steady(history)
    forecast = projection.forecast()[1, 9]

    widths = []
    for level in (0.5, 0.8, 0.95):
        low, high = (b[1, 9] for b in projection.bounds(level))
        assert low < forecast < high
        widths.append((low, high))

    assert widths[0][0] > widths[1][0] > widths[2][0]
    assert widths[0][1] < widths[1][1] < widths[2][1]


@pytest.mark.parametrize("history", list(HISTORY))
@pytest.mark.parametrize(
    ("target_over_forecast", "low", "high"),
    [
        pytest.param(3.0, 0.99, 1.0, id="far-below-target"),
        pytest.param(1.0, 0.5, 0.5, id="forecast-is-the-median"),
        pytest.param(1 / 3, 0.0, 0.01, id="far-above-target"),
    ],
)
def test_miss_probability(history, target_over_forecast, low, high):
    projection = noisy_and_steady(history)
    forecast = projection.forecast()[:, 9]

    miss = projection.miss_probability(forecast * target_over_forecast)[:, 9]

    assert ((miss >= low - 1e-9) & (miss <= high + 1e-9)).all()


def test_miss_probability_grows_as_the_target_rises():
    projection = noisy_and_steady("calibrated")
    forecast = projection.forecast()[1, 9]

    misses = [projection.miss_probability(np.array([0.0, t]))[1, 9] for t in forecast * np.linspace(0.5, 2, 16)]

    assert np.all(np.diff(misses) > 0)


def test_interval_without_any_history_is_not_falsely_precise():
    # A brand-new metric, three days into its first month, 3% behind its target's run rate.
    values = series(NOV_1, date(2026, 11, 3))
    projection = november("linear", values, first=NOV_1)

    miss = projection.miss_probability(np.array([3000 / 0.97]))[0, 2]

    # Nothing is known about how this metric varies: the 5% spread used when the spread is
    # unknown, not a near-certain miss that would raise at_risk on day three.
    assert (projection.sigma[0, :-1] >= 0.05).all()
    assert miss < 0.8
