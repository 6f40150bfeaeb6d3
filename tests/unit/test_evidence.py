"""Evidence before alarms, each goal judged alone, and what it would take: the verdicts of small
made-up businesses, with every expected number worked out by hand (or by numpy in the test,
independently of goalwatch's code)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goalwatch.config import Config
from goalwatch.core.findings import QualityReport
from goalwatch.core.forecast import Panel, project
from goalwatch.core.periods import Calendar
from goalwatch.pipeline import pace_goals, statuses

NOV_1, NOV_30 = date(2026, 11, 1), date(2026, 11, 30)  # 1 Nov 2026 is a Sunday


def frame(values: dict[date, float]) -> pd.DataFrame:
    return pd.DataFrame({"day": list(values), "value": list(values.values())})


def daily(first: date, last: date, value) -> dict[date, float]:
    """``value(day)`` for each day from ``first`` to ``last``; None leaves the day without a row."""
    out = {}
    day = first
    while day <= last:
        v = value(day)
        if v is not None:
            out[day] = float(v)
        day += timedelta(days=1)
    return out


def config(*goals: dict, metrics: tuple[str, ...] = ("users",)) -> Config:
    return Config.model_validate(
        {"metrics": {m: {"source": {"path": f"{m}.csv"}} for m in metrics}, "goals": list(goals)}
    )


def judge(cfg: Config, frames: dict[str, pd.DataFrame], day: date):
    """The goals' total verdicts as of ``day``, from the data known that day, through the real
    status rule (the GX goal suite), the data checks taken as passed."""
    visible = {m: f[f["day"] <= day] for m, f in frames.items()}
    reports = {m: QualityReport(metric=m, rows=len(f)) for m, f in visible.items()}
    return {v.goal: v for v in statuses(pace_goals(cfg, visible, day, reports), cfg) if v.segment is None}


def weekdays_only(day: date) -> float | None:
    return 100.0 if day.weekday() < 5 else None


# --- quiet weekdays -----------------------------------------------------------------------------


@pytest.mark.parametrize("pacing", ["weekday", "seasonal", "trend"])
def test_a_weekday_that_never_has_rows_weighs_nothing(pacing):
    # A B2B source: 100 sign-ups each weekday since 2024, no rows at all on Saturdays and Sundays.
    values = daily(date(2024, 1, 1), NOV_30, weekdays_only)
    days = pd.date_range(date(2024, 1, 1), NOV_30).date
    row = np.array([values.get(d, np.nan) for d in days])
    # November 2026 has 21 weekdays: each carries 1/21 of the month's pace, a weekend day none.
    projection = project(Panel(row[None, :], date(2024, 1, 1)), NOV_1, NOV_30, pacing, Calendar(), period="month")

    steps = np.diff(projection.expected(np.array([2100.0]))[0], prepend=0.0)
    weekend = np.array([(NOV_1 + timedelta(days=i)).weekday() >= 5 for i in range(30)])
    assert steps[weekend] == pytest.approx(np.zeros(9), abs=1e-6)
    assert steps[~weekend] == pytest.approx(np.full(21, 100.0), rel=1e-3)


def test_a_month_that_starts_on_a_quiet_weekend_is_on_track_at_the_goals_rate():
    # August 2026 starts on a Saturday and has 21 weekdays; the business runs exactly at the rate
    # of its goal, 100 each weekday: 2,100 for the month.
    cfg = config({"name": "signups", "metric": "users", "period": "month", "target": 2100, "pacing": "weekday"})
    frames = {"users": frame(daily(date(2026, 3, 2), date(2026, 8, 31), weekdays_only))}

    saturday, sunday, monday = (judge(cfg, frames, date(2026, 8, d))["signups"] for d in (1, 2, 3))

    for v in (saturday, sunday):
        assert (v.status, v.expected_to_date, v.evidence) == ("on_track", 0.0, 0.0)
    assert monday.status == "on_track"
    assert monday.expected_to_date == pytest.approx(100.0)
    assert monday.forecast == pytest.approx(2100.0, rel=1e-6)


# --- evidence ---------------------------------------------------------------------------------


def test_no_alarm_before_the_goals_evidence_is_due():
    # 100 a day, every day, until October; then November runs at 50 a day. Linear pacing: each
    # day is 1/30 of the month's pace, and the default evidence is 10% of it.
    cfg = config({"name": "signups", "metric": "users", "period": "month", "target": 3000})
    frames = {"users": frame(daily(date(2026, 8, 1), NOV_30, lambda d: 100 if d < NOV_1 else 50))}

    first, fourth = judge(cfg, frames, NOV_1)["signups"], judge(cfg, frames, date(2026, 11, 4))["signups"]

    assert first.pace_ratio == pytest.approx(0.5)
    assert first.evidence == pytest.approx(1 / 30)
    assert first.status == "on_track"
    assert "too early to judge: 3% of the period's pace is due, 10% needed" in first.note
    assert fourth.evidence == pytest.approx(4 / 30)
    assert (fourth.status, fourth.severity) == ("off_track", "critical")


def test_a_goal_can_ask_for_more_evidence():
    cfg = config({"name": "signups", "metric": "users", "period": "month", "target": 3000, "evidence": 0.25})
    frames = {"users": frame(daily(date(2026, 8, 1), NOV_30, lambda d: 100 if d < NOV_1 else 50))}

    # 7/30 = 23% is due on the 7th, 8/30 = 27% on the 8th.
    assert judge(cfg, frames, date(2026, 11, 7))["signups"].status == "on_track"
    assert judge(cfg, frames, date(2026, 11, 8))["signups"].status == "off_track"


# --- the usual swing --------------------------------------------------------------------------


def noisy(cv: float, seed: int):
    rng = np.random.default_rng(seed)

    def value(day: date) -> float:
        # 100 a day with the given day-to-day swing before November, a steady 95 a day in it.
        return 95.0 if day >= NOV_1 else float(100 * rng.lognormal(-(cv**2) / 2, cv))

    return value


@pytest.mark.parametrize(("cv", "stands_out"), [(0.5, False), (0.01, True)])
def test_off_track_needs_a_deficit_beyond_the_usual_swing(cv, stands_out):
    cfg = config({"name": "signups", "metric": "users", "period": "month", "target": 3000})
    values = daily(date(2026, 9, 1), NOV_30, noisy(cv, 7))
    frames = {"users": frame(values)}

    v = judge(cfg, frames, date(2026, 11, 10))["signups"]

    # The swing, worked out here from the 28 days before November: the relative spread of a day.
    october = np.array([values[date(2026, 10, 31) - timedelta(days=i)] for i in range(28)])
    swing = october.std(ddof=1) / october.mean()
    # Ten days of 100 expected a day, each with that spread: the spread of their sum is
    # swing x 100 x sqrt(10); the deficit is 10 x 5 = 50.
    assert v.pace_ratio == pytest.approx(0.95)
    assert v.swings == pytest.approx(50 / (swing * 100 * np.sqrt(10)), rel=1e-6)
    assert v.stands_out is stands_out
    assert (v.status == "off_track") is stands_out


# --- what it would take -----------------------------------------------------------------------


def test_the_rate_the_target_needs_against_the_last_four_weeks():
    cfg = config({"name": "signups", "metric": "users", "period": "month", "target": 3000})
    frames = {"users": frame(daily(date(2026, 9, 1), NOV_30, lambda d: 100 if d < NOV_1 else 80))}

    v = judge(cfg, frames, date(2026, 11, 10))["signups"]

    # 800 by the 10th: 2,200 to go in 20 days. The last 28 days: 18 of October at 100, 10 at 80.
    assert v.required_rate == pytest.approx(110.0)
    assert v.recent_rate == pytest.approx((18 * 100 + 10 * 80) / 28)


# --- growth without a baseline, closed periods --------------------------------------------------


def test_a_growth_goal_without_its_comparison_period_is_a_data_issue():
    cfg = config(
        {
            "name": "growth",
            "metric": "users",
            "period": "month",
            "kind": "growth",
            "growth_vs": "previous_period",
            "target": 0.1,
        }
    )
    frames = {"users": frame(daily(NOV_1, NOV_30, lambda d: 100))}

    for day in (date(2026, 11, 10), NOV_30):
        v = judge(cfg, frames, day)["growth"]
        assert v.status == "data_issue"
        assert "no baseline: the previous period has no data" in v.note


def test_a_growth_goal_whose_comparison_period_has_no_rows_is_a_data_issue():
    # Rows through September, none in October (a gap in the source), 100 a day in November.
    cfg = config(
        {
            "name": "growth",
            "metric": "users",
            "period": "month",
            "kind": "growth",
            "target": 0.1,
            "growth_vs": "previous_period",
        },
    )
    september = daily(date(2026, 9, 1), date(2026, 9, 30), lambda d: 100)
    frames = {"users": frame({**september, **daily(NOV_1, NOV_30, lambda d: 100)})}

    for day in (date(2026, 11, 10), NOV_30):
        v = judge(cfg, frames, day)["growth"]
        assert v.status == "data_issue", day
        assert "no baseline: the previous period has no data" in v.note


def test_a_closed_period_reports_its_outcome_not_a_range():
    cfg = config({"name": "signups", "metric": "users", "period": "month", "target": 3000})
    frames = {"users": frame(daily(date(2026, 9, 1), NOV_30, lambda d: 99))}

    v = judge(cfg, frames, NOV_30)["signups"]

    assert (v.status, v.actual_to_date) == ("missed", 2970.0)
    assert v.forecast == 2970.0
    assert np.isnan(v.forecast_low) and np.isnan(v.forecast_high)  # no range: JSON null
    assert v.to_dict()["forecast_low"] is None
    assert v.miss_probability == 1.0


# --- each goal judged alone -------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    period=st.sampled_from(["week", "month", "quarter"]),
    pacing=st.sampled_from(["linear", "weekday", "seasonal", "trend", "auto"]),
    older=st.integers(30, 900),
    other_pacing=st.sampled_from(["linear", "weekday", "seasonal", "trend", "auto"]),
    other_segments=st.booleans(),
    first_is_other=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_a_goals_verdict_does_not_depend_on_other_metrics(
    period, pacing, older, other_pacing, other_segments, first_is_other, seed
):
    rng = np.random.default_rng(seed)
    day = date(2026, 11, 18)
    mine = {"name": "mine", "metric": "users", "period": period, "target": 3000, "pacing": pacing}
    other = {"name": "other", "metric": "revenue", "period": period, "target": 9000, "pacing": other_pacing}
    users = frame(daily(date(2025, 9, 1), day, lambda d: 100 * rng.lognormal(0, 0.2) * (0.5 if d.weekday() > 4 else 1)))
    revenue = frame(daily(date(2025, 9, 1) - timedelta(days=older), day, lambda d: 300 * rng.lognormal(0, 0.4)))
    if other_segments:
        # The other goal by region: its series join mine in one batch when the pacing matches.
        revenue = revenue.assign(region=np.where(np.arange(len(revenue)) % 3 == 0, "EU", "NA"))
        other["segments"] = {"by": ["region"], "targets": {"EU": 3000, "NA": 6000}}

    alone = judge(config(mine), {"users": users}, day)["mine"]
    goals = (other, mine) if first_is_other else (mine, other)
    metrics = {
        "users": {"source": {"path": "users.csv"}},
        "revenue": {"source": {"path": "revenue.csv"}, "dimensions": ["region"] if other_segments else []},
    }
    cfg = Config.model_validate({"metrics": metrics, "goals": list(goals)})
    together = judge(cfg, {"users": users, "revenue": revenue}, day)["mine"]

    # Equal to the last bits floating-point sums of a different number of rows can change.
    mine_alone, mine_together = alone.to_dict(), together.to_dict()
    assert mine_together.keys() == mine_alone.keys()
    for key, value in mine_alone.items():
        if isinstance(value, float):
            assert mine_together[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key
        else:
            assert mine_together[key] == value, key


def test_a_ratio_without_a_denominator_in_its_period_closes_as_a_data_issue_not_missed():
    # Conversion = sign-ups / visits; neither source has a row in November (its data stopped).
    cfg = config(
        {"name": "conversion", "metric": "users", "denominator": "visits", "kind": "ratio", "period": "month",
         "target": 0.1},
        metrics=("users", "visits"),
    )  # fmt: skip
    frames = {
        "users": frame(daily(date(2026, 9, 1), date(2026, 10, 31), lambda d: 10)),
        "visits": frame(daily(date(2026, 9, 1), date(2026, 10, 31), lambda d: 100)),
    }

    v = judge(cfg, frames, NOV_30)["conversion"]

    assert v.status == "data_issue"
    assert "no data for Nov 2026" in v.note


def test_a_level_held_where_it_stands_waits_for_evidence_like_any_goal():
    # 1,000 subscribers to hold through November; 960 on its first day. Linear pacing: one day of
    # thirty is 3% of the period's pace due, below the 10% needed.
    cfg = config({"name": "subs", "metric": "users", "period": "month", "target": 1000, "kind": "level"})
    frames = {"users": frame(daily(date(2026, 8, 1), NOV_30, lambda d: 1000 if d < NOV_1 else 960))}

    first = judge(cfg, frames, NOV_1)["subs"]
    assert first.evidence == pytest.approx(1 / 30)
    assert first.status == "on_track"
    assert "too early to judge: 3% of the period's pace is due, 10% needed" in first.note
    # The fourth day is 4/30 = 13% due: at 96% of the level held, it is off track.
    assert judge(cfg, frames, date(2026, 11, 4))["subs"].status == "off_track"


def test_a_segment_without_history_leaves_its_totals_alarm_and_recent_rate_standing():
    # Region A sells about 100 a day; region B, 1,000 of the 4,000 target, has never had a row.
    rng = np.random.default_rng(7)
    a = daily(date(2026, 8, 1), NOV_30, lambda d: 100 * rng.lognormal(0, 0.2))
    cfg = Config.model_validate(
        {
            "metrics": {"users": {"source": {"path": "users.csv"}, "dimensions": ["region"]}},
            "goals": [
                {"name": "g", "metric": "users", "period": "month", "target": 4000,
                 "segments": {"by": ["region"], "targets": {"A": 3000, "B": 1000}}},
            ],
        }
    )  # fmt: skip
    frames = {"users": frame(a).assign(region="A")}
    day = date(2026, 11, 20)

    v = judge(cfg, frames, day)["g"]

    actual = sum(value for d, value in a.items() if NOV_1 <= d <= day)
    assert v.pace_ratio == pytest.approx(actual / (4000 * 20 / 30))
    assert v.pace_ratio < 0.9
    assert (v.status, v.severity) == ("off_track", "critical")
    last_28 = [value for d, value in a.items() if day - timedelta(days=28) < d <= day]
    assert v.recent_rate == pytest.approx(sum(last_28) / 28)


# --- pacing: auto ---------------------------------------------------------------------------------


CURVE_NAMES = ("linear", "weekday", "seasonal", "trend")


def _growing_weekly(first: date, last: date) -> np.ndarray:
    """Twice as many on Mondays as on other days, the whole growing 5% a week, without noise."""
    days = pd.date_range(first, last).date
    return np.array([(200 if d.weekday() == 0 else 100) * 1.05 ** ((d - first).days / 7) for d in days])


def test_auto_picks_the_curve_that_erred_least_and_not_one_judged_on_two_periods():
    # Fourteen months of a series growing 5% a week with a Monday peak; the goal is monthly.
    # Linear misses the peak and the growth, weekday the growth; trend has both. Seasonal has the
    # same month a year earlier only for November, October and September: judged on two past
    # months, where it happened to err least, it is no candidate.
    first, start, end = date(2025, 9, 1), NOV_1, NOV_30
    panel = Panel(_growing_weekly(first, end)[None, :], first)
    curves = {c: project(panel, start, end, c, Calendar(), period="month") for c in CURVE_NAMES}
    judged = {c: int(np.isfinite(p.errors[:, 0]).sum()) for c, p in curves.items()}
    mean = {c: float(np.nanmean(p.errors[:, 0])) for c, p in curves.items()}
    assert judged == {"linear": 8, "weekday": 8, "seasonal": 2, "trend": 8}
    assert mean["seasonal"] < mean["trend"] < mean["weekday"] < mean["linear"]

    auto = project(panel, start, end, "auto", Calendar(), period="month")

    assert auto.used == ("trend",)
    assert auto.row_notes[0][0] == "auto pacing chose trend: least error over 8 past periods"
    assert auto.forecast()[0, 9] == pytest.approx(curves["trend"].forecast()[0, 9])


def test_auto_without_three_comparable_past_periods_says_so():
    # 20 days of history before the week: no curve was itself in three past weeks.
    first, start, end = date(2026, 10, 27), date(2026, 11, 16), date(2026, 11, 22)
    panel = Panel(_growing_weekly(first, end)[None, :], first)

    auto = project(panel, start, end, "auto", Calendar(), period="week")

    assert auto.used == ("linear",)  # the weekday curve needs 28 days of history
    assert auto.row_notes[0][0] == "auto pacing chose linear: fewer than 3 past periods to compare the curves on"


# --- honest ranges --------------------------------------------------------------------------------


def test_a_levels_range_without_past_periods_holds_its_outcome_about_as_often_as_it_says():
    # 100 random walks of subscribers (10,000, steps of 50 a day): three months of history, so
    # no past quarter calibrates the range and it comes from the series' own variation.
    start, end, first = date(2026, 7, 1), date(2026, 9, 30), date(2026, 4, 1)
    inside = {10: [], 46: []}
    for seed in range(100):
        rng = np.random.default_rng(seed)
        values = 10_000 + np.cumsum(rng.normal(5, 50, (end - first).days + 1))
        projection = project(Panel(values[None, :], first, "level"), start, end, "linear", Calendar(), period="quarter")
        low, high = projection.bounds(0.8)
        for day in inside:
            inside[day].append(low[0, day - 1] <= values[-1] <= high[0, day - 1])

    # 80% is claimed; 100 walks put the share within about +-8 points of it (two binomial sds).
    for day, hits in inside.items():
        assert 0.68 <= np.mean(hits) <= 0.92, (day, np.mean(hits))


# --- nothing to judge -----------------------------------------------------------------------------


def _conversion(pacing: str = "linear") -> Config:
    return config(
        {"name": "conversion", "metric": "users", "denominator": "visits", "kind": "ratio", "period": "month",
         "target": 0.1, "pacing": pacing},
        metrics=("users", "visits"),
    )  # fmt: skip


def _no_traffic_in_november() -> dict[str, pd.DataFrame]:
    # 10 sign-ups of 100 visits a day until October; rows of 0 for both from 1 November.
    return {
        "users": frame(daily(date(2026, 6, 1), NOV_30, lambda d: 10 if d < NOV_1 else 0)),
        "visits": frame(daily(date(2026, 6, 1), NOV_30, lambda d: 100 if d < NOV_1 else 0)),
    }


def test_a_ratio_with_nothing_to_pace_is_a_data_issue_once_its_pace_is_due_not_on_track():
    cfg, frames = _conversion(), _no_traffic_in_november()

    early = judge(cfg, frames, date(2026, 11, 2))["conversion"]  # 2 of 30 days: 7% due
    later = judge(cfg, frames, date(2026, 11, 10))["conversion"]

    assert early.status == "on_track" and "too early" not in early.note
    assert later.status == "data_issue"
    assert later.note == "no data for Nov 2026 so far: nothing to judge its pace on"


def test_a_closed_ratio_without_an_outcome_says_only_that_whatever_its_other_notes():
    # Auto pacing leaves a note on every verdict; the no-outcome reason replaces it.
    v = judge(_conversion("auto"), _no_traffic_in_november(), NOV_30)["conversion"]

    assert v.status == "data_issue"
    assert v.note == "no data for Nov 2026: nothing to compare with the target"


def test_a_level_segment_never_read_leaves_its_total_judged_on_the_others():
    # 1,500 subscribers: A 1,000 and B 500. A reads 800 all November; B has never had a reading.
    cfg = Config.model_validate(
        {
            "metrics": {"subs": {"source": {"path": "subs.csv"}, "dimensions": ["region"]}},
            "goals": [
                {"name": "subs", "metric": "subs", "period": "month", "target": 1500, "kind": "level",
                 "segments": {"by": ["region"], "targets": {"A": 1000, "B": 500}}},
            ],
        }
    )  # fmt: skip
    a = daily(date(2026, 8, 1), NOV_30, lambda d: 1000 if d < NOV_1 else 800)
    frames = {"subs": frame(a).assign(region="A")}

    v = judge(cfg, frames, date(2026, 11, 20))["subs"]

    # Linear from the level before November (1,000, B none) to 1,500: 1,000 + 500 x 20/30 due.
    assert v.actual_to_date == pytest.approx(800)
    assert v.expected_to_date == pytest.approx(1000 + 500 * 20 / 30)
    assert (v.status, v.severity) == ("off_track", "critical")


def test_swing_0_turns_the_gate_off_even_while_the_swing_is_unknown():
    # A source that started on 1 November: no history, and 4 days are too few to measure a swing
    # (5 needed). Half the goal's pace, with 4/30 = 13% of it due.
    frames = {"users": frame(daily(NOV_1, NOV_30, lambda d: 50))}
    day = date(2026, 11, 4)
    goal = {"name": "g", "metric": "users", "period": "month", "target": 3000}

    v = judge(config({**goal, "swing": 0}), frames, day)["g"]
    gated = judge(config(goal), frames, day)["g"]

    assert v.swings == 0.0  # unknown: a deficit nobody can weigh counts as not standing out
    assert (v.status, v.severity) == ("off_track", "critical")
    assert gated.status != "off_track"  # the default gate holds back a deficit nobody can weigh
