"""Goal kinds (total, level, ratio, growth), segments, per-period targets, fiscal quarters and
per-goal time zones, evaluated end to end on small files (GX included, no Airflow)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from goalwatch.config import load_config
from goalwatch.data.sources import read_metric
from goalwatch.pipeline import evaluate

FIRST = date(2025, 1, 1)
LAST = date(2026, 6, 30)


def days() -> list[date]:
    return [FIRST + timedelta(days=i) for i in range((LAST - FIRST).days + 1)]


def write(tmp_path: Path, goals_yaml: str, **series) -> Path:
    for name, values in series.items():
        frame = pd.DataFrame(values)
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    metrics = "".join(
        f"  {name}: {{source: {{path: {name}.csv}}" + (", dimensions: [region]" if "region" in values else "") + "}\n"
        for name, values in series.items()
    )
    folder = tmp_path / "config"
    folder.mkdir(exist_ok=True)
    (folder / "goals.yml").write_text("metrics:\n" + metrics.replace("path: ", "path: ../") + "goals:\n" + goals_yaml)
    return folder / "goals.yml"


def run(path: Path, as_of: date) -> dict[str, object]:
    config = load_config(path)
    frames = {m: read_metric(config, m) for m in config.metrics}
    return {v.key: v for v in evaluate(config, frames, as_of)}


def test_level_goal_is_judged_on_the_last_value(tmp_path):
    # Paying subscribers: 1,000 at the start of Q2 2026, +5 a day; target 1,500 at the quarter's end.
    level = {"day": days(), "value": [max(1000 + 5 * (d - date(2026, 3, 31)).days, 100) for d in days()]}
    path = write(
        tmp_path,
        "  - {name: subs, metric: subscribers, kind: level, period: quarter, target: 1500}\n",
        subscribers=level,
    )
    v = run(path, date(2026, 5, 15))["subs"]
    assert v.actual_to_date == 1000 + 5 * 45  # the level on the as-of day, not a sum
    # Linear path from the level before the quarter (1,000) to the target, 45 of 91 days in.
    assert v.expected_to_date == pytest.approx(1000 + 500 * 45 / 91)
    assert v.forecast == pytest.approx(1000 + 5 * 91, rel=0.01)
    # 98% of pace (above the warning level) but heading for 1,455: at risk.
    assert v.status == "at_risk"


def test_ratio_goal_divides_two_metrics(tmp_path):
    revenue = {"day": days(), "value": [100.0] * len(days())}
    users = {"day": days(), "value": [10.0] * len(days())}
    path = write(
        tmp_path,
        "  - {name: arpu, metric: revenue, kind: ratio, denominator: users, period: month, "
        "target: 12, critical_below: 0.9}\n",
        revenue=revenue,
        users=users,
    )
    v = run(path, date(2026, 5, 15))["arpu"]
    assert (v.actual_to_date, v.expected_to_date, v.target) == (10, 12, 12)
    assert v.pace_ratio == pytest.approx(10 / 12)
    assert v.forecast == pytest.approx(10, rel=0.01)
    assert (v.status, v.severity) == ("off_track", "critical")


def test_ratio_goal_waits_for_both_metrics_data(tmp_path):
    revenue = {"day": days(), "value": [100.0] * len(days())}
    users = {"day": days(), "value": [10.0] * (len(days()) - 1) + [-1.0]}
    path = write(
        tmp_path,
        "  - {name: arpu, metric: revenue, kind: ratio, denominator: users, period: month, target: 12}\n",
        revenue=revenue,
        users=users,
    )
    v = run(path, LAST)["arpu"]
    assert v.status == "data_issue" and "expect_column_values_to_be_between on `value`" in v.note


@pytest.mark.parametrize(
    ("vs", "base_per_day"),
    [("last_year", 10.0), ("previous_period", 10.5)],
    ids=["vs-last-year", "vs-previous-quarter"],
)
def test_growth_goal_targets_growth_over_the_comparison_period(tmp_path, vs, base_per_day):
    # 10 a day in 2025, 10.5 a day in Q1 2026, 11 a day from Q2 2026.
    values = [10.0 if d.year == 2025 else 10.5 if d < date(2026, 4, 1) else 11.0 for d in days()]
    path = write(
        tmp_path,
        f"  - {{name: growth, metric: users, kind: growth, growth_vs: {vs}, period: quarter, target: 0.15}}\n",
        users={"day": days(), "value": values},
    )
    v = run(path, date(2026, 5, 15))["growth"]
    baseline = base_per_day * (90 if vs == "previous_period" else 91)
    assert v.target == pytest.approx(baseline * 1.15)
    assert v.actual_to_date == 11 * 45
    assert v.status in ("off_track", "at_risk") if v.target > 11 * 91 else v.status == "on_track"


def test_segment_targets_roll_up_and_name_the_gap(tmp_path):
    rows = [
        {"day": d, "region": r, "value": v} for d in days() for r, v in (("NA", 50.0), ("EU", 30.0), ("APAC", 10.0))
    ]
    users = {k: [row[k] for row in rows] for k in ("day", "region", "value")}
    goals = (
        "  - {name: users_q, metric: users, period: quarter, target: 9100, "
        "segments: {by: [region], targets: {NA: 4550, EU: 2730, APAC: 1820}}}\n"
    )
    v = run(write(tmp_path, goals, users=users), date(2026, 5, 15))
    assert {k for k in v} == {"users_q", "users_q[NA]", "users_q[EU]", "users_q[APAC]"}
    total = v["users_q"]
    assert total.expected_to_date == pytest.approx(
        sum(v[f"users_q[{r}]"].expected_to_date for r in ("NA", "EU", "APAC"))
    )
    assert total.actual_to_date == 90 * 45
    # Only APAC (10 a day against 20) is behind: it explains the whole gap.
    assert total.explanation == (("APAC", pytest.approx(1.0)),)
    assert v["users_q[NA]"].status == "on_track" and v["users_q[APAC]"].status == "off_track"


def test_per_period_targets_and_fiscal_quarters(tmp_path):
    users = {"day": days(), "value": [10.0] * len(days())}
    path = write(
        tmp_path,
        "  - {name: users_q, metric: users, period: quarter, target: 1000, targets: {2026-05-01: 700}}\n",
        users=users,
    )
    config_text = path.read_text()
    path.write_text("fiscal_year_start_month: 2\n" + config_text)
    v = run(path, date(2026, 5, 15))["users_q"]
    assert (v.period_start, v.period_end, v.period_label) == (date(2026, 5, 1), date(2026, 7, 31), "FY2027 Q2")
    assert v.target == 700


def test_a_goal_in_another_time_zone_keeps_its_own_days(tmp_path):
    users = {"day": days(), "value": [10.0] * len(days())}
    path = write(
        tmp_path, "  - {name: users_m, metric: users, period: month, target: 300, timezone: Asia/Tokyo}\n", users=users
    )
    config = load_config(path)
    assert config.timezone_of(config.goals[0]) == "Asia/Tokyo"
