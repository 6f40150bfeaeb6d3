"""goals.yml loading: the shipped file loads; every mistake is named by file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from goalwatch.config import config_for_dags, load_config
from goalwatch.errors import ConfigError, GoalwatchError

REPO_CONFIG = Path(__file__).resolve().parents[2] / "config" / "goals.yml"

# A small valid goals.yml; each bad case below changes one piece of it.
VALID = """\
timezone: UTC
default_channel: "#goals"
metrics:
  signups:
    source: {conn_id: warehouse, sql: "SELECT day, value FROM signups"}
goals:
  - name: monthly_signups
    metric: signups
    period: month
    target: 1000
  - name: quarterly_signups
    metric: signups
    period: quarter
    target: 3000
    warn_below: 0.95
    critical_below: 0.9
    notify: {channel: "#growth"}
"""


def edited(*changes: tuple[str, str]) -> str:
    text = VALID
    for old, new in changes:
        assert old in text, f"test setup: {old!r} is not in the valid config"
        text = text.replace(old, new, 1)
    return text


def line_of(text: str, needle: str) -> int:
    """1-based line of the last occurrence of ``needle`` (the last: a duplicate is the one at fault)."""
    return text[: text.rindex(needle)].count("\n") + 1


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return info.value.problems


def write(tmp_path: Path, text: str, name: str = "goals.yml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def assert_reported(problems: list[str], path: Path, line: int, key: str, *fragments: str) -> None:
    prefix = f"{path}:{line}: {key}: "
    hits = [p for p in problems if p.startswith(prefix) and all(f in p for f in fragments)]
    assert hits, f"no problem starting {prefix!r} containing {fragments!r} in:\n" + "\n".join(problems)


# --- the shipped config and valid files ----------------------------------------------------------


def test_repository_goals_yml_loads():
    config = load_config(REPO_CONFIG)

    assert config.timezone == "America/Los_Angeles"
    assert [g.name for g in config.goals] == [
        "quarterly_new_users",
        "quarterly_revenue",
        "monthly_new_users",
    ]
    revenue = config.goal("quarterly_revenue")
    assert (revenue.period, revenue.target, revenue.label) == (
        "quarter",
        2450000,
        "Revenue this quarter",
    )
    assert config.metric(revenue.metric).unit == "USD"
    assert config.channel_for(revenue) == "#revenue-goals"
    assert config.path == REPO_CONFIG


def test_config_path_comes_from_environment(tmp_path, monkeypatch):
    path = write(tmp_path, VALID)
    monkeypatch.setenv("GOALWATCH_CONFIG", str(path))

    config = load_config()

    assert config.path == path
    assert config.base_dir == tmp_path


def test_defaults_apply_to_a_minimal_goal(tmp_path):
    config = load_config(write(tmp_path, VALID))

    goal = config.goal("monthly_signups")
    assert (goal.warn_below, goal.critical_below) == (0.97, 0.90)
    assert goal.label == "Monthly signups"
    assert config.channel_for(goal) == "#goals"
    assert config.channel_for(config.goal("quarterly_signups")) == "#growth"


@pytest.mark.parametrize(
    ("from_env", "chosen"),
    [
        pytest.param(True, "elsewhere/goals.yml", id="environment-wins"),
        pytest.param(False, "config/goals.yml", id="beside-dags-folder"),
    ],
)
def test_dag_files_find_their_config(tmp_path, monkeypatch, from_env, chosen):
    for relative in ("config/goals.yml", "elsewhere/goals.yml"):
        (tmp_path / relative).parent.mkdir(parents=True)
        write(tmp_path / relative.split("/")[0], VALID)
    if from_env:
        monkeypatch.setenv("GOALWATCH_CONFIG", str(tmp_path / "elsewhere" / "goals.yml"))
    else:
        monkeypatch.delenv("GOALWATCH_CONFIG", raising=False)

    config = config_for_dags(str(tmp_path / "dags" / "goalwatch_evaluate.py"))

    assert config.path == tmp_path / chosen


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("data/signups.csv", id="csv"),
        pytest.param("data/signups.PARQUET", id="parquet-upper-case"),
    ],
)
def test_file_source_with_known_format_loads(tmp_path, path):
    text = edited(
        (
            'source: {conn_id: warehouse, sql: "SELECT day, value FROM signups"}',
            f"source: {{path: {path}}}",
        )
    )

    config = load_config(write(tmp_path, text))

    assert config.metric("signups").source.path == path


# --- one mistake each -----------------------------------------------------------------------------

BAD_CASES = [
    pytest.param(
        [("period: quarter", "period: quartr")],
        "period: quartr",
        "goals[1].period",
        ("'quartr' is not one of", "'quarter'"),
        id="bad-period",
    ),
    pytest.param(
        [("metric: signups\n    period: quarter", "metric: sign_ups\n    period: quarter")],
        "metric: sign_ups",
        "goals[1].metric",
        ("'sign_ups' is not a metric (known: 'signups')",),
        id="unknown-metric",
    ),
    pytest.param(
        [("name: quarterly_signups", "name: monthly_signups")],
        "name: monthly_signups",
        "goals[1].name",
        ("'monthly_signups' is already the name of goals[0]",),
        id="duplicate-goal-name",
    ),
    pytest.param(
        [("target: 3000", "target: 0")],
        "target: 0",
        "goals[1].target",
        ("greater than 0",),
        id="target-zero",
    ),
    pytest.param(
        [("target: 3000", "target: -3000")],
        "target: -3000",
        "goals[1].target",
        ("greater than 0",),
        id="target-negative",
    ),
    pytest.param(
        [("critical_below: 0.9", "critical_below: 0.99")],
        "critical_below: 0.99",
        "goals[1].critical_below",
        ("critical_below (0.99) is above warn_below (0.95)",),
        id="critical-above-warn-points-at-key",
    ),
    pytest.param(
        [('{channel: "#growth"}', '{channel: "Growth Team"}')],
        'channel: "Growth Team"',
        "goals[1].notify.channel",
        ("'Growth Team' is not allowed here",),
        id="malformed-goal-channel",
    ),
    pytest.param(
        [('default_channel: "#goals"', 'default_channel: "goals"')],
        "default_channel:",
        "default_channel",
        ("'goals' is not allowed here",),
        id="malformed-default-channel",
    ),
    pytest.param(
        [("    target: 1000\n", "    target: 1000\n    colour: red\n")],
        "colour: red",
        "goals[0].colour",
        ("is not a known key",),
        id="unknown-goal-key",
    ),
    pytest.param(
        [("timezone: UTC", "time_zone: UTC")],
        "time_zone:",
        "time_zone",
        ("is not a known key",),
        id="unknown-top-level-key",
    ),
    pytest.param(
        [("timezone: UTC", "timezone: Mars/Olympus")],
        "timezone:",
        "timezone",
        ("'Mars/Olympus' is not an IANA time zone",),
        id="bad-time-zone",
    ),
    pytest.param(
        [("timezone: UTC", "timezone: ../../etc/passwd")],
        "timezone:",
        "timezone",
        ("'../../etc/passwd' is not an IANA time zone",),
        id="time-zone-path",
    ),
    pytest.param(
        [
            (
                'source: {conn_id: warehouse, sql: "SELECT day, value FROM signups"}',
                "source: {path: signups.txt}",
            )
        ],
        "source:",
        "metrics.signups.source.path",
        ("'signups.txt' is neither a .csv nor a .parquet file",),
        id="file-source-txt",
    ),
]


@pytest.mark.parametrize(("changes", "needle", "key", "fragments"), BAD_CASES)
def test_mistake_is_named_by_file_line_and_key(tmp_path, changes, needle, key, fragments):
    text = edited(*changes)
    path = write(tmp_path, text)

    problems = problems_of(path)

    assert_reported(problems, path, line_of(text, needle), key, *fragments)


def test_critical_below_above_warn_below_is_reported(tmp_path):
    path = write(tmp_path, edited(("critical_below: 0.9", "critical_below: 0.99")))

    message = str(pytest.raises(ConfigError, load_config, path).value)

    assert message.startswith(f"{path}:")
    assert "goals[1]" in message
    assert "critical_below (0.99) is above warn_below (0.95)" in message


def test_config_error_is_a_goalwatch_error(tmp_path):
    path = write(tmp_path, edited(("period: quarter", "period: quartr")))

    with pytest.raises(GoalwatchError, match=r"goals\[1\]\.period"):
        load_config(path)


def test_file_source_txt_reports_only_the_path(tmp_path):
    text = edited(
        (
            'source: {conn_id: warehouse, sql: "SELECT day, value FROM signups"}',
            "source: {path: signups.txt}",
        )
    )
    path = write(tmp_path, text)

    problems = problems_of(path)

    # The user wrote a file source: asking for conn_id/sql, or calling `path` unknown, misleads.
    assert problems == [
        (
            f"{path}:{line_of(text, 'source:')}: metrics.signups.source.path: "
            "'signups.txt' is neither a .csv nor a .parquet file"
        )
    ]


# --- files that are not goals.yml at all ----------------------------------------------------------


def test_invalid_yaml_names_file_and_line(tmp_path):
    text = edited(("    period: month\n", "    period: month: x\n"))
    path = write(tmp_path, text)

    problems = problems_of(path)

    assert len(problems) == 1
    assert problems[0].startswith(f"{path}:{line_of(text, 'period: month: x')}: not valid YAML: ")


def test_missing_file_is_named(tmp_path):
    path = tmp_path / "absent.yml"

    problems = problems_of(path)

    assert len(problems) == 1
    assert problems[0].startswith(f"{path}: cannot read the file")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("- name: monthly_signups\n", id="list"),
    ],
)
def test_top_level_must_be_a_mapping(tmp_path, text):
    path = write(tmp_path, text)

    assert problems_of(path) == [f"{path}: expected a mapping with 'metrics' and 'goals' at the top"]


# --- several mistakes -----------------------------------------------------------------------------


def test_several_problems_are_reported_at_once(tmp_path):
    text = edited(
        ("timezone: UTC", "timezone: Mars/Olympus"),
        ("period: quarter", "period: quartr"),
        ("target: 3000", "target: 0"),
        ("    target: 1000\n", "    target: 1000\n    colour: red\n"),
    )
    path = write(tmp_path, text)

    problems = problems_of(path)

    assert_reported(problems, path, line_of(text, "timezone:"), "timezone", "'Mars/Olympus'")
    assert_reported(problems, path, line_of(text, "period: quartr"), "goals[1].period", "'quartr'")
    assert_reported(problems, path, line_of(text, "target: 0"), "goals[1].target", "greater than 0")
    assert_reported(problems, path, line_of(text, "colour: red"), "goals[0].colour", "not a known key")


def test_cross_checks_are_reported_with_field_problems(tmp_path):
    text = edited(
        ("timezone: UTC", "timezone: Mars/Olympus"),
        ("metric: signups\n    period: quarter", "metric: sign_ups\n    period: quarter"),
    )
    path = write(tmp_path, text)

    problems = problems_of(path)

    assert_reported(problems, path, line_of(text, "timezone:"), "timezone", "'Mars/Olympus'")
    assert_reported(problems, path, line_of(text, "metric: sign_ups"), "goals[1].metric", "'sign_ups'")


def test_goals_with_mistakes_are_not_called_empty(tmp_path):
    path = write(tmp_path, edited(("target: 1000", "target: 0"), ("target: 3000", "target: 0")))

    problems = problems_of(path)

    assert len(problems) == 2, "\n".join(problems)
    assert all(".target: " in p for p in problems)


def test_goals_list_must_not_be_empty(tmp_path):
    text = VALID[: VALID.index("goals:")] + "goals: []\n"
    path = write(tmp_path, text)

    assert_reported(problems_of(path), path, line_of(text, "goals:"), "goals", "at least")
