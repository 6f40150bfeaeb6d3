"""Each bad-input fixture through Airflow: the ingest DAG then the evaluate DAG (dag.test()),
with the real slack_sdk client posting to a fake Slack Web API, one per fixture. A bad fixture
gives its data-issue (or data-late) alert in the data owners' channel and no goal verdict on the
broken metric; the clean fixture gives the goal alerts and no data issue.

All fixtures run in one Python process (Airflow and GX are imported once), each with its own
goals.yml, goalwatch state and Slack, and its own logical date."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from tests import badinput
from tests.conftest import ROOT

pytestmark = pytest.mark.airflow

RUNNER = """
import importlib.util, json, os, sys
from datetime import datetime

def load(path, n):
    spec = importlib.util.spec_from_file_location(f"fixture_dag_{n}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.dag

for n, item in enumerate(json.loads(sys.argv[1])):
    os.environ.update(item["env"])
    for dag_id in ("goalwatch_ingest", "goalwatch_evaluate"):
        dag = load(os.path.join(sys.argv[2], dag_id + ".py"), f"{n}_{dag_id}")
        run = dag.test(logical_date=datetime.fromisoformat(item["moment"]))
        print("RESULT", item["name"], dag_id, run.state, flush=True)
"""

GOAL_CHANNELS = {"new_users": "#growth-goals", "revenue": "#revenue-goals", "new_users_hourly": "#hourly-goals"}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory, migrated_db, demo_warehouse):
    """Run every fixture; yield {fixture name: (DAG run states, the Slack calls it received)}."""
    from tests.fakes.slack import FakeSlack

    root = tmp_path_factory.mktemp("bad-input")
    home = root / "airflow"
    home.mkdir()
    shutil.copy(migrated_db, home / "airflow.db")
    slacks = {f.name: FakeSlack(token="xoxb-test-not-a-real-token").start() for f in badinput.FIXTURES}
    try:
        items = []
        for n, fixture in enumerate(badinput.FIXTURES):
            config = badinput.write(fixture, root / fixture.name, demo_warehouse)
            # Distinct logical dates, all on the same day in Los Angeles.
            moment = datetime.fromisoformat(fixture.moment) + timedelta(minutes=n)
            items.append(
                {
                    "name": fixture.name,
                    "moment": moment.isoformat(),
                    "env": {
                        "GOALWATCH_CONFIG": str(config),
                        "GOALWATCH_HOME": str(root / fixture.name / "state"),
                        "AIRFLOW_CONN_SLACK_API_DEFAULT": slacks[fixture.name].connection_json(),
                    },
                }
            )
        env = {**os.environ, "AIRFLOW_HOME": str(home)}
        proc = subprocess.run(
            [sys.executable, "-c", RUNNER, json.dumps(items), str(ROOT / "dags")],
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        states: dict[str, dict[str, str]] = {}
        for line in proc.stdout.splitlines():
            if line.startswith("RESULT "):
                _, name, dag_id, state = line.split()
                states.setdefault(name, {})[dag_id] = state
        yield {f.name: (states.get(f.name, {}), slacks[f.name].posted()) for f in badinput.FIXTURES}
    finally:
        for slack in slacks.values():
            slack.stop()


def header(message: dict) -> str:
    return message["blocks"][0]["text"]["text"]


def test_the_clean_fixture_gives_goal_alerts_and_no_data_issue(outcomes):
    states, posted = outcomes["clean"]

    assert states == {"goalwatch_ingest": "success", "goalwatch_evaluate": "success"}
    assert sorted((m["channel"], header(m)) for m in posted) == [
        ("#growth-goals", ":red_circle: Off track: New users this quarter at 82.4% of pace"),
        ("#revenue-goals", ":large_orange_circle: Off track: Revenue this quarter at 92.4% of pace"),
    ]


@pytest.mark.parametrize("fixture", badinput.BAD, ids=lambda f: f.name)
def test_a_bad_input_gives_its_data_issue_alert_and_no_goal_verdict(outcomes, fixture):
    states, posted = outcomes[fixture.name]
    _, clean = outcomes["clean"]

    assert states == {"goalwatch_ingest": "success", "goalwatch_evaluate": "success"}
    (issue,) = [m for m in posted if m["channel"] == "#goals"]  # the data owners' channel, once
    word = "Data late" if fixture.name == "late_day" else "Data issue"
    assert word in header(issue) and header(issue).endswith(f"metric {fixture.metric}")
    body = issue["blocks"][1]["text"]["text"]
    (line,) = [ln for ln in body.splitlines() if ln.startswith(f"• *{fixture.finding}")]
    assert line.split("): ", 1)[1]  # then the example rows or days, the columns, or the row count
    # No verdict on the broken metric's goals; on the clean fixture's day, the other goals'
    # alerts are as on clean data.
    silent = GOAL_CHANNELS[fixture.metric]
    assert [m for m in posted if m["channel"] == silent] == []
    if fixture.moment[:10] == badinput.DEMO_LOGICAL_DATE[:10]:
        expected = sorted((m["channel"], header(m)) for m in clean if m["channel"] != silent)
        assert sorted((m["channel"], header(m)) for m in posted if m["channel"] != "#goals") == expected
