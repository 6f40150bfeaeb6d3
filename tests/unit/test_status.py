"""Status levels with hysteresis: what a goal's status becomes each day given yesterday's, and why
a pace hovering at a threshold does not flap between statuses. The levels come from the real rule:
the default GX goal suite validates each day (checks.goals.decide_statuses), core.status scans."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import numpy as np
import pytest

from goalwatch.checks.goals import decide_statuses, goal_checks_suite
from goalwatch.core.status import LEVELS, checked_levels, scan
from tests.factories import monthly_verdict

# The defaults of a goal: warn below 97% of pace, critical below 90%, at risk when a miss is 80%
# likely, and a margin of 0.02 to leave a level.
WARN, CRITICAL, CONFIDENCE, MARGIN = 0.97, 0.90, 0.8, 0.02
NAMES = ("on_track", "at_risk", "warning", "critical")


LEVEL_OF = {status: level for level, status in enumerate(LEVELS)}


def verdicts_by_day(pace, miss, *, margin: float = MARGIN, warn: float = WARN, critical: float = CRITICAL, name="g"):
    """One pending verdict per day of a goal whose pace and chance of missing are given day by
    day, each carrying its period's days so far (evidence and swings unmeasured: no gate)."""
    days = len(pace)
    out = []
    for k in range(1, days + 1):
        history = np.array([pace[:k], miss[:k], [np.nan] * k, [np.nan] * k], dtype=float)
        v = monthly_verdict("on_track", goal=name, as_of=date(2026, 11, 1) + timedelta(days=k - 1), pace=pace[k - 1])
        out.append(dataclasses.replace(
            v, miss_probability=miss[k - 1], status="pending", severity=None, warn_below=warn, critical_below=critical,
            confidence=CONFIDENCE, hysteresis=margin, history=history,
        ))  # fmt: skip
    return out


def levels(pace: list[float], miss: list[float] | None = None, *, margin: float = MARGIN) -> list[int]:
    """The level held each day by one goal whose pace and miss probability are given day by day."""
    miss = [0.0] * len(pace) if miss is None else miss
    decided = decide_statuses(verdicts_by_day(pace, miss, margin=margin), goal_checks_suite())
    return [LEVEL_OF[(v.status, v.severity)] for v in decided]


# --- scan: the transition table -------------------------------------------------------------------

# Today's level for each (enter, stay) pair of today, by yesterday's level 0..3. ``enter`` is the
# worst level whose condition holds today; ``stay`` the worst that still holds with the margin,
# never better than ``enter``.
TABLE = {
    (0, 0): (0, 0, 0, 0),
    (0, 1): (0, 1, 1, 1),
    (0, 2): (0, 1, 2, 2),
    (0, 3): (0, 1, 2, 3),
    (1, 1): (1, 1, 1, 1),
    (1, 2): (1, 1, 2, 2),
    (1, 3): (1, 1, 2, 3),
    (2, 2): (2, 2, 2, 2),
    (2, 3): (2, 2, 2, 3),
    (3, 3): (3, 3, 3, 3),
}
TRANSITIONS = [
    pytest.param(
        yesterday,
        enter,
        stay,
        today,
        id=f"{NAMES[yesterday]}-to-{NAMES[today]}-enter-{NAMES[enter]}-stay-{NAMES[stay]}",
    )
    for (enter, stay), row in TABLE.items()
    for yesterday, today in enumerate(row)
]


@pytest.mark.parametrize(("yesterday", "enter", "stay", "today"), TRANSITIONS)
def test_scan_transition(yesterday, enter, stay, today):
    result = scan(np.array([[enter]]), np.array([[stay]]), start=np.array([yesterday]))

    assert result.tolist() == [[today]]


def test_table_covers_every_pair_of_levels():
    pairs = {(yesterday, today) for row in TABLE.values() for yesterday, today in enumerate(row)}

    assert pairs == {(a, b) for a in range(4) for b in range(4)}


def test_scan_starts_with_no_level_held():
    enter = np.array([[0, 2, 0], [3, 0, 0]])
    stay = np.array([[1, 2, 1], [3, 3, 2]])

    assert scan(enter, stay).tolist() == [[0, 2, 1], [3, 3, 2]]


