"""Latency from an asset event to the Slack post, through the real scheduler.

    .venv/bin/python bench/latency.py [--events 12]

Starts the scheduler, dag-processor and api-server as local processes (goalwatch.dev.stack) with a
fresh AIRFLOW_HOME, the demo warehouse and a fake Slack Web API on 127.0.0.1. One ingest run loads
the store; then, one at a time, it posts an asset event for ``new_users`` through the REST API
(``POST /api/v2/assets/events`` with ``{"as_of": "2026-11-15"}``) and measures the time until the
fake Slack receives the evaluate run's ``chat.postMessage`` calls. Between events the alert ledger is
cleared, so each event has alerts to send. Prints median and max.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the fake Slack lives in tests/fakes


def main() -> None:
    from goalwatch.alerting.tables import alert_intents, alert_messages, alert_state
    from goalwatch.dev.demo import seed
    from goalwatch.dev.stack import AirflowStack
    from tests.fakes.slack import FakeSlack

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=12)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="goalwatch-latency-"))
    try:
        warehouse = seed(work / "warehouse.db")
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "GOALWATCH_"))},
            "AIRFLOW_HOME": str(work / "airflow"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "GOALWATCH_HOME": str(work / "goalwatch"),
            "GOALWATCH_CONFIG": str(ROOT / "config" / "goals.yml"),
            "GOALWATCH_INGEST_SCHEDULE": "none",
            "AIRFLOW_CONN_GOALWATCH_WAREHOUSE": json.dumps({"conn_type": "sqlite", "host": str(warehouse)}),
        }
        airflow = str(Path(sys.executable).parent / "airflow")
        subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True)
        store = sa.create_engine(f"sqlite:///{work / 'goalwatch' / 'store.db'}")
        with FakeSlack() as slack:
            env["AIRFLOW_CONN_SLACK_API_DEFAULT"] = slack.connection_json()
            with AirflowStack.from_env(extra=env) as stack:
                stack.wait_for_dags(["goalwatch_ingest", "goalwatch_evaluate"], timeout=180)
                stack.run_pipeline(logical_date="2026-11-16T08:15:00+00:00", timeout=240)
                with stack.client() as api:
                    assets = api.get("/assets", params={"uri_pattern": "goalwatch://metrics/new_users"}).json()
                    asset_id = assets["assets"][0]["id"]
                first, last = [], []
                for _ in range(args.events):
                    with store.begin() as conn:  # forget what was said, so each event has alerts to send
                        for table in (alert_intents, alert_messages, alert_state):
                            conn.execute(table.delete())
                    before = len(slack.posted())
                    runs = stack.run_ids("goalwatch_evaluate")
                    with stack.client() as api:
                        started = time.time()
                        api.post(
                            "/assets/events", json={"asset_id": asset_id, "extra": {"as_of": "2026-11-15"}}
                        ).raise_for_status()
                    stack.wait_for_run("goalwatch_evaluate", after=runs, timeout=120)
                    calls = [c for c in slack.calls if c.method == "chat.postMessage"][before:]
                    first.append(calls[0].at - started)
                    last.append(calls[-1].at - started)
        print(
            f"asset event -> first Slack post: median {statistics.median(first):.2f} s, max {max(first):.2f} s "
            f"(n={len(first)})"
        )
        print(
            f"asset event -> last Slack post:  median {statistics.median(last):.2f} s, max {max(last):.2f} s "
            f"(n={len(last)})"
        )
        print(json.dumps({"first": first, "last": last}), file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
