"""Which segments a goal's shortfall is put down to (goalwatch.core.rates.explain): the message
names the segments furthest behind, with their share of the summed shortfalls."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goalwatch.core.rates import EXPLAIN_MAX, EXPLAIN_SHARE, explain


@pytest.mark.parametrize(
    ("gaps", "expected"),
    [
        pytest.param({"eu": 120.0}, (("eu", 1.0),), id="one-segment-behind"),
        pytest.param(
            {"us": 10.0, "eu": 60.0, "apac": 30.0},
            (("eu", 0.6), ("apac", 0.3)),
            id="largest-first-until-80-percent",
        ),
        pytest.param({"web": 15.0, "store": 85.0}, (("store", 0.85),), id="one-segment-is-enough"),
        pytest.param({"a": 80.0, "b": 15.0, "c": 5.0}, (("a", 0.8),), id="exactly-80-percent-stops"),
        pytest.param(
            {"a": 30.0, "b": 25.0, "c": 20.0, "d": 15.0, "e": 10.0},
            (("a", 0.3), ("b", 0.25), ("c", 0.2)),
            id="at-most-three-segments",
        ),
        pytest.param(
            {"a": 40.0, "b": 35.0, "c": 25.0},
            (("a", 0.4), ("b", 0.35), ("c", 0.25)),
            id="third-segment-reaches-80-percent",
        ),
        # Shares are of the summed shortfalls (100), not of the net gap (-100): the segment ahead
        # does not make the others' shortfall smaller.
        pytest.param(
            {"eu": 60.0, "us": -200.0, "apac": 40.0},
            (("eu", 0.6), ("apac", 0.4)),
            id="segments-ahead-are-ignored",
        ),
        pytest.param({"eu": 0.0, "us": 25.0}, (("us", 1.0),), id="on-pace-segment-is-not-behind"),
        pytest.param(
            {"web/eu": 5.0, "web/us": 45.0, "store/eu": 50.0},
            (("store/eu", 0.5), ("web/us", 0.45)),
            id="two-dimension-segments",
        ),
        pytest.param({"eu": 0.001, "us": 0.003}, (("us", 0.75), ("eu", 0.25)), id="tiny-gaps"),
    ],
)
def test_explain_names_the_segments_behind(gaps, expected):
    result = explain(gaps)

    assert [name for name, _ in result] == [name for name, _ in expected]
    assert [share for _, share in result] == pytest.approx([share for _, share in expected])


@pytest.mark.parametrize(
    "gaps",
    [
        pytest.param({}, id="no-segments"),
        pytest.param({"eu": -10.0, "us": -0.5}, id="all-ahead"),
        pytest.param({"eu": 0.0, "us": 0.0}, id="all-exactly-on-pace"),
        pytest.param({"eu": -10.0, "us": 0.0}, id="ahead-and-on-pace"),
        pytest.param({"eu": float("nan"), "us": -1.0}, id="segment-without-a-target"),
    ],
)
def test_explain_is_empty_when_nobody_is_behind(gaps):
    assert explain(gaps) == ()


def test_two_segments_explaining_exactly_80_percent_are_enough():
    result = explain({"a": 70.0, "b": 10.0, "c": 10.0, "d": 10.0})

    assert [name for name, _ in result] == ["a", "b"]


gap_maps = st.dictionaries(
    st.text("abcdefgh/", min_size=1, max_size=4),
    st.floats(-1e6, 1e6, allow_nan=False) | st.integers(-100, 100).map(float),
    max_size=8,
)


@settings(max_examples=200, deadline=None)
@given(gaps=gap_maps)
def test_explain_follows_its_rule(gaps):
    result = explain(gaps)

    behind = {s: Fraction(g) for s, g in gaps.items() if g > 0}
    total = sum(behind.values())
    names = [name for name, _ in result]
    assert len(set(names)) == len(names) <= EXPLAIN_MAX
    assert set(names) <= behind.keys()
    assert bool(result) == bool(behind)
    # Each share is the segment's part of the summed shortfalls, largest first ...
    for name, share in result:
        assert share == pytest.approx(float(behind[name] / total))
    assert [share for _, share in result] == sorted((share for _, share in result), reverse=True)
    # ... and nobody left out is further behind than someone named.
    if result:
        assert all(behind[s] <= behind[names[-1]] for s in behind.keys() - set(names))
    # The list stops once it explains EXPLAIN_SHARE of the shortfall (away from the exact
    # boundary, where the sum of float shares decides) or at EXPLAIN_MAX segments.
    covered = [sum((behind[n] / total for n in names[: i + 1]), Fraction(0)) for i in range(len(names))]
    margin = Fraction(1, 10**9)
    assert all(c < Fraction(EXPLAIN_SHARE) + margin for c in covered[:-1])
    if len(names) < min(EXPLAIN_MAX, len(behind)):
        assert covered[-1] > Fraction(EXPLAIN_SHARE) - margin
