"""The production topology for real (Postgres, Redis, Airflow with Celery and FAB login, as local
processes): data lands the three documented ways, and each reaches Slack.

The tests share one stack and run in order, each announcing the next day of the demo: the ingest
DAG as of 10 Nov 2026, a REST event for the 11th, ``goalwatch announce`` for the 12th, a Redis
message for the 13th. A day the ledger has seen sends nothing again, so each day's alert is news."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from tests.conftest import bin_path

pytestmark = [pytest.mark.airflow, pytest.mark.e2e]


def test_the_ingest_dag_runs_on_celery_and_posts_the_alerts(celery):
    stack = celery.airflow
    # 08:15 UTC on the 11th is 00:15 in Los Angeles: the run is about 10 Nov.
    runs = stack.run_pipeline(logical_date="2026-11-11T08:15:00+00:00", timeout=300)

    posted = [c.body for c in celery.wait_for_alerts("2026-11-10", count=2) if c.method == "chat.postMessage"]
    assert sorted(m["channel"] for m in posted) == ["#growth-goals", "#revenue-goals"]
    with stack.client() as api:
        tasks = api.get(f"/dags/goalwatch_ingest/dagRuns/{runs['ingest']}/taskInstances").json()["task_instances"]
        health = api.get("/monitor/health").json()
    # The tasks ran in the Celery worker, which the scheduler reached through Redis.
    worker_log = (stack.log_dir / "celery-worker.log").read_text(errors="replace")
    assert {t["state"] for t in tasks} == {"success"} and len(tasks) == 3
    assert worker_log.count("Task execute_workload[") >= len(tasks)
    assert health["metadatabase"]["status"] == "healthy"
    assert celery.stack.airflow.env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert celery.stack.airflow.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql")


def test_a_rest_asset_event_reaches_slack(celery):
    with celery.airflow.client() as api:
        assets = api.get("/assets", params={"uri_pattern": "goalwatch://metrics/new_users"}).json()["assets"]
        (asset,) = [a for a in assets if a["uri"] == "goalwatch://metrics/new_users"]
        api.post("/assets/events", json={"asset_id": asset["id"], "extra": {"as_of": "2026-11-11"}}).raise_for_status()

    alerts = celery.wait_for_alerts("2026-11-11", count=2)
    # The living messages move on a day (chat.update), once each: no new post, no duplicate.
    assert sorted(c.method for c in alerts) == ["chat.update", "chat.update"]


def test_goalwatch_announce_reaches_slack_and_a_wrong_password_is_refused(celery):
    stack = celery.airflow
    user, password = stack.credentials
    env = {**os.environ, "GOALWATCH_API_URL": stack.url, "GOALWATCH_API_USER": user}
    command = [
        bin_path("goalwatch"),
        "announce",
        "revenue",
        "--as-of",
        "2026-11-12",
        "--config",
        stack.env["GOALWATCH_CONFIG"],
    ]

    refused = subprocess.run(command, env={**env, "GOALWATCH_API_PASSWORD": "not-it"}, capture_output=True, text=True)
    assert refused.returncode == 2
    assert "refused to log in as admin (HTTP 401)" in refused.stderr and "not-it" not in refused.stderr

    done = subprocess.run(command, env={**env, "GOALWATCH_API_PASSWORD": password}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert '"as_of": "2026-11-12"' in done.stdout
    assert len(celery.wait_for_alerts("2026-11-12", count=2)) == 2


def test_a_redis_message_reaches_slack_and_bad_ones_are_one_warning_each(celery):
    redis = celery.stack.redis.client()
    before = len(celery.slack.calls)
    bad = [
        "new users for the 13th",
        json.dumps({"metric": "signups", "as_of": "2026-11-13"}),
        json.dumps({"metric": "new_users", "as_of": "13/11/2026"}),
    ]
    for text in bad:
        assert redis.publish("goalwatch", text) == 1  # the triggerer is listening
    # The runs of bad messages give no verdict and send nothing.
    deadline = time.monotonic() + 120
    while celery.task_logs("check_data").count("Ignored: Redis message") < len(bad):
        assert time.monotonic() < deadline, "the bad messages were not read"
        time.sleep(0.5)
    celery.wait_idle()
    assert len(celery.slack.calls) == before
    # One warning each, even where a message landed while Airflow was creating a run (swept).
    assert celery.task_logs("check_data").count("Ignored: Redis message") == len(bad)

    assert redis.publish("goalwatch", json.dumps({"metric": "new_users", "as_of": "2026-11-13"})) == 1
    assert len(celery.wait_for_alerts("2026-11-13", count=2)) == 2
    logs = celery.task_logs("check_data")
    assert "Redis message on channel goalwatch: not JSON ('new users for the 13th')" in logs
    assert "unknown metric 'signups'" in logs
    assert "as_of '13/11/2026' is not a date (YYYY-MM-DD)" in logs
