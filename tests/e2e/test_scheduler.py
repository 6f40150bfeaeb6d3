"""The real scheduler, dag-processor and api-server as local processes: an ingest run, then the
asset event, then the evaluate run it starts, then the alert at the fake Slack."""

from __future__ import annotations

import os
import time

import pytest

from tests.conftest import DEMO_LOGICAL_DATE

pytestmark = [pytest.mark.airflow, pytest.mark.e2e]


def test_ingest_event_starts_evaluate_and_slack_gets_the_alerts(airflow_env, fake_slack):
    from goalwatch.dev.stack import AirflowStack

    stack = AirflowStack.from_env(extra={**airflow_env, "AIRFLOW_CONN_SLACK_API_DEFAULT": fake_slack.connection_json()})
    with stack:
        started = list(stack.processes.values())
        stack.wait_for_dags(["goalwatch_ingest", "goalwatch_evaluate"], timeout=180)
        runs = stack.run_pipeline(logical_date=DEMO_LOGICAL_DATE, timeout=240)
        with stack.client() as api:
            evaluate = api.get(f"/dags/goalwatch_evaluate/dagRuns/{runs['evaluate']}").json()
            events = api.get(f"/dags/goalwatch_evaluate/dagRuns/{runs['evaluate']}/upstreamAssetEvents").json()

    assert evaluate["run_type"] == "asset_triggered"
    assert {e["source_dag_id"] for e in events["asset_events"]} == {"goalwatch_ingest"}
    assert {e["extra"]["as_of"] for e in events["asset_events"]} == {"2026-11-15"}
    posted = fake_slack.posted()
    assert sorted(m["channel"] for m in posted) == ["#growth-goals", "#revenue-goals"]
    for message in posted:
        assert "as of 2026-11-15" in message["blocks"][-1]["elements"][0]["text"]
    # Every process the stack started has been stopped, and all they started (the LocalExecutor's
    # workers, forked from its forkserver, live on in the scheduler's session otherwise).
    assert len(started) == 3 and all(p.poll() is not None for p in started)
    assert [p.pid for p in started if _session_alive(p.pid)] == []


def _session_alive(sid: int, wait: float = 10) -> bool:
    """Whether any process is left in the session (killed ones may take a moment to be reaped)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            os.killpg(sid, 0)
        except ProcessLookupError:
            return False
        time.sleep(0.2)
    return True