def test_scan_resumes_from_yesterdays_level():
    # The daily run starts from the level stored yesterday; it must agree with a replay of the
    # whole period.
    rng = np.random.default_rng(7)
    enter = rng.integers(0, 4, size=(20, 30))
    stay = np.maximum(enter, rng.integers(0, 4, size=(20, 30)))

    whole = scan(enter, stay)
    first = scan(enter[:, :12], stay[:, :12])
    rest = scan(enter[:, 12:], stay[:, 12:], start=first[:, -1])

    assert np.array_equal(np.concatenate([first, rest], axis=1), whole)


# --- from yesterday's level to today's, with a pace and a miss probability ------------------------

# Yesterday's level is entered on day 0 with these numbers.
ENTER = {0: (1.0, 0.1), 1: (1.0, 0.9), 2: (0.95, 0.1), 3: (0.85, 0.1)}


@pytest.mark.parametrize(
    ("yesterday", "pace", "miss", "today"),
    [
        pytest.param(0, 1.00, 0.10, 0, id="on_track-stays"),
        pytest.param(0, 1.00, 0.85, 1, id="on_track-to-at_risk"),
        pytest.param(0, 0.95, 0.10, 2, id="on_track-to-warning"),
        pytest.param(0, 0.85, 0.10, 3, id="on_track-to-critical"),
        pytest.param(1, 1.00, 0.65, 0, id="at_risk-to-on_track-below-confidence-less-margin"),
        pytest.param(1, 1.00, 0.79, 1, id="at_risk-held-within-margin"),
        pytest.param(1, 0.95, 0.79, 2, id="at_risk-to-warning"),
        pytest.param(1, 0.85, 0.90, 3, id="at_risk-to-critical"),
        pytest.param(2, 0.995, 0.10, 0, id="warning-to-on_track-past-margin"),
        pytest.param(2, 0.995, 0.85, 1, id="warning-to-at_risk"),
        pytest.param(2, 0.98, 0.10, 2, id="warning-held-within-margin"),
        pytest.param(2, 0.89, 0.10, 3, id="warning-to-critical"),
        pytest.param(3, 1.00, 0.10, 0, id="critical-to-on_track"),
        pytest.param(3, 1.00, 0.85, 1, id="critical-to-at_risk"),
        pytest.param(3, 0.95, 0.10, 2, id="critical-to-warning"),
        pytest.param(3, 0.91, 0.10, 3, id="critical-held-within-margin"),
    ],
)
def test_status_from_yesterday_to_today(yesterday, pace, miss, today):
    first_pace, first_miss = ENTER[yesterday]

    assert levels([first_pace, pace], [first_miss, miss]) == [yesterday, today]


# --- hysteresis -----------------------------------------------------------------------------------


def test_pace_hovering_at_the_warning_level_does_not_flap():
    pace = [0.969, 0.971, 0.969, 0.972, 0.969, 0.975, 0.98, 0.985, 0.989, 0.99, 0.98, 0.975, 0.971]

    held = levels(pace)

    # Off track from the first dip, once, and on track again only at 0.99 (warn + margin); then
    # the 0.97-0.98 days do not bring it back either.
    assert held == [2] * 9 + [0] * 4
    assert sum(1 for a, b in zip([0, *held[:-1]], held, strict=True) if b > a) == 1


def test_without_a_margin_the_same_pace_flaps():
    # What the margin is for: with none, every crossing of 0.97 changes the status.
    assert levels([0.969, 0.971, 0.969, 0.972], margin=0.0) == [2, 0, 2, 0]


@pytest.mark.parametrize(
    ("pace", "expected"),
    [
        pytest.param([0.85, 0.91, 0.92, 0.95], [3, 3, 2, 2], id="critical-left-at-critical-plus-margin"),
        # Back between 0.90 and 0.92 after leaving critical: a warning; critical only below 0.90.
        pytest.param([0.85, 0.93, 0.91, 0.905, 0.89], [3, 2, 2, 2, 3], id="no-return-to-critical-above-it"),
        pytest.param([0.85, 0.93, 0.99], [3, 2, 0], id="critical-to-warning-to-on_track"),
        pytest.param([0.85, 1.2], [3, 0], id="critical-to-on_track-in-one-day"),
    ],
)
def test_leaving_critical(pace, expected):
    assert levels(pace) == expected


