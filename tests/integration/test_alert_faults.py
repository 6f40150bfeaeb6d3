"""Randomized fault injection: 200 sequences of evaluations whose Slack calls meet 429s, 500s,
timeouts and responses dropped after Slack stored the message. Through the alert ledger and the
real slack_sdk client against the fake Slack Web API, every sequence must end with exactly one
message per goal and period, each planned reply posted once, and nothing lost or duplicated."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest

from goalwatch.alerting.ledger import Ledger
from goalwatch.alerting.plan import plan
from goalwatch.alerting.send import deliver
from goalwatch.config import load_config
from goalwatch.core.verdicts import Verdict
from goalwatch.data.store import Store
from goalwatch.runtime.slack import SlackDelivery
from tests.fakes.slack import FakeSlack

SEQUENCES = int(__import__("os").environ.get("FAULT_SEQUENCES", "200"))
START = date(2026, 11, 1)
END = date(2026, 11, 30)
LEVELS = [("on_track", None), ("at_risk", "warning"), ("off_track", "warning"), ("off_track", "critical")]
# Timeouts cost a second of waiting each, so they are the rarest fault.
FAULTS = [("status", 429)] * 3 + [("status", 500)] * 3 + [("drop", True)] * 3 + [("timeout", 1.1)]
METHODS = ["chat.postMessage", "chat.update", "conversations.history", "conversations.replies", "conversations.list"]

CONFIG = """
renotify_days: 2
metrics:
  users: {source: {path: users.csv}}
goals:
  - {name: g0, metric: users, period: month, target: 3000, notify: {channel: "#growth"}}
  - {name: g1, metric: users, period: month, target: 3000, notify: {channel: "#growth"}}
  - {name: g2, metric: users, period: month, target: 3000, notify: {channel: "#revenue"}}
"""


def verdict(goal: str, day: date, status: str, severity: str | None, rng: random.Random, channel: str) -> Verdict:
    pace = {"on_track": 1.02, "at_risk": 0.98, "off_track": 0.93 if severity == "warning" else 0.85}.get(status, 1.0)
    pace += rng.uniform(-0.005, 0.005)
    elapsed = (day - START).days + 1
    expected = 3000 * elapsed / 30
    actual = expected * pace
    return Verdict(
        as_of=day,
        goal=goal,
        label=f"Goal {goal}",
        metric="users",
        unit=None,
        period="month",
        period_label="Nov 2026",
        period_start=START,
        period_end=END,
        target=3000,
        actual_to_date=actual,
        expected_to_date=expected,
        pace_ratio=pace,
        forecast=actual * 30 / elapsed,
        forecast_low=actual * 28 / elapsed,
        forecast_high=actual * 32 / elapsed,
        miss_probability=0.9 if status != "on_track" else 0.1,
        channel=channel,
        status=status,
        severity=severity,
    )


@pytest.fixture
def config(tmp_path: Path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "goals.yml").write_text(CONFIG)
    return load_config(tmp_path / "config" / "goals.yml")


def run_sequence(seed: int, config, tmp_path: Path, monkeypatch) -> Counter:
    rng = random.Random(seed)
    ledger = Ledger(Store(url=f"sqlite:///{tmp_path / f'store-{seed}.db'}"))
    with FakeSlack(token="xoxb-fault-test") as slack:
        monkeypatch.setenv("AIRFLOW_CONN_SLACK_API_DEFAULT", slack.connection_json())
        delivery = SlackDelivery(conn_id="slack_api_default", rate=0)
        level = {g.name: rng.randrange(4) for g in config.goals}
        day = START + timedelta(days=rng.randrange(5))
        for _ in range(rng.randint(3, 8)):
            for goal in level:
                if rng.random() < 0.4:
                    level[goal] = rng.randrange(4)
            closing = day >= END
            verdicts = []
            for g in config.goals:
                status, severity = LEVELS[level[g.name]]
                if closing:
                    status, severity = ("missed", "critical") if level[g.name] else ("achieved", None)
                verdicts.append(verdict(g.name, day, status, severity, rng, config.channel_for(g)))
            for _ in range(1 if rng.random() < 0.5 else 0):
                kind, value = rng.choice(FAULTS)
                slack.fail_next(
                    rng.choice(METHODS),
                    **({"status": value, "retry_after": 0} if kind == "status" and value == 429 else {kind: value}),
                )
            plan(verdicts, [], config=config, ledger=ledger, run_id=f"seq{seed}-{day}")
            for _attempt in range(rng.randint(1, 3)):  # the notify task and its retries
                if not deliver(ledger, delivery).failed:
                    break
            if closing:
                break
            day += timedelta(days=rng.randint(1, 6))
            day = min(day, END)
        slack._faults.clear()
        outcome = deliver(ledger, delivery)  # a later, healthy run sends what was left
        assert outcome.failed == [] and outcome.waiting == [], (seed, outcome)
        check(seed, ledger, slack)
        return Counter(f"{method}:{kind}" for method, kind in slack.faulted)


def check(seed: int, ledger: Ledger, slack: FakeSlack) -> None:
    intents = ledger.intents()
    assert [i.key for i in intents if i.state == "pending"] == [], f"seed {seed}: lost {intents}"
    stored = [m for m in slack.messages if m.get("metadata")]
    ids = Counter(m["metadata"]["event_payload"]["intent"] for m in stored)
    assert [i for i, n in ids.items() if n > 1] == [], f"seed {seed}: a post was duplicated"
    posted = {i.id for i in intents if i.kind == "post"}
    assert set(ids) == posted, f"seed {seed}: Slack holds {set(ids) ^ posted} that the ledger does not, or misses them"
    # Every message goalwatch planned exists once, in the right place, with its newest rendering.
    by_intent = {m["metadata"]["event_payload"]["intent"]: m for m in stored}
    for intent in intents:
        if intent.kind != "post":
            continue
        message = ledger.message(intent.message_id)
        found = by_intent[intent.id]
        assert (found["ts"], found["channel"]) == (message.ts, message.channel_id), f"seed {seed}"
        if message.parent_id is not None:
            assert found["thread_ts"] == ledger.message(message.parent_id).ts, f"seed {seed}: reply off its thread"
        newest = [i for i in intents if i.message_id == intent.message_id and i.state == "sent"][-1]
        assert found["blocks"] == newest.payload["blocks"], f"seed {seed}: stale rendering"
    # One top-level message per goal and period.
    parents = Counter(
        s.message_id
        for s in ledger.states((g, START, "") for g in ("g0", "g1", "g2")).values()
        if s.message_id is not None
    )
    top = [m for m in stored if m["thread_ts"] is None]
    assert len(top) == len(parents), f"seed {seed}: {len(top)} top-level messages for {len(parents)} planned"


def test_randomized_faults_never_lose_or_repeat_an_alert(config, tmp_path, monkeypatch):
    monkeypatch.setenv("GOALWATCH_SLACK_BACKOFF", "0.01")
    monkeypatch.setenv("GOALWATCH_SLACK_TIMEOUT", "1")
    served: Counter = Counter()
    for seed in range(SEQUENCES):
        served += run_sequence(seed, config, tmp_path, monkeypatch)
    # The faults really happened, of every kind, and posts were dropped after Slack stored them.
    kinds = Counter(key.split(":")[1] for key in served.elements())
    assert all(kinds[k] > 0 for k in ("429", "500", "drop", "timeout")), served
    assert served["chat.postMessage:drop"] > 0, served
