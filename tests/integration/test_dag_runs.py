"""dag.test() of the ingest and evaluate DAGs on the demo warehouse, in a temporary AIRFLOW_HOME,
with the real slack_sdk client posting over HTTP to a fake Slack Web API on 127.0.0.1."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DEMO_LOGICAL_DATE, ROOT

pytestmark = pytest.mark.airflow

RUN_DAG = """
import importlib.util, sys
from datetime import datetime
spec = importlib.util.spec_from_file_location("dagfile", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
run = module.dag.test(logical_date=datetime.fromisoformat(sys.argv[2]))
print("DAG RUN STATE:", run.state)
"""


def dag_test(dag_id: str, env: dict[str, str], logical_date: str = DEMO_LOGICAL_DATE) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", RUN_DAG, str(ROOT / "dags" / f"{dag_id}.py"), logical_date],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "DAG RUN STATE: success" in proc.stdout, proc.stdout[-3000:]
    return proc.stdout


def fields(message: dict) -> dict[str, str]:
    section = next(b for b in message["blocks"] if b["type"] == "section" and "fields" in b)
    return dict(f["text"].strip("*").split("*\n", 1) for f in section["fields"])


def number(text: str) -> float:
    return float(re.sub(r"[^0-9.]", "", text))


def assert_forecast_agrees(shown: dict[str, str]) -> dict[str, str]:
    """The forecast fields (which depend on the forecast model) agree with each other and with the
    quarter's plain facts: it ends below target, inside its range, almost surely missed. The
    other fields are returned for an exact comparison (they follow from the data alone)."""
    target = number(shown["Target"])
    value, ratio = re.fullmatch(r"(.+) \((.+)% of target\)", shown["Forecast"]).groups()
    low, high = (number(x) for x in shown["Forecast range (80%)"].split(" – "))
    assert float(ratio) == pytest.approx(100 * number(value) / target, abs=0.051)
    assert low < number(value) < high < target
    assert number(shown["Chance of missing"]) >= 95
    return {k: v for k, v in shown.items() if not k.startswith(("Forecast", "Chance"))}


EXPECTED = {
    "#growth-goals": {
        "header": ":red_circle: Off track: New users this quarter at 82.4% of pace",
        "status": "*Status:* off track (critical)",
        "fields": {
            "Actual to date": "19,732",
            "Expected to date": "23,951",
            "Target": "48,000",
            "% of pace": "82.4%",
            "Days left": "46 of 92",
        },
        "behind": "*Behind the gap:* *NA* 44%, *EU* 37%",
    },
    "#revenue-goals": {
        "header": ":large_orange_circle: Off track: Revenue this quarter at 92.4% of pace",
        "status": "*Status:* off track (warning)",
        "fields": {
            "Actual to date": "$1,142,575",
            "Expected to date": "$1,236,758",
            "Target": "$2,450,000",
            "% of pace": "92.4%",
            "Days left": "46 of 92",
        },
        "behind": None,
    },
}


def test_demo_quarter_alerts_reach_slack_once(airflow_env, fake_slack):
    env = {**airflow_env, "AIRFLOW_CONN_SLACK_API_DEFAULT": fake_slack.connection_json()}
    dag_test("goalwatch_ingest", env)
    dag_test("goalwatch_evaluate", env)

    posted = fake_slack.posted()
    assert sorted(m["channel"] for m in posted) == ["#growth-goals", "#revenue-goals"]
    for message in posted:
        want = EXPECTED[message["channel"]]
        assert message["blocks"][0] == {
            "type": "header",
            "text": {"type": "plain_text", "text": want["header"], "emoji": True},
        }
        assert want["status"] in message["blocks"][1]["text"]["text"]
        assert "Q4 2026 (Oct 1 – Dec 31)" in message["blocks"][1]["text"]["text"]
        assert assert_forecast_agrees(fields(message)) == want["fields"]
        behind = [b["text"]["text"] for b in message["blocks"] if "Behind the gap" in b.get("text", {}).get("text", "")]
        assert behind == ([want["behind"]] if want["behind"] else [])
        assert "as of 2026-11-15" in message["blocks"][-1]["elements"][0]["text"]
        assert "seasonal pacing" in message["blocks"][-1]["elements"][0]["text"]
    # Each alert's chart went into its thread with files_upload_v2.
    parents = {m["ts"] for m in fake_slack.messages if m.get("thread_ts") is None and m.get("metadata")}
    assert len(fake_slack.files) == 2
    assert all(f["thread_ts"] in parents and f["content"][:4] == b"\x89PNG" for f in fake_slack.files)
    # Delivered to Slack, so nothing was left in the outbox.
    assert not (Path(env["GOALWATCH_HOME"]) / "outbox").exists()

    # The same run again: same verdicts, nothing new is sent.
    dag_test("goalwatch_evaluate", env, logical_date="2026-11-16T09:15:00+00:00")
    assert len(fake_slack.posted()) == 2


def test_without_slack_the_payloads_go_to_the_outbox(airflow_env, fake_slack):
    dag_test("goalwatch_ingest", airflow_env)
    dag_test("goalwatch_evaluate", airflow_env)

    assert fake_slack.calls == []
    outbox = Path(airflow_env["GOALWATCH_HOME"]) / "outbox" / "2026-11-15"
    files = sorted(p.name for p in outbox.iterdir())
    assert files == [
        "quarterly_new_users-2026-11-15.png",
        "quarterly_new_users.2026-10-01.off_track.json",
        "quarterly_revenue-2026-11-15.png",
        "quarterly_revenue.2026-10-01.off_track.json",
    ]
    assert (outbox / "quarterly_revenue-2026-11-15.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    payload = json.loads((outbox / "quarterly_revenue.2026-10-01.off_track.json").read_text())
    assert set(payload) == {"channel", "text", "blocks"}
    assert payload["channel"] == "#revenue-goals"
    assert assert_forecast_agrees(fields(payload)) == EXPECTED["#revenue-goals"]["fields"]


def test_a_data_problem_is_a_data_issue_not_a_missed_goal(airflow_env, fake_slack, tmp_path):
    import shutil
    import sqlite3

    broken = tmp_path / "broken.db"
    shutil.copy(Path(json.loads(airflow_env["AIRFLOW_CONN_GOALWATCH_WAREHOUSE"])["host"]), broken)
    with sqlite3.connect(broken) as db:
        db.execute(
            "INSERT INTO payments (paid_at, region, plan, amount) VALUES ('2026-11-14 10:00:00', 'EU', 'pro', -5000)"
        )
    env = {
        **airflow_env,
        "AIRFLOW_CONN_SLACK_API_DEFAULT": fake_slack.connection_json(),
        "AIRFLOW_CONN_GOALWATCH_WAREHOUSE": json.dumps({"conn_type": "sqlite", "host": str(broken)}),
    }
    dag_test("goalwatch_ingest", env)
    dag_test("goalwatch_evaluate", env)

    by_channel = {m["channel"]: m for m in fake_slack.posted()}
    assert set(by_channel) == {"#growth-goals", "#goals"}  # no revenue verdict on untrusted data
    issue = by_channel["#goals"]
    assert issue["blocks"][0]["text"]["text"] == ":warning: Data issue: metric revenue"
    assert (
        "*Negative values* (`expect_column_values_to_be_between` on `value`): 1 row"
        in issue["blocks"][1]["text"]["text"]
    )
    assert "`quarterly_revenue`" in issue["blocks"][1]["text"]["text"]


def test_weekly_digest_reaches_each_channel_once_with_a_chart(airflow_env, fake_slack):
    env = {**airflow_env, "AIRFLOW_CONN_SLACK_API_DEFAULT": fake_slack.connection_json()}
    dag_test("goalwatch_ingest", env)
    dag_test("goalwatch_digest", env)

    posted = fake_slack.posted()
    assert sorted(p["channel"] for p in posted) == ["#growth-goals", "#revenue-goals"]
    growth = next(p for p in posted if p["channel"] == "#growth-goals")
    text = json.dumps(growth["blocks"])
    assert "Weekly goals digest" in growth["blocks"][0]["text"]["text"]
    # Both growth goals, worst first: the quarter (off track) before the month (on track).
    assert text.index("New users this quarter") < text.index("New users this month")
    assert len(fake_slack.files) == 2 and all(f["content"][:4] == b"\x89PNG" for f in fake_slack.files)
    # The same run again sends nothing new.
    dag_test("goalwatch_digest", env, logical_date="2026-11-16T09:15:00+00:00")
    assert len(fake_slack.posted()) == 2


def test_a_source_that_keeps_failing_sends_monitor_unhealthy(airflow_env, fake_slack, tmp_path):
    env = {
        **airflow_env,
        "AIRFLOW_CONN_SLACK_API_DEFAULT": fake_slack.connection_json(),
        "GOALWATCH_INGEST_RETRIES": "0",
        "AIRFLOW_CONN_GOALWATCH_WAREHOUSE": json.dumps({"conn_type": "sqlite", "host": str(tmp_path / "down.db")}),
    }
    proc = subprocess.run(
        [sys.executable, "-c", RUN_DAG, str(ROOT / "dags" / "goalwatch_ingest.py"), DEMO_LOGICAL_DATE],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "DAG RUN STATE: failed" in proc.stdout, proc.stdout[-2000:]
    posted = fake_slack.posted()
    assert {p["blocks"][0]["text"]["text"] for p in posted} == {":rotating_light: Monitor unhealthy"}
    assert sorted(p["channel"] for p in posted) == ["#goals", "#goals"]  # one per failed ingest task
    text = " ".join(p["text"] for p in posted)
    assert (
        "goalwatch_ingest.ingest[new_users] failed" in text and "query through connection 'goalwatch_warehouse'" in text
    )


def test_the_watchdog_barks_only_when_evaluations_stopped(airflow_env, fake_slack):
    env = {**airflow_env, "AIRFLOW_CONN_SLACK_API_DEFAULT": fake_slack.connection_json()}
    dag_test("goalwatch_watchdog", env)  # nothing has ever been evaluated
    assert [p["blocks"][0]["text"]["text"] for p in fake_slack.posted()] == [":rotating_light: Monitor unhealthy"]
    assert "no evaluation has succeeded yet" in fake_slack.posted()[0]["text"]

    dag_test("goalwatch_ingest", env)
    dag_test("goalwatch_evaluate", env)  # succeeds for 2026-11-16T08:15Z
    before = len(fake_slack.posted())
    dag_test("goalwatch_watchdog", env, logical_date="2026-11-17T08:00:00+00:00")  # 24 h later: healthy
    assert len(fake_slack.posted()) == before
    dag_test("goalwatch_watchdog", env, logical_date="2026-11-18T09:00:00+00:00")  # 49 h later: not
    last = fake_slack.posted()[-1]
    assert last["channel"] == "#goals" and "since 2026-11-16T08:15:00+00:00" in last["text"]


RUN_DAG_WITHOUT_RETRIES = RUN_DAG.replace(
    "run = module.dag.test(", "for t in module.dag.tasks: t.retries = 0\nrun = module.dag.test("
)


def test_an_evaluate_step_that_fails_for_good_sends_monitor_unhealthy(airflow_env, fake_slack, tmp_path):
    import shutil

    (tmp_path / "config").mkdir()
    shutil.copy(ROOT / "config" / "goals.yml", tmp_path / "config" / "goals.yml")
    (tmp_path / "expectations" / "data_quality").mkdir(parents=True)
    (tmp_path / "expectations" / "data_quality" / "revenue.json").write_text("{ not json")
    env = {
        **airflow_env,
        "AIRFLOW_CONN_SLACK_API_DEFAULT": fake_slack.connection_json(),
        "GOALWATCH_CONFIG": str(tmp_path / "config" / "goals.yml"),
    }
    dag_test("goalwatch_ingest", env)
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            RUN_DAG_WITHOUT_RETRIES,
            str(ROOT / "dags" / "goalwatch_evaluate.py"),
            DEMO_LOGICAL_DATE,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert "DAG RUN STATE: failed" in proc.stdout, proc.stdout[-2000:]
    (alert,) = fake_slack.posted()
    assert alert["channel"] == "#goals" and alert["blocks"][0]["text"]["text"] == ":rotating_light: Monitor unhealthy"
    assert "goalwatch_evaluate.check_data[revenue] failed" in alert["text"]
    assert "revenue.json: not a readable GX suite" in alert["text"]