@pytest.mark.parametrize(
    ("miss", "expected"),
    [
        pytest.param([0.5, 0.79, 0.8], [0, 0, 1], id="entered-at-confidence"),
        pytest.param([0.8, 0.79, 0.785, 0.781], [1, 1, 1, 1], id="held-just-below-confidence"),
        # The chance's margin is five of the pace's: at_risk is held down to 0.8 - 5 x 0.02 = 0.70.
        pytest.param([0.8, 0.70], [1, 1], id="held-at-confidence-less-margin"),
        pytest.param([0.8, 0.699, 0.79], [1, 0, 0], id="left-below-confidence-less-margin"),
        pytest.param([0.9, 0.5, 0.85], [1, 0, 1], id="entered-again"),
    ],
)
def test_at_risk_hysteresis(miss, expected):
    assert levels([1.0] * len(miss), miss) == expected


def test_each_row_uses_its_own_thresholds():
    # Two goals judged together: the same pace of 0.95 is a warning for one and on track for the other.
    strict = verdicts_by_day([0.95, 0.95], [0.0, 0.0], name="strict")[-1]
    lenient = verdicts_by_day([0.95, 0.95], [0.0, 0.0], warn=0.94, critical=0.85, name="lenient")[-1]

    decided = decide_statuses([strict, lenient], goal_checks_suite())

    assert [(v.goal, v.status) for v in decided] == [("strict", "off_track"), ("lenient", "on_track")]


@pytest.mark.parametrize(
    ("failed", "enter", "stay"),
    [
        pytest.param({"enter_critical": True, "stay_critical": True}, 3, 3, id="critical"),
        pytest.param({"enter_critical": True, "stay_critical": True, "swing": False}, 0, 3, id="within-the-swing"),
        pytest.param(
            {"enter_risk": True, "enter_warning": True, "swing": False}, 1, 0, id="within-the-swing-still-at-risk"
        ),
        pytest.param({"enter_critical": True, "stay_critical": True, "evidence": True}, 0, 0, id="too-early"),
        pytest.param({"stay_warning": True}, 0, 2, id="held-only"),
    ],
)
def test_checked_levels(failed, enter, stay):
    # A check missing from the mapping is not in the suite: no gate; present and False: it passed.
    got = checked_levels({name: np.array([value]) for name, value in failed.items()}, 1)
    assert (int(got[0][0]), int(got[1][0])) == (enter, stay)


@pytest.mark.parametrize(
    ("level", "status"),
    [
        pytest.param(0, ("on_track", None), id="on_track"),
        pytest.param(1, ("at_risk", "warning"), id="at_risk"),
        pytest.param(2, ("off_track", "warning"), id="warning"),
        pytest.param(3, ("off_track", "critical"), id="critical"),
    ],
)
def test_level_status(level, status):
    assert LEVELS[level] == status
    assert LEVELS[np.int64(level)] == status


# --- a stored suite ---------------------------------------------------------------------------------


def _store(tmp_path, suite) -> None:
    import json

    (tmp_path / "goal_checks.json").write_text(json.dumps(suite))


def test_a_suite_stored_before_the_gates_gets_them_and_says_so(tmp_path, caplog):
    from goalwatch.checks.goals import load_goal_checks

    old = goal_checks_suite()
    old["expectations"] = [e for e in old["expectations"] if e["meta"]["check"] not in ("evidence", "swing")]
    _store(tmp_path, old)

    with caplog.at_level("WARNING"):
        suite = load_goal_checks(tmp_path)

    assert "has no evidence and swing check" in caplog.text and "goalwatch suites write" in caplog.text
    # Day 1 of 30 at half the pace: 3% of the pace due, below the 10% the default gate needs.
    v = verdicts_by_day([0.5], [1.0])[0]
    v = dataclasses.replace(v, evidence=1 / 30, history=np.array([[0.5], [1.0], [1 / 30], [np.nan]]))
    assert decide_statuses([v], suite)[0].status == "on_track"
    assert decide_statuses([v], old)[0].status == "off_track"  # what the stored suite alone would do


def test_mostly_on_a_goal_check_is_refused_naming_the_file(tmp_path):
    from goalwatch.checks.goals import load_goal_checks
    from goalwatch.errors import ConfigError

    suite = goal_checks_suite()
    suite["expectations"][0]["kwargs"]["mostly"] = 0.9
    _store(tmp_path, suite)

    with pytest.raises(ConfigError, match=r"goal_checks.json: expectations\[0\]: 'mostly' cannot apply"):
        load_goal_checks(tmp_path)
