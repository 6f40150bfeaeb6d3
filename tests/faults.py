"""Randomized fault injection against the fake Slack, shared by the test and the benchmark.

One sequence is a month of evaluations of three goals in two channels (``#growth`` holds two,
``#revenue`` one; failure notices go to ``#goals``), each planned through the alert ledger and sent
as the notify task sends it (``send_pending``, retried 1-3 times as Airflow retries a failed task),
through the real slack_sdk client, while the fake Slack plays Slack's documented failures:

- passing ones: 429 with Retry-After, 500/503 with the call done or not ("500-stored"), an answer
  dropped after the call was done, a late write (done after the client's 1 s timeout), a busy
  channel (other people's messages after every call, read back in pages as small as 15);
- permanent ones: the bot removed from ``#revenue`` for a stretch of days (``not_in_channel``), one
  call refused for its content (``msg_too_long``, ``invalid_blocks``), a goalwatch message deleted
  by someone.

:func:`check` then judges the fake's own record of what it holds (not goalwatch's answers).
:func:`notify_task` (``send_pending`` retried as Airflow retries the task) serves the contract
tests too (``tests/integration/test_slack_contract.py``).
"""

from __future__ import annotations

import contextlib
import os
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from goalwatch.alerting.ledger import Ledger
from goalwatch.alerting.notify import send_pending
from goalwatch.alerting.plan import plan
from goalwatch.config import Config, load_config
from goalwatch.core.verdicts import Verdict
from goalwatch.data.store import Store
from goalwatch.errors import DeliveryError
from goalwatch.runtime.slack import SlackDelivery
from tests.factories import users_verdict
from tests.fakes.slack import FakeSlack

START, END = date(2026, 11, 1), date(2026, 11, 30)
LEVELS = [("on_track", None), ("at_risk", "warning"), ("off_track", "warning"), ("off_track", "critical")]
CONFIG = """
renotify_days: 2
default_channel: "#goals"
metrics:
  users: {source: {path: users.csv}}
goals:
  - {name: g0, metric: users, period: month, target: 3000, notify: {channel: "#growth"}}
  - {name: g1, metric: users, period: month, target: 3000, notify: {channel: "#growth"}}
  - {name: g2, metric: users, period: month, target: 3000, notify: {channel: "#revenue"}}
"""
GOALS = ("g0", "g1", "g2")
CALLS = ["chat.postMessage", "chat.update", "conversations.history", "conversations.replies", "conversations.list"]
# (weight, mode): late writes and timeouts cost about a second each, so they are rarer.
MODES = [
    (1, "429"),  # slack_sdk waits Retry-After plus up to a second of its own
    (3, "500-stored"),
    (2, "500"),
    (1, "503"),
    (3, "drop"),
    (1, "late"),
    (2, "busy"),
    (1, "refused-content"),
    (1, "deleted"),
]
PERMANENT = {"not_in_channel", "msg_too_long", "invalid_blocks"}


@dataclass
class Figures:
    """What a run of sequences met and saw."""

    sequences: int = 0
    injected: Counter[str] = field(default_factory=Counter)
    duplicates_before_healing: int = 0
    duplicates_after_healing: int = 0
    healed: int = 0
    refused_intents: int = 0
    notices: int = 0

    def add(self, other: Figures) -> None:
        self.sequences += other.sequences
        self.injected += other.injected
        for name in ("duplicates_before_healing", "duplicates_after_healing", "healed", "refused_intents", "notices"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, Any]:
        return {**vars(self), "injected": dict(sorted(self.injected.items()))}


def load(folder: Path) -> Config:
    (folder / "config").mkdir(parents=True, exist_ok=True)
    (folder / "config" / "goals.yml").write_text(CONFIG)
    return load_config(folder / "config" / "goals.yml")


def verdict(goal: str, day: date, level: int, rng: random.Random, closing: bool) -> Verdict:
    status, severity = LEVELS[level]
    if closing:
        status, severity = ("missed", "critical") if level else ("achieved", None)
    pace = {"on_track": 1.02, "at_risk": 0.98, "off_track": 0.93 if severity == "warning" else 0.85}.get(status, 1.0)
    pace += rng.uniform(-0.005, 0.005)
    channel = "#revenue" if goal == "g2" else "#growth"
    miss_probability = 0.9 if status != "on_track" else 0.1
    return users_verdict(goal, day, status, severity, channel=channel, pace=pace, miss_probability=miss_probability)


def notify_task(ledger: Ledger, config: Config, *, tries: int = 3, run_id: str = "run") -> tuple[dict[str, Any], int]:
    """``send_pending`` as the notify task runs it: a DeliveryError fails the try and Airflow
    retries, ``tries`` tries in all (the evaluate DAG's 1 + 2 retries by default); the last try's
    error fails the task. Every try sends as the run's one sender (``notify`` names it from the
    run id). The summary and the try that sent it."""
    for attempt in range(1, tries + 1):
        try:
            delivery = SlackDelivery(conn_id="slack_api_default", rate=0)
            return send_pending(ledger, delivery, config=config, owner=f"notify:{run_id}"), attempt
        except DeliveryError:
            if attempt == tries:
                raise
    raise AssertionError("unreachable")


