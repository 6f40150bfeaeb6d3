"""Faults on the production topology (the session's Celery stack, tests/e2e/conftest.py): a burst
of events with the scheduler killed in it, the worker killed while it posts, Postgres restarted,
Redis down. Each starts from a cleared alert ledger, so the demo's alerts are news again, and
ends with every event evaluated and no Slack message twice."""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

pytestmark = [pytest.mark.airflow, pytest.mark.e2e]

DAY = "2026-11-15"


@pytest.fixture
def fresh(celery):
    """Forget what was said (the alert ledger), and where the fake Slack's calls stood."""
    from goalwatch.alerting.tables import alert_intents, alert_messages, alert_state, alert_transitions
    from goalwatch.data.store import Store, metric_values

    celery.wait_idle()
    store = Store(url=celery.airflow.env["GOALWATCH_STORE_URL"])  # made (migrated) if no run made it yet
    engine = store.engine
    with engine.connect() as conn:
        loaded = conn.execute(sa.select(sa.func.count()).select_from(metric_values)).scalar()
    if not loaded:  # this file alone: load the demo through the stack first
        celery.airflow.run_pipeline(logical_date="2026-11-16T08:15:00+00:00", timeout=300)
        celery.wait_idle()
    with engine.begin() as conn:
        for table in (alert_intents, alert_transitions, alert_messages, alert_state):
            conn.execute(table.delete())
    engine.dispose()
    return Since(messages=len(celery.slack.messages), calls=len(celery.slack.calls))


@dataclass(frozen=True)
class Since:
    """Where the fake Slack's messages and calls stood when a test began."""

    messages: int
    calls: int


def _duplicates(celery, since: Since) -> list[str]:
    """Intents posted more than once since the test began (a copy healed away later counts too)."""
    intents = Counter(
        ((c.body.get("metadata") or {}).get("event_payload") or {}).get("intent")
        for c in celery.slack.calls[since.calls :]
        if c.method == "chat.postMessage"
    )
    posted_twice = [i for i, n in intents.items() if i and n > 1]
    live = Counter(
        ((m.get("metadata") or {}).get("event_payload") or {}).get("intent")
        for m in celery.slack.messages[since.messages :]
        if m.get("subtype") != "tombstone" and m.get("metadata")
    )
    return posted_twice + [i for i, n in live.items() if n > 1]


def _asset_ids(celery) -> dict[str, int]:
    with celery.airflow.client() as api:
        return {a["uri"]: a["id"] for a in api.get("/assets", params={"limit": 100}).json()["assets"]}


def _events_since(celery, first_id: int) -> list[dict]:
    with celery.airflow.client() as api:
        events = api.get("/assets/events", params={"limit": 100, "order_by": "-timestamp"}).json()["asset_events"]
    return [e for e in events if e["id"] >= first_id]


def _last_event_id(celery) -> int:
    with celery.airflow.client() as api:
        found = api.get("/assets/events", params={"limit": 1, "order_by": "-timestamp"}).json()["asset_events"]
    return found[0]["id"] if found else 0


def test_a_burst_of_50_events_with_the_scheduler_killed_in_it_loses_none_and_posts_nothing_twice(celery, fresh):
    stack, redis = celery.airflow, celery.stack.redis.client()
    ids = _asset_ids(celery)
    first = _last_event_id(celery) + 1
    published = 0
    with stack.client() as api:
        for n in range(50):
            metric = ("new_users", "revenue")[n % 2]
            day = DAY if n >= 40 else "2026-11-14"
            if n == 20:
                stack.kill("scheduler")  # mid-burst: events keep landing with no scheduler
            if n == 30:
                stack.launch("scheduler")
            if n % 4 < 2:
                body = {"asset_id": ids[f"goalwatch://metrics/{metric}"], "extra": {"as_of": day}}
                api.post("/assets/events", json=body).raise_for_status()
            else:
                published += redis.publish("goalwatch", json.dumps({"metric": metric, "as_of": day}))
            time.sleep(0.05)
    assert published == 24  # the triggerer heard every message

    # Every event lands as an asset event, and every one is consumed by a successful evaluate run.
    deadline = time.monotonic() + 300
    while True:
        events = [e for e in _events_since(celery, first) if "stranded" not in (e["extra"] or {})]
        waiting = [
            e["id"] for e in events if not any(r["dag_id"] == "goalwatch_evaluate" for r in e["created_dagruns"])
        ]
        if len(events) == 50 and not waiting:
            break
        assert time.monotonic() < deadline, f"{50 - len(events)} events missing, {waiting} never evaluated"
        time.sleep(1)
    celery.wait_idle()
    with stack.client() as api:
        runs = {r["run_id"] for e in events for r in e["created_dagruns"] if r["dag_id"] == "goalwatch_evaluate"}
        states = {api.get(f"/dags/goalwatch_evaluate/dagRuns/{r}").json()["state"] for r in runs}
    assert states == {"success"}
    # The newest day reached Slack; nothing was posted twice.
    assert celery.alerts_as_of(DAY, since=fresh.calls)
    assert _duplicates(celery, fresh) == []


