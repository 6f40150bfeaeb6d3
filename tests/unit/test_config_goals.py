"""goals.yml keys of learned pacing: kinds, segments, per-period targets, calendar, time zones."""

from __future__ import annotations

from pathlib import Path

import pytest

from goalwatch.config import load_config
from goalwatch.errors import ConfigError

METRICS = """metrics:
  users: {source: {path: users.csv}, dimensions: [region, plan]}
  revenue: {source: {path: revenue.csv}, unit: USD}
"""


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "goals.yml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return info.value.problems


@pytest.mark.parametrize(
    ("goal", "key", "message"),
    [
        pytest.param(
            "{name: g, metric: users, period: quarter, target: 100, segments: {by: [region], "
            "targets: {NA: 50, EU: 40}}}",
            "goals[0].segments.targets",
            "the segment targets add up to 90, not the goal's target 100",
            id="segments-do-not-add-up",
        ),
        pytest.param(
            "{name: g, metric: users, period: quarter, target: 100, segments: {by: [country], targets: {US: 100}}}",
            "goals[0].segments.by",
            "'country' is not a dimension of metric 'users' (it has: region, plan)",
            id="segment-not-a-dimension",
        ),
        pytest.param(
            "{name: g, metric: users, period: quarter, target: 100, segments: {by: [region, plan], "
            "targets: {NA: 100}}}",
            "goals[0].segments.targets.NA",
            "'NA' should name one value per dimension of region/plan",
            id="segment-key-parts",
        ),
        pytest.param(
            "{name: g, metric: revenue, kind: ratio, period: month, target: 12}",
            "goals[0].kind",
            "a ratio goal needs a denominator metric",
            id="ratio-without-denominator",
        ),
        pytest.param(
            "{name: g, metric: revenue, kind: ratio, denominator: userz, period: month, target: 12}",
            "goals[0].denominator",
            "'userz' is not a metric",
            id="unknown-denominator",
        ),
        pytest.param(
            "{name: g, metric: users, kind: growth, period: month, target: -1.5}",
            "goals[0].target",
            "a growth target of -1.5 would mean less than nothing",
            id="growth-below-minus-100%",
        ),
        pytest.param(
            "{name: g, metric: users, period: month, target: 10, targets: {2026-01-01: 0}}",
            "goals[0].targets",
            "2026-01-01: must be greater than 0, not 0.0",
            id="period-target-zero",
        ),
        pytest.param(
            "{name: g, metric: users, period: month, target: 10, pacing: learned}",
            "goals[0].pacing",
            "'learned' is not one of 'linear', 'weekday', 'seasonal', 'trend' or 'auto'",
            id="unknown-pacing",
        ),
        pytest.param(
            "{name: g, metric: users, period: month, target: 10, timezone: Pacific/Atlantis}",
            "goals[0].timezone",
            "'Pacific/Atlantis' is not an IANA time zone",
            id="goal-time-zone",
        ),
        pytest.param(
            "{name: g, metric: users, period: month, target: 10, confidence: 0.3}",
            "goals[0].confidence",
            "greater than or equal to 0.5",
            id="confidence-below-half",
        ),
        pytest.param(
            "{name: g, metric: users, period: month, target: 10, notify: {mention: ['@data-team']}}",
            "goals[0].notify.mention[0]",
            "'@data-team' is not allowed here",
            id="malformed-mention",
        ),
    ],
)
def test_goal_problems_name_the_key(tmp_path, goal, key, message):
    found = problems(tmp_path, METRICS + f"goals:\n  - {goal}\n")
    assert any(f": {key}: " in p and message in p for p in found), found


@pytest.mark.parametrize(
    ("line", "key", "message"),
    [
        ("fiscal_year_start_month: 13", "fiscal_year_start_month", "less than or equal to 12"),
        ("week_start: funday", "week_start", "'funday' is not one of 'monday'"),
    ],
    ids=["fiscal-month", "week-start"],
)
def test_calendar_problems_name_the_key(tmp_path, line, key, message):
    found = problems(
        tmp_path, line + "\n" + METRICS + "goals:\n  - {name: g, metric: users, period: month, target: 1}\n"
    )
    assert any(f": {key}: " in p and message in p for p in found), found


def test_a_good_goal_with_everything(tmp_path):
    path = tmp_path / "goals.yml"
    path.write_text(
        "fiscal_year_start_month: 2\nweek_start: sunday\n"
        + METRICS
        + """goals:
  - name: g
    metric: users
    period: quarter
    pacing: seasonal
    target: 100
    targets: {2026-02-01: 120}
    timezone: Europe/Berlin
    segments: {by: [region, plan], targets: {NA/pro: 60, EU/pro: 40}}
    notify: {channel: "#growth", mention: ["<!subteam^S0123ABCD>", "<@U0123ABCD>"]}
"""
    )
    config = load_config(path)
    goal = config.goals[0]
    assert goal.target_for(__import__("datetime").date(2026, 2, 1)) == 120
    assert config.calendar.fiscal_year_start_month == 2 and config.calendar.week_start == 6
    assert config.timezone_of(goal) == "Europe/Berlin"


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT day, value FROM t; DELETE FROM t", "must be a single query, found 2 statements"),
        ("DELETE FROM t", "must be a read-only query (SELECT or WITH ... SELECT), not DELETE"),
        ("INSERT INTO t SELECT * FROM u", "not INSERT"),
        ("-- nothing\n", "found 0 statements"),
    ],
    ids=["two-statements", "delete", "insert", "only-a-comment"],
)
def test_a_sql_source_is_one_read_only_query(tmp_path, sql, message):
    found = problems(
        tmp_path,
        "metrics:\n  users:\n    source: {conn_id: wh, sql: " + repr(sql).replace("'", '"') + "}\n"
        "goals:\n  - {name: g, metric: users, period: month, target: 1}\n",
    )
    assert any(": metrics.users.source.sql: " in p and message in p for p in found), found
