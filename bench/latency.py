"""Latency from new data announced to the first Slack post, through the real scheduler.

    .venv/bin/python bench/latency.py [--executor local|celery] [--via rest|redis] [--events 20]

``local``: scheduler, dag-processor, triggerer and api-server as local processes on SQLite with the
LocalExecutor (goalwatch.dev.stack, as ``make up``), and a Redis for the messages. ``celery``: the
production topology (goalwatch.dev.production, as ``make stack``): Postgres, Redis, Airflow with
the CeleryExecutor and one worker. Both with the demo warehouse and a fake Slack Web API on
127.0.0.1. One ingest run loads the store; then, one event at a time, it announces ``new_users`` as
of 15 Nov 2026 by ``POST /api/v2/assets/events`` (``rest``) or ``PUBLISH goalwatch`` (``redis``)
and measures, with the fake Slack's own clock, the time until its first ``chat.postMessage``
of the evaluate run. Between events the alert ledger is cleared, so each event has alerts to send,
and the run must have finished. Prints p50, p95 and max, and the resident memory of each service
(proportional set size of its process and children, at the end); ``--json`` writes them too.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import psutil
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the fake Slack lives in tests/fakes


def environment(work: Path, warehouse: Path, slack) -> dict[str, str]:
    return {
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "GOALWATCH_HOME": str(work / "goalwatch"),
        "GOALWATCH_CONFIG": str(ROOT / "config" / "goals.yml"),
        "GOALWATCH_INGEST_SCHEDULE": "none",
        "GOALWATCH_WATCHDOG_SCHEDULE": "none",
        "GOALWATCH_DIGEST_SCHEDULE": "none",
        "AIRFLOW_CONN_GOALWATCH_WAREHOUSE": json.dumps({"conn_type": "sqlite", "host": str(warehouse)}),
        "AIRFLOW_CONN_SLACK_API_DEFAULT": slack.connection_json(),
    }


def start(executor: str, work: Path, extra: dict[str, str], exit: ExitStack):
    """The stack, its Redis client, and the store's URL."""
    import subprocess

    from goalwatch.dev.production import ProductionStack
    from goalwatch.dev.services import redis
    from goalwatch.dev.stack import SERVICES, AirflowStack

    if executor == "celery":
        production = exit.enter_context(ProductionStack(home=work, extra=extra))
        stack = production.airflow
        stack.wait_for_dags(["goalwatch_ingest", "goalwatch_evaluate"], timeout=300)
        production.wait_for_listener(timeout=180)
        return stack, production.redis.client(), stack.env["GOALWATCH_STORE_URL"]
    server = exit.enter_context(redis())
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "GOALWATCH_"))},
        **extra,
        "AIRFLOW_HOME": str(work / "airflow"),
        "AIRFLOW_CONN_REDIS_DEFAULT": server.connection_json(),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
    }
    subprocess.run([AirflowStack.airflow(), "db", "migrate"], env=env, check=True, capture_output=True)
    stack = AirflowStack.from_env(extra=env)
    stack.services = (*SERVICES, "triggerer")
    exit.enter_context(stack)
    stack.wait_for_dags(["goalwatch_ingest", "goalwatch_evaluate"], timeout=300)
    client = server.client()
    deadline = time.monotonic() + 180
    while dict(client.pubsub_numsub("goalwatch")).get(b"goalwatch", 0) < 1:
        assert time.monotonic() < deadline, "the triggerer never listened on Redis"
        time.sleep(0.5)
    return stack, client, f"sqlite:///{work / 'goalwatch' / 'store.db'}"


def _pss(proc: psutil.Process) -> int:
    """Proportional set size: a page shared by n processes counts 1/n in each (forked task workers
    share the preloaded modules), so the services' figures add up to what the machine holds."""
    try:
        return proc.memory_full_info().pss
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return 0


def memory(stack) -> dict[str, float]:
    """Proportional MB of each service: its process and all its children."""
    out = {}
    for name, proc in stack.processes.items():
        try:
            top = psutil.Process(proc.pid)
            procs = [top, *top.children(recursive=True)]
            out[name] = sum(_pss(p) for p in procs) / 2**20
        except psutil.NoSuchProcess:
            continue
    return out


def main() -> None:
    from goalwatch.alerting.tables import alert_intents, alert_messages, alert_state
    from goalwatch.dev.demo import seed
    from tests.fakes.slack import FakeSlack

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--executor", choices=["local", "celery"], default="local")
    parser.add_argument("--via", choices=["rest", "redis"], default="rest")
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    with ExitStack() as exit, tempfile.TemporaryDirectory(prefix="goalwatch-latency-") as folder:
        work = Path(folder)
        slack = exit.enter_context(FakeSlack())
        extra = environment(work, seed(work / "warehouse.db"), slack)
        stack, redis_client, store_url = start(args.executor, work, extra, exit)
        stack.run_pipeline(logical_date="2026-11-16T08:15:00+00:00", timeout=300)
        store = sa.create_engine(store_url)
        with stack.client() as api:
            assets = api.get("/assets", params={"uri_pattern": "goalwatch://metrics/new_users"}).json()["assets"]
            asset_id = next(a["id"] for a in assets if a["uri"] == "goalwatch://metrics/new_users")
        message = json.dumps({"metric": "new_users", "as_of": "2026-11-15"})
        first = []
        for _ in range(args.events):
            with store.begin() as conn:  # forget what was said, so each event has alerts to send
                for table in (alert_intents, alert_messages, alert_state):
                    conn.execute(table.delete())
            before = len(slack.calls)
            runs = stack.run_ids("goalwatch_evaluate")
            with stack.client() as api:
                started = time.time()
                if args.via == "rest":
                    body = {"asset_id": asset_id, "extra": {"as_of": "2026-11-15"}}
                    api.post("/assets/events", json=body).raise_for_status()
                else:
                    assert redis_client.publish("goalwatch", message) == 1
            stack.wait_for_run("goalwatch_evaluate", after=runs, timeout=180)
            posts = [c for c in slack.calls[before:] if c.method == "chat.postMessage"]
            first.append(posts[0].at - started)
        used = memory(stack)
        store.dispose()
    first.sort()
    p95 = first[min(len(first) - 1, round(0.95 * (len(first) - 1)))]
    figures = {
        "executor": args.executor,
        "via": args.via,
        "events": len(first),
        "p50": statistics.median(first),
        "p95": p95,
        "max": max(first),
        "memory_mb": {k: round(v) for k, v in used.items()},
        "memory_total_mb": round(sum(used.values())),
        "seconds": first,
    }
    print(
        f"{args.executor} via {args.via}: event -> first Slack post p50 {figures['p50']:.2f} s, "
        f"p95 {p95:.2f} s, max {figures['max']:.2f} s (n={len(first)}); "
        f"memory {figures['memory_total_mb']} MB ({', '.join(f'{k} {v}' for k, v in figures['memory_mb'].items())})"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