def inject(slack: FakeSlack, rng: random.Random, figures: Figures) -> None:
    mode = rng.choices([m for _, m in MODES], weights=[w for w, _ in MODES])[0]
    if mode == "late" and figures.injected["late"]:
        mode = "drop"  # one late write a sequence: each costs the client's whole timeout
    method = rng.choice(CALLS)
    if mode == "429":
        slack.fail_next(method, status=429, retry_after=0)
    elif mode in ("500", "503"):
        slack.fail_next(method, status=int(mode))
    elif mode == "500-stored":
        slack.fail_next(rng.choice(["chat.postMessage", "chat.update"]), status=500, after_store=True)
    elif mode == "drop":
        slack.fail_next(rng.choice(["chat.postMessage", "chat.postMessage", "chat.update"]), drop=True)
    elif mode == "late":
        slack.fail_next("chat.postMessage", late=rng.uniform(1.2, 1.6))
    elif mode == "busy":
        slack.busy(rng.choice(["#growth", "#revenue"]), per_call=rng.choice([2, 5]))
    elif mode == "refused-content":
        slack.fail_next(
            rng.choice(["chat.postMessage", "chat.update"]), error=rng.choice(["msg_too_long", "invalid_blocks"])
        )
    elif mode == "deleted":
        goal_channels = {slack.channel_id("#growth"), slack.channel_id("#revenue")}
        ours = [m for m in visible(slack) if m["thread_ts"] is None and m["channel"] in goal_channels]
        if not ours:
            return
        victim = rng.choice(ours)
        slack.delete_message(victim["channel"], victim["ts"])
    figures.injected[mode] += 1


def run_sequence(seed: int, folder: Path) -> Figures:
    """One month of runs under faults, then a healthy run; checked. The figures it met."""
    rng = random.Random(seed)
    config = load(folder)
    ledger = Ledger(Store(url=f"sqlite:///{folder / f'store-{seed}.db'}"))
    figures = Figures(sequences=1)
    with FakeSlack(token="xoxb-fault-test", page_cap=rng.choice([15, 15, 100])) as slack:
        os.environ["AIRFLOW_CONN_SLACK_API_DEFAULT"] = slack.connection_json()
        level = {g: rng.randrange(4) for g in GOALS}
        day = START + timedelta(days=rng.randrange(5))
        outage = rng.random() < 0.3  # the bot is out of #revenue for a stretch
        out_from, out_days = day + timedelta(days=rng.randrange(10)), rng.randint(3, 12)
        removals = 0
        while True:
            for goal in level:
                if rng.random() < 0.4:
                    level[goal] = rng.randrange(4)
            if outage and day >= out_from and not slack_out(slack):
                if day < out_from + timedelta(days=out_days):
                    slack.remove_bot("#revenue")
                    removals += 1
            elif outage and slack_out(slack) and day >= out_from + timedelta(days=out_days):
                slack.add_channel("#revenue")  # invited back
            closing = day >= END
            for _ in range(rng.choice([0, 0, 1, 1, 2])):
                inject(slack, rng, figures)
            verdicts = [verdict(g, day, level[g], rng, closing) for g in GOALS]
            plan(verdicts, [], config=config, ledger=ledger, run_id=f"seq{seed}-{day}")
            with contextlib.suppress(DeliveryError):  # a failed task fails its run; the next run goes on
                notify_task(ledger, config, tries=rng.randint(1, 3))
            slack._busy.clear()
            if closing:
                break
            day = min(day + timedelta(days=rng.randint(1, 6)), END)
        # Later, healthy runs: the faults gone (the bot stays wherever it is), late writes landed.
        slack._faults.clear()
        assert slack.wait_late(), f"seed {seed}: a late write never landed"
        figures.duplicates_before_healing = duplicates(slack)
        for _ in range(2):
            with contextlib.suppress(DeliveryError):
                notify_task(ledger, config, tries=1)
        figures.duplicates_after_healing = duplicates(slack)
        figures.injected["not_in_channel"] += removals
        check(seed, ledger, slack, figures, removals=removals)
    return figures


def slack_out(slack: FakeSlack) -> bool:
    channel = slack._channels.get(slack.channel_id("#revenue"))
    return channel is not None and not channel.member


def visible(slack: FakeSlack) -> list[dict[str, Any]]:
    """goalwatch's messages Slack shows now (not deleted, not tombstones)."""
    return [m for m in slack.messages if m.get("metadata") and m.get("subtype") != "tombstone"]


def intent_of(message: dict[str, Any]) -> str:
    return message["metadata"]["event_payload"]["intent"]


