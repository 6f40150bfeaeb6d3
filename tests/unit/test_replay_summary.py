"""``goalwatch replay``'s closing lines: when a missed period was first flagged, and how early.

The verdicts are built by hand, one per goal and day as ``pipeline.replay`` returns them (day by
day, goal totals only), for Q3 2026 (Jul 1 – Sep 30), so the days before the close are counted by
hand too: Sep 1 is 29 days before Sep 30, Sep 10 is 20, Jul 1 is 91.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from goalwatch.cli.evaluate import _first_warnings
from goalwatch.core.verdicts import Verdict
from tests.factories import Q3_END, Q3_START, q3_verdict


def make(as_of: date, status: str, **changes) -> Verdict:
    severity = {"off_track": "critical", "missed": "critical", "at_risk": "warning"}.get(status)
    numbers = dict(
        label="New users",
        target=48000.0,
        actual_to_date=19732.0,
        expected_to_date=23951.0,
        pace_ratio=19732 / 23951,
        forecast=39523.0,
        forecast_low=38737.0,
        forecast_high=40325.0,
        miss_probability=0.99,
    )
    return q3_verdict(as_of, status, changes.pop("severity", severity), **{**numbers, **changes})


def timeline(first: date, runs: list[tuple[str, int]], **changes) -> list[Verdict]:
    """Verdicts from ``first``, one a day: each run is (status, days); the close is ``missed``
    (or the last run's status when it lands on the close)."""
    out, day = [], first
    for status, days in runs:
        for _ in range(days):
            out.append(make(day, status, **changes))
            day += timedelta(days=1)
    assert out[-1].as_of == Q3_END, out[-1].as_of
    return out


def d(month: int, day: int) -> date:
    return date(2026, month, day)


@pytest.mark.parametrize(
    ("first", "runs", "line"),
    [
        pytest.param(
            d(9, 1),
            [("on_track", 9), ("at_risk", 20), ("missed", 1)],
            "q3_new_users: Q3 2026 closed missed; goalwatch flagged it at risk from 2026-09-10, "
            "20 days before the close.",
            id="stretch-starts-inside-the-window",
        ),
        pytest.param(
            d(9, 1),
            [("on_track", 2), ("at_risk", 3), ("on_track", 9), ("off_track", 15), ("missed", 1)],
            "q3_new_users: Q3 2026 closed missed; goalwatch flagged it off track from 2026-09-15, "
            "15 days before the close.",
            id="the-last-stretch-counts",
        ),
        pytest.param(
            d(9, 1),
            [("off_track", 29), ("missed", 1)],
            "q3_new_users: Q3 2026 closed missed; already off track when the window starts (2026-09-01), "
            "29 days before the close.",
            id="window-starts-inside-a-stretch",
        ),
        pytest.param(
            d(9, 1),
            [("at_risk", 14), ("off_track", 15), ("missed", 1)],
            "q3_new_users: Q3 2026 closed missed; already at risk when the window starts (2026-09-01), "
            "29 days before the close.",
            id="window-starts-inside-a-stretch-that-worsens",
        ),
        pytest.param(
            d(9, 1),
            [("off_track", 4), ("on_track", 5), ("at_risk", 20), ("missed", 1)],
            "q3_new_users: Q3 2026 closed missed; goalwatch flagged it at risk from 2026-09-10, "
            "20 days before the close.",
            id="window-starts-flagged-but-a-later-stretch-runs-to-the-close",
        ),
        pytest.param(
            Q3_START,
            [("off_track", 91), ("missed", 1)],
            "q3_new_users: Q3 2026 closed missed; goalwatch flagged it off track from 2026-07-01, "
            "91 days before the close.",
            id="window-starts-on-the-period-s-first-day",
        ),
        pytest.param(
            d(9, 1),
            [("on_track", 29), ("missed", 1)],
            "q3_new_users: Q3 2026 closed missed with no warning before the close.",
            id="no-warning",
        ),
        pytest.param(
            d(9, 29),
            [("at_risk", 1), ("missed", 1)],
            "q3_new_users: Q3 2026 closed missed; already at risk when the window starts (2026-09-29), "
            "1 day before the close.",
            id="one-day-before-the-close",
        ),
        pytest.param(
            Q3_END,
            [("missed", 1)],
            "q3_new_users: Q3 2026 closed missed; the window starts on the close.",
            id="window-starts-on-the-close",
        ),
    ],
)
def test_the_summary_says_when_the_miss_was_first_flagged(first, runs, line):
    assert _first_warnings(timeline(first, runs)) == [line]


def test_a_window_from_before_the_period_sees_its_first_day():
    q2 = [
        make(d(6, 29), "on_track", period_label="Q2 2026", period_start=d(4, 1), period_end=d(6, 30)),
        make(d(6, 30), "achieved", period_label="Q2 2026", period_start=d(4, 1), period_end=d(6, 30)),
    ]
    q3 = timeline(Q3_START, [("off_track", 91), ("missed", 1)])

    assert _first_warnings(q2 + q3) == [
        "q3_new_users: Q3 2026 closed missed; goalwatch flagged it off track from 2026-07-01, 91 days before the close."
    ]


def test_a_period_that_did_not_close_missed_has_no_line():
    assert _first_warnings(timeline(d(9, 1), [("at_risk", 29), ("achieved", 1)])) == []
    assert _first_warnings(timeline(d(9, 1), [("off_track", 30)])[:-1]) == []  # not closed yet


def test_two_goals_each_get_their_line():
    new_users = timeline(d(9, 1), [("off_track", 29), ("missed", 1)])
    revenue = timeline(
        d(9, 1), [("on_track", 9), ("at_risk", 20), ("missed", 1)], goal="q3_revenue", label="Revenue", unit="USD"
    )
    by_day = [v for pair in zip(new_users, revenue, strict=True) for v in pair]  # as replay returns them

    assert _first_warnings(by_day) == [
        "q3_new_users: Q3 2026 closed missed; already off track when the window starts (2026-09-01), "
        "29 days before the close.",
        "q3_revenue: Q3 2026 closed missed; goalwatch flagged it at risk from 2026-09-10, 20 days before the close.",
    ]