def test_the_worker_killed_while_it_posts_is_retried_and_posts_once(celery, fresh):
    stack, redis = celery.airflow, celery.stack.redis.client()
    # The post is held 8 s, then stored: the worker dies while it waits for Slack's answer.
    celery.slack.fail_next("chat.postMessage", late=8)
    assert redis.publish("goalwatch", json.dumps({"metric": "new_users", "as_of": DAY})) == 1
    deadline = time.monotonic() + 120
    while ("chat.postMessage", "late") not in celery.slack.faulted:
        assert time.monotonic() < deadline, "the post never started"
        time.sleep(0.1)
    stack.kill("celery-worker")
    stack.launch("celery-worker")

    # The scheduler finds the task's heartbeat gone, and its retry finds the post Slack stored.
    posts = celery.wait_for_alerts(DAY, count=2, timeout=240, since=fresh.calls)
    celery.wait_idle()
    assert {c.body["channel"] for c in posts if c.method == "chat.postMessage"} >= {"#growth-goals"}
    assert _duplicates(celery, fresh) == []
    live = [
        m for m in celery.slack.messages[fresh.messages :] if m.get("subtype") != "tombstone" and m["thread_ts"] is None
    ]
    assert sorted(m["channel"] for m in live) == sorted(map(celery.slack.channel_id, ["growth-goals", "revenue-goals"]))
    with stack.client() as api:
        runs = api.get("/dags/goalwatch_evaluate/dagRuns", params={"order_by": "-run_after", "limit": 1}).json()
        (run,) = runs["dag_runs"]
        tries = api.get(f"/dags/goalwatch_evaluate/dagRuns/{run['dag_run_id']}/taskInstances/decide").json()
    assert run["state"] == "success" and tries["try_number"] >= 2


def test_postgres_restarted_between_runs_the_next_run_succeeds(celery, fresh):
    celery.stack.postgres.restart()
    redis = celery.stack.redis.client()
    assert redis.publish("goalwatch", json.dumps({"metric": "revenue", "as_of": DAY})) == 1
    celery.wait_for_alerts(DAY, count=2, timeout=180, since=fresh.calls)
    celery.wait_idle()
    assert _duplicates(celery, fresh) == []
    with celery.airflow.client() as api:
        (run,) = api.get("/dags/goalwatch_evaluate/dagRuns", params={"order_by": "-run_after", "limit": 1}).json()[
            "dag_runs"
        ]
    assert run["state"] == "success"


def test_redis_down_when_a_message_is_sent_the_scheduled_ingest_evaluates_the_day(celery, fresh):
    stack, server = celery.airflow, celery.stack.redis
    server.stop()
    with pytest.raises(Exception, match="(?i)connect"):
        server.client().publish("goalwatch", json.dumps({"metric": "new_users", "as_of": DAY}))
    server.start()
    celery.stack.wait_for_listener(timeout=120)  # the triggerer listens again by itself

    # The message was lost: nothing was said. The ingest's next scheduled run (its logical date
    # here: 01:15 on the 16th in Los Angeles) evaluates the day.
    assert celery.alerts_as_of(DAY, since=fresh.calls) == []
    stack.run_pipeline(logical_date="2026-11-16T09:15:00+00:00", timeout=300)
    celery.wait_for_alerts(DAY, count=2, timeout=120, since=fresh.calls)
    assert _duplicates(celery, fresh) == []


def test_the_watchdog_says_so_when_nothing_has_run(celery, fresh):
    from goalwatch.alerting.tables import alert_heartbeats

    stack = celery.airflow
    engine = sa.create_engine(stack.env["GOALWATCH_STORE_URL"])
    with engine.begin() as conn:  # as if no evaluation had ever succeeded
        conn.execute(alert_heartbeats.delete())
    engine.dispose()
    stack.wait_for_dags(["goalwatch_watchdog"], timeout=60)
    # Its hourly run, now (a logical date in the future would wait for it).
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    run = stack.trigger("goalwatch_watchdog", logical_date=now.isoformat())
    stack.wait_for_run("goalwatch_watchdog", run_id=run, timeout=180)
    unhealthy = [
        c.body
        for c in celery.slack.calls[fresh.calls :]
        if c.method == "chat.postMessage" and "Monitor unhealthy" in json.dumps(c.body.get("blocks") or [])
    ]
    assert len(unhealthy) == 1 and "no evaluation has succeeded yet" in unhealthy[0]["text"]