def duplicates(slack: FakeSlack) -> int:
    ids = Counter(intent_of(m) for m in visible(slack))
    return sum(n - 1 for n in ids.values())


def check(seed: int, ledger: Ledger, slack: FakeSlack, figures: Figures, *, removals: int) -> None:
    where = f"seed {seed}"
    intents = ledger.intents()
    assert [i.key for i in intents if i.state == "pending"] == [], f"{where}: left pending"
    shown = visible(slack)
    ids = Counter(intent_of(m) for m in shown)
    assert [i for i, n in ids.items() if n > 1] == [], f"{where}: a message is in Slack twice"
    by_intent = {intent_of(m): m for m in shown}
    known = {i.id: i for i in intents}
    assert set(by_intent) <= set(known), f"{where}: Slack holds a goalwatch message the ledger does not know"

    # Every message the ledger holds as posted is in Slack once, where the ledger says, current.
    for message_id in {i.message_id for i in intents}:
        message = ledger.message(message_id)
        sent = [i for i in intents if i.message_id == message_id and i.state == "sent"]
        posts = [i for i in sent if i.kind == "post"]
        copies = [by_intent[i.id] for i in posts if i.id in by_intent]
        if not copies:
            # Never in Slack: every post of it was refused for good, or someone deleted it since.
            refused = [i for i in intents if i.message_id == message_id and i.state == "failed"]
            deleted_by_someone = figures.injected["deleted"] > 0
            assert refused or deleted_by_someone, f"{where}: {message.key} was sent but is not in Slack"
            continue
        assert len(copies) == 1, f"{where}: {message.key} is in Slack {len(copies)} times"
        (copy,) = copies
        assert copy["ts"] == message.ts and copy["channel"] == message.channel_id, f"{where}: {message.key} moved"
        if copy["thread_ts"] is not None:
            parent = slack._find(copy["channel"], copy["thread_ts"], tombstones=True)
            assert parent is not None and parent["thread_ts"] is None, f"{where}: {message.key} off its thread"
        last = [i for i in intents if i.message_id == message_id and i.kind != "upload"]
        if last and last[-1].state == "sent":
            assert copy["blocks"] == last[-1].payload["blocks"], f"{where}: {message.key} shows an old rendering"

    # One living message per goal and period in Slack, unless its channel or content was refused.
    states = ledger.states((g, START, "") for g in GOALS)
    living = {s.message_id for s in states.values() if s.message_id is not None}
    for message_id in living:
        message = ledger.message(message_id)
        copies = [m for m in shown if m["thread_ts"] is None and known[intent_of(m)].message_id == message_id]
        failed = any(i.message_id == message_id and i.state == "failed" for i in intents)
        assert len(copies) == 1 or (not copies and (failed or figures.injected["deleted"])), (
            f"{where}: {message.key} has {len(copies)} top-level messages"
        )

    # Refusals for good: named, never in #growth for the channel's sake, said once in #goals.
    failed = [i for i in intents if i.state == "failed"]
    figures.refused_intents = len(failed)
    for intent in failed:
        assert intent.error and any(f"Slack said {code}" in intent.error for code in PERMANENT | {"is_inactive"}), (
            f"{where}: {intent.key} failed with {intent.error!r}"
        )
        channel = ledger.message(intent.message_id).channel
        if "not_in_channel" in intent.error:
            assert channel == "#revenue", f"{where}: {channel} refused though the bot never left it"
    notices = [m for m in slack.channel_messages("#goals") if m.get("metadata")]
    figures.notices = len(notices)
    keys = Counter(ledger.message(known[intent_of(m)].message_id).key for m in notices)
    assert [k for k, n in keys.items() if n > 1] == [], f"{where}: a failure notice was said twice"
    out = [i for i in failed if "not_in_channel" in (i.error or "")]
    said_out = [m for m in notices if "not_in_channel" in m["text"]]
    if out:
        assert 1 <= len(said_out) <= removals, f"{where}: {len(said_out)} notices for {removals} removal(s)"
    else:
        assert said_out == [], f"{where}: a channel refusal was announced that never happened"
    for intent in failed:
        code = intent.error.split("Slack said ", 1)[1].split(":", 1)[0]
        channel = ledger.message(intent.message_id).channel
        if ledger.message(intent.message_id).key.startswith("delivery_failed."):
            continue  # a notice itself refused: the task log says it
        assert any(code in m["text"] and channel in m["text"] for m in notices), (
            f"{where}: {intent.key} refused ({code}) in {channel} and never said"
        )

    # What goalwatch deleted is exactly what its ledger says it deleted: its own extra copies.
    recorded = {d["ts"] for d in ledger.deletions()}
    assert recorded == {m["ts"] for m in slack.deleted}, f"{where}: deletions {recorded} vs Slack's"
    assert all(m.get("bot_id") for m in slack.deleted), f"{where}: deleted someone else's message"
    figures.healed = len(recorded)
