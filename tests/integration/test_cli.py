"""The goalwatch command, run as a user runs it: the installed console script in a subprocess."""

from __future__ import annotations

import json
import subprocess
from datetime import date

import pytest

from tests.conftest import ROOT, bin_path

VERDICT_KEYS = {
    "as_of",
    "goal",
    "metric",
    "period_start",
    "period_end",
    "actual_to_date",
    "expected_to_date",
    "target",
    "pace_ratio",
    "forecast",
    "status",
}


def goalwatch(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([bin_path("goalwatch"), *args], capture_output=True, text=True, env=env, timeout=120)


def test_check_accepts_the_shipped_config():
    proc = goalwatch("check", "--config", str(ROOT / "config" / "goals.yml"))
    assert proc.returncode == 0, proc.stderr
    assert "2 metric(s), 3 goal(s)" in proc.stdout


def test_check_names_file_line_and_key(tmp_path):
    bad = tmp_path / "goals.yml"
    text = (ROOT / "config" / "goals.yml").read_text()
    bad.write_text(text.replace("period: quarter", "period: quartr", 2).replace("period: quartr", "period: quarter", 1))
    line = bad.read_text().splitlines().index("    period: quartr") + 1
    proc = goalwatch("check", "--config", str(bad))
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"error: {bad}:{line}: goals[1].period: 'quartr' is not one of 'day', 'week', 'month', 'quarter' or 'year'"
    )


