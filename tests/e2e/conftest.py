"""One production stack for every test that needs it (tests/e2e/test_celery*.py): Postgres, Redis
and Airflow with Celery and FAB login, started once per session, with the demo warehouse as the
source and the fake Slack as Slack. Each test moves the demo a day on, so each sees news."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT


@dataclass
class Celery:
    stack: Any  # goalwatch.dev.production.ProductionStack
    slack: Any  # tests.fakes.slack.FakeSlack

    @property
    def airflow(self) -> Any:
        return self.stack.airflow

    def alerts_as_of(self, day: str, *, since: int = 0) -> list[Any]:
        """The Slack calls (posts and updates) of goal messages about ``day``, from call ``since`` on."""
        mark = f"as of {day} ·"
        return [
            c
            for c in self.slack.calls[since:]
            if c.method in ("chat.postMessage", "chat.update")
            and mark in json.dumps(c.body.get("blocks") or [], ensure_ascii=False)
        ]

    def wait_for_alerts(self, day: str, *, count: int = 1, timeout: float = 120, since: int = 0) -> list[Any]:
        deadline = time.monotonic() + timeout
        while len(found := self.alerts_as_of(day, since=since)) < count:
            self.airflow.check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"no Slack alert as of {day} within {timeout:.0f} s; see {self.airflow.log_dir}")
            time.sleep(0.2)
        return found

    def wait_idle(self, timeout: float = 240) -> None:
        """Wait until no evaluate run is queued or running."""
        deadline = time.monotonic() + timeout
        with self.airflow.client() as api:
            while True:
                runs = api.get("/dags/goalwatch_evaluate/dagRuns", params={"state": ["queued", "running"]}).json()
                if runs["total_entries"] == 0:
                    return
                assert time.monotonic() < deadline, "evaluate runs still running"
                time.sleep(0.5)

    def task_logs(self, task_id: str) -> str:
        home = Path(self.airflow.env["AIRFLOW_HOME"]) / "logs" / "dag_id=goalwatch_evaluate"
        return "\n".join(
            p.read_text(errors="replace") for p in sorted(home.glob(f"run_id=*/task_id={task_id}/**/*.log"))
        )


@pytest.fixture(scope="session")
def celery(tmp_path_factory: pytest.TempPathFactory, demo_warehouse: Path) -> Iterator[Celery]:
    from goalwatch.dev.production import ProductionStack
    from tests.fakes.slack import FakeSlack

    root = tmp_path_factory.mktemp("celery-stack")
    slack = FakeSlack(token="xoxb-test-not-a-real-token").start()
    extra = {
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "GOALWATCH_HOME": str(root / "goalwatch"),
        "GOALWATCH_CONFIG": str(ROOT / "config" / "goals.yml"),
        "GOALWATCH_INGEST_SCHEDULE": "none",
        "GOALWATCH_WATCHDOG_SCHEDULE": "none",
        "GOALWATCH_DIGEST_SCHEDULE": "none",
        "AIRFLOW_CONN_GOALWATCH_WAREHOUSE": json.dumps({"conn_type": "sqlite", "host": str(demo_warehouse)}),
        "AIRFLOW_CONN_SLACK_API_DEFAULT": slack.connection_json(),
        # A task whose worker was killed is found dead (and retried) within seconds, not minutes.
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "15",
    }
    stack = ProductionStack(home=root, extra=extra, worker_concurrency=2)
    try:
        stack.start()
        stack.airflow.wait_for_dags(["goalwatch_ingest", "goalwatch_evaluate"], timeout=240)
        stack.wait_for_listener(timeout=180)
        yield Celery(stack=stack, slack=slack)
    finally:
        stack.stop()
        slack.stop()
