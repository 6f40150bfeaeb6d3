"""The canary: plant a Slack token, a webhook URL and a database password, run the DAGs, and find
none of them in task logs, XCom, rendered fields, the outbox, the ledger or exception messages."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.integration.test_dag_runs import dag_test

pytestmark = pytest.mark.airflow

# Assembled from parts, so that no string shaped like a real token or webhook is ever committed.
TOKEN = "-".join(["xoxb", "1111111111", "2222222222", "canaryTOKENcanaryTOKEN"])
WEBHOOK = "/".join(["https://hooks.slack.com/services", "T0CANARY1", "B0CANARY2", "canaryWEBHOOKcanaryWEBHOOK"])
PASSWORD = "canary-db-password-3141592653"
SECRETS = (TOKEN, WEBHOOK, "canaryWEBHOOK", PASSWORD)


def everything_written(home: Path, goalwatch_home: Path) -> str:
    """Task logs, every table of Airflow's metadata DB (XCom, rendered fields, import errors...),
    the goalwatch store (ledger payloads) and the outbox, as one text."""
    parts = [p.read_text(errors="replace") for p in home.rglob("*.log")]
    for db in (home / "airflow.db", goalwatch_home / "store.db"):
        if db.exists():
            with sqlite3.connect(db) as conn:
                for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
                    parts += [repr(row) for row in conn.execute(f'SELECT * FROM "{table}"')]
    parts += [p.read_text(errors="replace") for p in goalwatch_home.rglob("*.json")]
    return "\n".join(parts)


def test_no_secret_is_written_anywhere(airflow_env, fake_slack, demo_warehouse):
    slack = json.loads(fake_slack.connection_json())
    fake_slack.token = TOKEN
    env = {
        **airflow_env,
        "AIRFLOW_CONN_SLACK_API_DEFAULT": json.dumps({**slack, "password": TOKEN}),
        # A warehouse connection that carries a password (SQLite ignores it; it must still not leak).
        "AIRFLOW_CONN_GOALWATCH_WAREHOUSE": json.dumps(
            {"conn_type": "sqlite", "host": str(demo_warehouse), "login": "reader", "password": PASSWORD}
        ),
    }
    dag_test("goalwatch_ingest", env)
    dag_test("goalwatch_evaluate", env)
    assert len(fake_slack.posted()) == 2  # the canary run really alerted

    text = everything_written(Path(env["AIRFLOW_HOME"]), Path(env["GOALWATCH_HOME"]))
    assert text, "nothing was written: the check would be empty"
    assert [s for s in SECRETS if s in text] == []


def test_a_refused_token_and_a_broken_webhook_leave_no_secret_in_errors(airflow_env, fake_slack, tmp_path):
    """Slack refuses the token; the error says so, the task fails, and the token is nowhere."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    slack = json.loads(fake_slack.connection_json())
    env = {**airflow_env, "AIRFLOW_CONN_SLACK_API_DEFAULT": json.dumps({**slack, "password": TOKEN})}
    dag_test("goalwatch_ingest", env)
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            __import__("tests.integration.test_dag_runs", fromlist=["RUN_DAG"]).RUN_DAG,
            str(ROOT / "dags" / "goalwatch_evaluate.py"),
            "2026-11-16T08:15:00+00:00",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "DAG RUN STATE: failed" in proc.stdout
    assert "Slack refused the alert" in proc.stdout + proc.stderr and "invalid_auth" in proc.stdout + proc.stderr
    text = proc.stdout + proc.stderr + everything_written(Path(env["AIRFLOW_HOME"]), Path(env["GOALWATCH_HOME"]))
    assert [s for s in SECRETS if s in text] == []

    webhook_env = {
        **airflow_env,
        "AIRFLOW_CONN_SLACK_WEBHOOK_DEFAULT": json.dumps(
            {
                "conn_type": "slackwebhook",
                "password": fake_slack.base_url.replace("/api/", "/nowhere/") + "canaryWEBHOOK",
            }
        ),
    }
    webhook_env.pop("AIRFLOW_CONN_SLACK_API_DEFAULT", None)
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            __import__("tests.integration.test_dag_runs", fromlist=["RUN_DAG"]).RUN_DAG,
            str(ROOT / "dags" / "goalwatch_evaluate.py"),
            "2026-11-16T09:15:00+00:00",
        ],
        env=webhook_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    everything = proc.stdout + proc.stderr + everything_written(Path(env["AIRFLOW_HOME"]), Path(env["GOALWATCH_HOME"]))
    assert "canaryWEBHOOK" not in everything