def test_evaluate_json_on_the_demo(airflow_env):
    proc = goalwatch(
        "evaluate", "--config", str(ROOT / "config" / "goals.yml"), "--as-of", "2026-11-15", "--json", env=airflow_env
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = json.loads(proc.stdout)
    assert all(VERDICT_KEYS | {"segment", "forecast_low", "forecast_high"} <= set(v) for v in rows)
    verdicts = {v["goal"]: v for v in rows if v["segment"] is None}
    assert {g: v["status"] for g, v in verdicts.items()} == {
        "quarterly_new_users": "off_track",
        "quarterly_revenue": "off_track",
        "monthly_new_users": "on_track",
    }
    users = verdicts["quarterly_new_users"]
    assert (users["period_start"], users["period_end"]) == ("2026-10-01", "2026-12-31")
    assert (users["actual_to_date"], users["target"]) == (19732, 48000)
    assert users["pace_ratio"] == pytest.approx(19732 / users["expected_to_date"])
    assert users["forecast_low"] < users["forecast"] < users["forecast_high"] < users["target"]
    # The regional segments are evaluated too, and their paces add up to the total's.
    regions = {v["segment"]: v for v in rows if v["goal"] == "quarterly_new_users" and v["segment"]}
    assert set(regions) == {"NA", "EU", "APAC"}
    assert sum(v["expected_to_date"] for v in regions.values()) == pytest.approx(users["expected_to_date"])
    assert sum(v["actual_to_date"] for v in regions.values()) == users["actual_to_date"]


def test_evaluate_reads_csv_and_parquet_sources(tmp_path):
    import pandas as pd

    days = pd.date_range("2025-10-01", "2026-03-31", freq="D")
    frame = pd.DataFrame({"day": days.strftime("%Y-%m-%d"), "value": 10.0})
    frame.to_csv(tmp_path / "signups.csv", index=False)
    frame.to_parquet(tmp_path / "signups.parquet")
    (tmp_path / "goals.yml").write_text(
        "metrics:\n"
        "  csv_users: {source: {path: signups.csv}}\n"
        "  parquet_users: {source: {path: signups.parquet}}\n"
        "goals:\n"
        "  - {name: from_csv, metric: csv_users, period: month, target: 300}\n"
        "  - {name: from_parquet, metric: parquet_users, period: quarter, target: 920}\n"
    )
    proc = goalwatch("evaluate", "--config", str(tmp_path / "goals.yml"), "--as-of", "2026-02-14", "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    verdicts = {v["goal"]: v for v in json.loads(proc.stdout)}
    # 14 days of 10 against 300 over 28 days: 140 of 150 expected, 93.3% of pace.
    assert verdicts["from_csv"]["actual_to_date"] == 140
    assert verdicts["from_csv"]["expected_to_date"] == pytest.approx(150)
    assert verdicts["from_csv"]["status"] == "off_track"
    # 45 days of 10 against 920 over 90 days: 97.8% of pace (above the 97% warning level), but
    # the run rate projects 900, short of the target: at risk.
    assert verdicts["from_parquet"]["actual_to_date"] == 450
    assert verdicts["from_parquet"]["pace_ratio"] == pytest.approx(450 / 460)
    assert verdicts["from_parquet"]["forecast"] == pytest.approx(900)
    assert verdicts["from_parquet"]["status"] == "at_risk"


def test_evaluate_rejects_a_bad_date():
    proc = goalwatch("evaluate", "--config", str(ROOT / "config" / "goals.yml"), "--as-of", "15/11/2026")
    assert proc.returncode == 2
    assert "--as-of: '15/11/2026' is not a date (YYYY-MM-DD)" in proc.stderr


def test_a_renamed_source_column_is_a_data_issue_that_names_it(tmp_path):
    (tmp_path / "users.csv").write_text("date,value\n2026-01-01,3\n")
    (tmp_path / "goals.yml").write_text(
        "metrics:\n  users: {source: {path: users.csv}}\n"
        "goals:\n  - {name: users_month, metric: users, period: month, target: 90}\n"
    )
    proc = goalwatch("evaluate", "--config", str(tmp_path / "goals.yml"), "--as-of", "2026-01-01", "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    (verdict,) = json.loads(proc.stdout)
    assert verdict["status"] == "data_issue"
    assert "The source's columns changed" in verdict["note"]
    assert "missing column day; unexpected column date" in verdict["note"]


def test_a_value_that_is_not_a_number_is_named_with_its_row(tmp_path):
    (tmp_path / "users.csv").write_text("day,value\n2026-01-01,3\n2026-01-02,three\n")
    (tmp_path / "goals.yml").write_text(
        "metrics:\n  users: {source: {path: users.csv}}\n"
        "goals:\n  - {name: users_month, metric: users, period: month, target: 90}\n"
    )
    proc = goalwatch("evaluate", "--config", str(tmp_path / "goals.yml"), "--as-of", "2026-01-02")
    assert proc.returncode == 2
    assert f"metric 'users' from {tmp_path / 'users.csv'}: row 1: value 'three' is not a number" in proc.stderr


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["check"],
        ["evaluate"],
        ["demo"],
        ["demo", "seed"],
        ["demo", "run"],
        ["demo", "up"],
        ["outbox"],
        ["outbox", "show"],
        ["suites"],
        ["suites", "write"],
        ["replay"],
    ],
    ids=lambda c: " ".join(c) or "goalwatch",
)
def test_every_command_is_documented(command):
    proc = goalwatch(*command, "--help")
    assert proc.returncode == 0
    lines = [line.strip() for line in proc.stdout.splitlines() if line.strip()]
    after_usage = lines[next(i for i, line in enumerate(lines) if line.startswith("Usage:")) + 1]
    assert not after_usage.startswith("╭"), f"goalwatch {' '.join(command)} has no help text"


def test_replay_of_the_demo_flags_the_q3_miss_weeks_ahead(airflow_env):
    """Q3 2026 closed short of its new-user target; replay shows when that became predictable."""
    proc = goalwatch(
        "replay",
        "quarterly_new_users",
        "--config",
        str(ROOT / "config" / "goals.yml"),
        "--from",
        "2026-07-01",
        "--to",
        "2026-09-30",
        "--json",
        env=airflow_env,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    days = json.loads(proc.stdout)
    assert [d["as_of"] for d in days][0] == "2026-07-01" and len(days) == 92
    assert all(VERDICT_KEYS | {"segment", "forecast_low", "forecast_high"} <= set(d) for d in days)
    assert days[-1]["status"] == "missed" and days[-1]["actual_to_date"] < days[-1]["target"]
    first_risk = next(d for d in days if d["status"] in ("at_risk", "off_track"))
    assert first_risk["status"] == "at_risk"
    lead = (date.fromisoformat(days[-1]["as_of"]) - date.fromisoformat(first_risk["as_of"])).days
    assert lead >= 28, f"flagged only {lead} days before the close (the issue asks for 4 weeks)"
    # Once flagged, the warning holds to the close: no flapping back to on_track.
    after = days[days.index(first_risk) : -1]
    assert {d["status"] for d in after} == {"at_risk"}


def test_replay_prints_when_the_miss_was_flagged(airflow_env):
    proc = goalwatch(
        "replay",
        "quarterly_new_users",
        "--config",
        str(ROOT / "config" / "goals.yml"),
        "--from",
        "2026-09-01",
        "--to",
        "2026-09-30",
        env=airflow_env,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    last = proc.stdout.strip().splitlines()[-1]
    # The warning began in August, before the window: the summary says so, not that it began on 1 September.
    assert last == (
        "quarterly_new_users: Q3 2026 closed missed; already at risk when the window starts (2026-09-01), "
        "29 days before the close."
    )


def test_replay_names_an_unknown_goal():
    proc = goalwatch(
        "replay",
        "quartely_users",
        "--config",
        str(ROOT / "config" / "goals.yml"),
        "--from",
        "2026-09-01",
        "--to",
        "2026-09-30",
    )
    assert proc.returncode == 2
    assert "no goal named 'quartely_users'" in proc.stderr and "quarterly_new_users" in proc.stderr


def test_evaluate_finds_the_connection_in_the_airflow_metadata_db(airflow_env, demo_warehouse):
    env = {k: v for k, v in airflow_env.items() if k != "AIRFLOW_CONN_GOALWATCH_WAREHOUSE"}
    subprocess.run(
        [
            bin_path("airflow"),
            "connections",
            "add",
            "goalwatch_warehouse",
            "--conn-type",
            "sqlite",
            "--conn-host",
            str(demo_warehouse),
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    proc = goalwatch(
        "evaluate", "--config", str(ROOT / "config" / "goals.yml"), "--as-of", "2026-11-15", "--json", env=env
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert {v["goal"] for v in json.loads(proc.stdout)} == {
        "quarterly_new_users",
        "quarterly_revenue",
        "monthly_new_users",
    }


def test_a_sqlite_source_is_opened_read_only(tmp_path):
    """mode=ro: a missing warehouse is an error naming the connection, not a new empty database."""
    missing = tmp_path / "no-such-warehouse.db"
    (tmp_path / "goals.yml").write_text(
        "metrics:\n  users: {source: {conn_id: wh, sql: 'SELECT day, value FROM signups'}}\n"
        "goals:\n  - {name: users_month, metric: users, period: month, target: 90}\n"
    )
    env = {**__import__("os").environ, "AIRFLOW_CONN_WH": json.dumps({"conn_type": "sqlite", "host": str(missing)})}
    proc = goalwatch("evaluate", "--config", str(tmp_path / "goals.yml"), "--as-of", "2026-01-01", env=env)
    assert proc.returncode == 2
    assert "metric 'users': query through connection 'wh' failed: OperationalError" in proc.stderr
    assert not missing.exists()


@pytest.fixture
def project(tmp_path, migrated_db):
    """A project folder as `make demo` leaves it: config/, expectations/ and .airflow/ (migrated)."""
    import shutil

    root = tmp_path / "project"
    shutil.copytree(ROOT / "config", root / "config")
    shutil.copytree(ROOT / "expectations", root / "expectations")
    (root / ".airflow").mkdir()
    shutil.copy(migrated_db, root / ".airflow" / "airflow.db")
    return root


def outside_airflow(project) -> dict[str, str]:
    """The environment of a newcomer's shell: no AIRFLOW_HOME, no AIRFLOW_CONN_* variable."""
    import os

    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},
        "GOALWATCH_HOME": str(project / ".goalwatch"),
    }


def test_evaluate_and_replay_use_the_projects_airflow_without_airflow_home(project, demo_warehouse):
    env = outside_airflow(project)
    subprocess.run(
        [
            bin_path("airflow"),
            "connections",
            "add",
            "goalwatch_warehouse",
            "--conn-type",
            "sqlite",
            "--conn-host",
            str(demo_warehouse),
        ],
        env={**env, "AIRFLOW_HOME": str(project / ".airflow")},
        check=True,
        capture_output=True,
    )
    evaluated = subprocess.run(
        [bin_path("goalwatch"), "evaluate", "--config", "config/goals.yml", "--as-of", "2026-11-15", "--json"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    totals = {v["goal"]: v["status"] for v in json.loads(evaluated.stdout) if v["segment"] is None}
    assert totals == {
        "quarterly_new_users": "off_track",
        "quarterly_revenue": "off_track",
        "monthly_new_users": "on_track",
    }
    replayed = subprocess.run(
        [
            bin_path("goalwatch"),
            "replay",
            "quarterly_new_users",
            "--config",
            "config/goals.yml",
            "--from",
            "2026-11-14",
            "--to",
            "2026-11-15",
            "--json",
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert replayed.returncode == 0, replayed.stderr[-2000:]
    assert [v["as_of"] for v in json.loads(replayed.stdout)] == ["2026-11-14", "2026-11-15"]


def test_a_command_run_from_another_folder_uses_the_projects_store_and_outbox(project, demo_warehouse, tmp_path):
    """Found beside the config, the project's .airflow/ and .goalwatch/ go together: the alerts of a
    replay run from elsewhere land in the project's outbox, not in the folder it was run from."""
    env = {k: v for k, v in outside_airflow(project).items() if k != "GOALWATCH_HOME"}
    subprocess.run(
        [bin_path("airflow"), "connections", "add", "goalwatch_warehouse", "--conn-type", "sqlite"]
        + ["--conn-host", str(demo_warehouse)],
        env={**env, "AIRFLOW_HOME": str(project / ".airflow")},
        check=True,
        capture_output=True,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    config = str(project / "config" / "goals.yml")
    proc = subprocess.run(
        [bin_path("goalwatch"), "replay", "quarterly_new_users", "--config", config]
        + ["--from", "2026-11-15", "--to", "2026-11-15", "--notify"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert list(elsewhere.iterdir()) == []
    written = sorted(p.name for p in (project / ".goalwatch" / "outbox" / "2026-11-15").glob("*.json"))
    assert any(name.startswith("quarterly_new_users") for name in written), written


def test_a_missing_connection_is_named_with_how_to_add_it(project):
    proc = subprocess.run(
        [bin_path("goalwatch"), "evaluate", "--config", "config/goals.yml", "--as-of", "2026-11-15"],
        cwd=project,
        env=outside_airflow(project),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    (line,) = [x for x in proc.stderr.splitlines() if x.startswith("error:")]
    assert line.startswith("error: metric 'new_users': Airflow has no connection 'goalwatch_warehouse'")
    assert f"AIRFLOW_HOME={project / '.airflow'}" in line
    assert "airflow connections add goalwatch_warehouse" in line and "AIRFLOW_CONN_GOALWATCH_WAREHOUSE" in line


def test_a_bad_environment_variable_stops_the_command_with_one_line():
    import os

    env = {**os.environ, "GOALWATCH_INGEST_RETRIES": "abc"}
    proc = goalwatch("check", "--config", str(ROOT / "config" / "goals.yml"), env=env)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "error: environment variable GOALWATCH_INGEST_RETRIES='abc': is not a whole number; fix or unset it"
    )
