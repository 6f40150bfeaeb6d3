"""Invariants of the pacing curves (goalwatch.core.forecast), for any non-negative daily series.

Whatever the data, the pacing, the period and the calendar: the expected-to-date never goes down
during the period, it reaches the target on the period's last day, a goal's total is the sum of
its segments, and the curve does not depend on the days of the period itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from goalwatch.core.forecast import Panel, Projection, project
from goalwatch.core.periods import PERIODS, Calendar

PACINGS = [pytest.param(p, id=p) for p in ("linear", "weekday", "seasonal", "trend", "auto")]
SETTINGS = settings(max_examples=60, deadline=None)


@dataclass(frozen=True)
class Case:
    panel: Panel
    calendar: Calendar
    period: str
    start: date
    end: date
    targets: np.ndarray
    groups: np.ndarray | None

    def project(self, pacing: str, panel: Panel | None = None) -> Projection:
        return project(
            panel or self.panel,
            self.start,
            self.end,
            pacing,
            self.calendar,
            period=self.period,
            groups=self.groups,
        )


@st.composite
def cases(draw: st.DrawFn, *, grouped: bool = False) -> Case:
    calendar = Calendar(fiscal_year_start_month=draw(st.integers(1, 12)), week_start=draw(st.integers(0, 6)))
    period = draw(st.sampled_from(PERIODS))
    start, end = calendar.bounds(period, draw(st.dates(date(2024, 1, 1), date(2027, 12, 31))))
    # From no history at all to more than two years of it: every fallback gets its turn.
    history = draw(st.sampled_from([0, 1, 27, 28, 84, 364, 366, 800]) | st.integers(0, 900))
    first = start - timedelta(days=history)
    if grouped:
        sizes = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
        groups = np.repeat(np.arange(len(sizes)), sizes)
    else:
        groups = None
    count = len(groups) if grouped else draw(st.integers(1, 4))
    width = (end - first).days + 1

    # A weekday pattern per series (zeros allowed: shops shut on Sundays), times seeded noise, with
    # some days zero and some missing.
    weekdays = draw(arrays(np.float64, (count, 7), elements=st.sampled_from([0.0, 1.0]) | st.floats(1e-3, 1e4)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    noise = rng.lognormal(0.0, draw(st.floats(0, 2)), (count, width))
    values = weekdays[:, (np.arange(width) + first.weekday()) % 7] * noise
    values[rng.random((count, width)) < draw(st.floats(0, 0.5))] = 0.0
    values[rng.random((count, width)) < draw(st.floats(0, 0.3))] = np.nan
    # And some net negative (refunds beyond sales: a metric with non_negative: false).
    values[rng.random((count, width)) < draw(st.sampled_from([0.0, 0.05, 0.3]))] *= -draw(st.floats(0, 5))
    targets = draw(arrays(np.float64, count, elements=st.floats(0, 1e7)))
    return Case(Panel(values, first), calendar, period, start, end, targets, groups)


def assert_paces_to_target(expected: np.ndarray, targets: np.ndarray) -> None:
    assert np.isfinite(expected).all()
    assert (np.diff(expected, axis=1) >= 0).all(), "expected-to-date went down"
    assert expected[:, -1] == pytest.approx(targets, rel=1e-9, abs=1e-6)


@pytest.mark.parametrize("pacing", PACINGS)
@SETTINGS
@given(case=cases())
def test_expected_to_date_rises_to_the_target(pacing, case):
    projection = case.project(pacing)

    expected = projection.expected(case.targets)

    assert expected.shape == (len(case.targets), (case.end - case.start).days + 1)
    assert_paces_to_target(expected, case.targets)
    # The evidence, the share of pace due, rises from where it starts to all of it.
    evidence = projection.evidence(case.targets)
    assert_paces_to_target(evidence, np.ones(len(case.targets)))
    assert (evidence >= 0).all()


@pytest.mark.parametrize("pacing", PACINGS)
@SETTINGS
@given(case=cases(grouped=True))
def test_segments_add_up_to_their_goal(pacing, case):
    projection = case.project(pacing)

    expected = projection.expected(case.targets)

    series = len(case.groups)
    goals = case.groups.max() + 1
    assert expected.shape[0] == series + goals
    for goal in range(goals):
        members = expected[:series][case.groups == goal]
        assert expected[series + goal] == pytest.approx(members.sum(axis=0), rel=1e-9, abs=1e-6)
    goal_targets = np.bincount(case.groups, weights=case.targets)
    assert_paces_to_target(expected, np.r_[case.targets, goal_targets])
    evidence = projection.evidence(case.targets)
    assert_paces_to_target(evidence, np.ones(expected.shape[0]))


@pytest.mark.parametrize("pacing", PACINGS)
@SETTINGS
@given(case=cases(), seed=st.integers(0, 2**32 - 1))
def test_curve_does_not_look_at_the_period_itself(pacing, case, seed):
    # A replay on day 3 and the run on day 20 pace the same month along the same curve.
    values = case.panel.values.copy()
    s0 = case.panel.index(case.start)
    inside = values[:, s0:]
    values[:, s0:] = np.random.default_rng(seed).choice([0.0, 1.0, 1e6, np.nan], size=inside.shape)

    before = case.project(pacing).expected(case.targets)
    after = case.project(pacing, Panel(values, case.panel.first)).expected(case.targets)

    assert after == pytest.approx(before, rel=1e-12, abs=1e-9)


@pytest.mark.parametrize("pacing", PACINGS)
@SETTINGS
@given(case=cases(grouped=True), seed=st.integers(0, 2**32 - 1), cut=st.floats(0, 1))
def test_a_day_sees_nothing_after_it(pacing, case, seed, cut):
    # The period's history is what each of its days saw: changing the days after day j changes
    # nothing of days 0..j (projection, interval, chance of missing, swing).
    s0 = case.panel.index(case.start)
    n = (case.end - case.start).days + 1
    j = int(cut * (n - 1))
    values = case.panel.values.copy()
    values[:, s0 + j + 1 :] = np.random.default_rng(seed).choice(
        [0.0, 1.0, 1e6, np.nan], size=values[:, s0 + j + 1 :].shape
    )

    before, after = case.project(pacing), case.project(pacing, Panel(values, case.panel.first))

    for a, b in ((before.projected, after.projected), (before.sigma, after.sigma), (before.mu, after.mu)):
        np.testing.assert_allclose(b[:, : j + 1], a[:, : j + 1], rtol=1e-9, equal_nan=True)
    targets = np.r_[case.targets, np.bincount(case.groups, weights=case.targets)]
    np.testing.assert_allclose(
        after.miss_probability(targets)[:, : j + 1], before.miss_probability(targets)[:, : j + 1], equal_nan=True
    )
    np.testing.assert_allclose(
        after.noise(case.targets)[:, : j + 1], before.noise(case.targets)[:, : j + 1], rtol=1e-9, equal_nan=True
    )


@pytest.mark.parametrize("pacing", PACINGS)
@SETTINGS
@given(case=cases())
def test_a_closed_period_has_no_range_and_a_sure_outcome(pacing, case):
    projection = case.project(pacing)
    low, high = (b[:, -1] for b in projection.bounds(0.8))
    final = projection.cum[:, -1]
    known = np.isfinite(projection.projected[:, -1])

    assert low[known] == pytest.approx(final[known]) and high[known] == pytest.approx(final[known])
    miss = projection.miss_probability(case.targets)[:, -1]
    assert set(miss[known].tolist()) <= {0.0, 1.0}
    assert (miss[known] == (final[known] < case.targets[known])).all()
