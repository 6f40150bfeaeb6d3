""" "Once" is the store's promise, on a SQLite file and on the real Postgres: two processes racing
for a post_once key make one message, racing intents get distinct numbers, and two evaluations
planning the same verdicts at the same moment open each goal's message once and say each
transition once. And the ledger's delivery API: attempts, failures, replacement messages, recent
posts and deletions."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from tests.factories import NOV_1, monthly_verdict
from tests.integration.stores import KINDS, postgres_databases, race, store_url

DAY = date(2026, 11, 15)
KEYS = 20  # each a step both processes take together
GOALS = [f"g{i}" for i in range(4)]


@pytest.fixture(scope="module")
def databases():
    with postgres_databases() as fresh:
        yield fresh


@pytest.fixture(params=KINDS)
def url(request, tmp_path):
    return store_url(request, tmp_path)


def ledger_for(url: str):
    from goalwatch.alerting.ledger import Ledger
    from goalwatch.data.store import Store

    ledger = Ledger(Store(url=url))
    ledger.states([])  # the store migrated now, before any race
    return ledger


def post_digests(barrier, n: int, url: str) -> list[str]:
    """post_once each key the moment the other process does; the keys this one planned."""
    ledger = ledger_for(url)
    planned = []
    for i in range(KEYS):
        key = f"digest.growth.{i}"
        payloads = [{"channel": "#growth", "text": f"{key} from {n}"}, {"channel": "#growth", "text": "more"}]
        barrier.wait()
        with ledger.engine.begin() as conn:
            if ledger.post_once(conn, key=key, channel="#growth", payloads=payloads, as_of=DAY) is not None:
                planned.append(key)
    ledger.engine.dispose()
    return planned


def test_two_processes_posting_once_make_one_message(url):
    first, second = race(post_digests, url)

    # Each key planned by exactly one of them: 20 keys, each a message and its continuation.
    assert sorted(first + second) == sorted(f"digest.growth.{i}" for i in range(KEYS))
    ledger = ledger_for(url)
    intents = ledger.intents()
    assert len(intents) == 2 * KEYS
    assert sorted(i.key for i in intents) == sorted(
        k for i in range(KEYS) for k in (f"digest.growth.{i}", f"digest.growth.{i}.1")
    )
    assert sorted(i.seq for i in intents) == list(range(1, 2 * KEYS + 1))
    ledger.engine.dispose()


def add_intents(barrier, n: int, url: str, message_id: int) -> list[str]:
    ledger = ledger_for(url)
    made = []
    for i in range(KEYS):
        barrier.wait()
        with ledger.engine.begin() as conn:
            made.append(
                ledger.add_intent(conn, kind="upload", message_id=message_id, payload={}, key=f"c.{n}.{i}", as_of=DAY)
            )
    ledger.engine.dispose()
    return made


def test_racing_intents_get_distinct_numbers(url):
    ledger = ledger_for(url)
    with ledger.engine.begin() as conn:
        message_id = ledger.new_message(conn, channel="#growth", key="g.2026-11-01.off_track")

    made = race(add_intents, url, message_id)

    intents = ledger.intents()
    assert sorted(i.id for i in intents) == sorted(made[0] + made[1])
    # 40 increments of a counter that started at 0, none rolled back: 1 to 40, each once.
    assert sorted(i.seq for i in intents) == list(range(1, 2 * KEYS + 1))
    ledger.engine.dispose()


def write_config(folder):
    from goalwatch.config import load_config

    folder.mkdir(exist_ok=True)
    goals = "".join(f"  - {{name: {g}, metric: revenue, period: month, target: 3000}}\n" for g in GOALS)
    (folder / "goals.yml").write_text(f"metrics:\n  revenue: {{source: {{path: r.csv}}}}\ngoals:\n{goals}")
    return load_config(folder / "goals.yml")


STEPS = [  # (day, status, severity): opened, then worse... better, then resolved
    (date(2026, 11, 10), "off_track", "critical"),
    (date(2026, 11, 11), "at_risk", "warning"),
    (date(2026, 11, 12), "on_track", None),
]


def plan_steps(barrier, n: int, url: str, folder: str) -> None:
    """Plan each day's verdicts (every goal in a channel of its own) together with the other."""
    from pathlib import Path

    from goalwatch.alerting.plan import plan

    ledger = ledger_for(url)
    config = write_config(Path(folder))
    for day, status, severity in STEPS:
        verdicts = [
            dataclasses.replace(monthly_verdict(status, severity, goal=g, as_of=day), channel=f"#{g}") for g in GOALS
        ]
        barrier.wait()
        plan(verdicts, [], config=config, ledger=ledger)
    ledger.engine.dispose()


def test_two_evaluations_planning_the_same_verdicts_say_each_thing_once(url, tmp_path):
    from goalwatch.alerting.tables import alert_messages

    race(plan_steps, url, str(tmp_path / "config"))

    ledger = ledger_for(url)
    with ledger.engine.connect() as conn:
        messages = conn.execute(alert_messages.select().order_by(alert_messages.c.id)).mappings().all()
    for g in GOALS:
        mine = [m for m in messages if m["key"].startswith(f"{g}.")]
        (parent,) = [m for m in mine if m["parent_id"] is None]
        assert parent["key"] == f"{g}.2026-11-01.off_track"
        assert sorted(m["key"] for m in mine if m["parent_id"] == parent["id"]) == [
            f"{g}.2026-11-01.resolved.2026-11-12.on_track",
            f"{g}.2026-11-01.transition.2026-11-11.at_risk",
        ]
        assert [(t["from_status"], t["to_status"], t["as_of"]) for t in ledger.transitions(g)] == [
            (None, "off_track/critical", STEPS[0][0]),
            ("off_track/critical", "at_risk/warning", STEPS[1][0]),
            ("at_risk/warning", "on_track", STEPS[2][0]),
        ]
        (state,) = ledger.states([(g, NOV_1, "")]).values()
        assert (state.status, state.message_id, state.as_of) == ("on_track", parent["id"], STEPS[2][0])
        # Three posts (the message, two replies); two renderings of the message, the older dropped.
        intents = [i for i in ledger.intents() if i.message_id in {m["id"] for m in mine}]
        assert sorted((i.kind, i.state) for i in intents) == [("post", "pending")] * 3 + [
            ("update", "dropped"),
            ("update", "pending"),
        ]
    ledger.engine.dispose()


# -- the delivery API ---------------------------------------------------------------------------


def planned_post(ledger, key: str = "g.2026-11-01.off_track"):
    with ledger.engine.begin() as conn:
        message_id = ledger.new_message(conn, channel="#growth", key=key)
        ledger.add_intent(conn, kind="post", message_id=message_id, payload={"text": key}, key=key, as_of=DAY)
    return next(i for i in ledger.intents() if i.key == key)


def test_an_attempt_keeps_the_moment_of_the_first(url):
    ledger = ledger_for(url)
    intent = planned_post(ledger)
    first = datetime(2026, 11, 16, 1, 2, 3, tzinfo=timezone(timedelta(hours=-8)))  # 09:02:03 UTC

    assert ledger.attempt(intent, now=first) == datetime(2026, 11, 16, 9, 2, 3, tzinfo=UTC)
    assert ledger.attempt(intent, now=first + timedelta(minutes=5)) == datetime(2026, 11, 16, 9, 2, 3, tzinfo=UTC)
    (again,) = ledger.pending()
    assert (again.attempts, again.first_attempt) == (2, datetime(2026, 11, 16, 9, 2, 3, tzinfo=UTC))
    assert again.first_attempt.utcoffset() == timedelta(0)
    ledger.engine.dispose()


def test_a_failed_intent_leaves_the_pending_ones(url):
    ledger = ledger_for(url)
    failing, other = planned_post(ledger, "a.2026-11-01.off_track"), planned_post(ledger, "b.2026-11-01.off_track")
    ledger.fail(failing, "not_in_channel")

    assert [i.key for i in ledger.pending()] == [other.key]
    (failed,) = ledger.failures()
    assert (failed.id, failed.state, failed.error) == (failing.id, "failed", "not_in_channel")
    assert ledger.failures(since=DAY) == [failed]
    assert ledger.failures(since=DAY + timedelta(days=1)) == []
    ledger.engine.dispose()


def test_an_update_that_posted_a_replacement_records_where_it_is(url):
    ledger = ledger_for(url)
    post = planned_post(ledger)
    ledger.sent(post, ts="1.0001", channel_id="C1")
    with ledger.engine.begin() as conn:
        ledger.add_intent(conn, kind="update", message_id=post.message_id, payload={}, key="u", as_of=DAY)
    (update,) = ledger.pending()

    ledger.sent(update)  # updated in place: the message stays where it was
    assert (ledger.message(post.message_id).ts, ledger.message(post.message_id).channel_id) == ("1.0001", "C1")
    ledger.sent(update, ts="2.0002", channel_id="C1")  # the old message was gone: a new one was posted
    assert (ledger.message(post.message_id).ts, ledger.message(post.message_id).channel_id) == ("2.0002", "C1")
    ledger.engine.dispose()


def test_recent_posts_are_those_first_attempted_since(url):
    ledger = ledger_for(url)
    old, new = planned_post(ledger, "a.2026-11-01.off_track"), planned_post(ledger, "b.2026-11-01.off_track")
    ledger.attempt(old, now=datetime(2026, 11, 16, 8, tzinfo=UTC))
    ledger.attempt(new, now=datetime(2026, 11, 16, 10, tzinfo=UTC))
    ledger.sent(old, ts="1.0", channel_id="C1")
    ledger.sent(new, ts="2.0", channel_id="C1")

    ((intent, message),) = ledger.recent_posts(since=datetime(2026, 11, 16, 9, tzinfo=UTC))
    assert (intent.id, message.id, message.key, message.ts) == (new.id, new.message_id, new.key, "2.0")
    assert [
        i.id for i, _ in ledger.recent_posts(since=datetime(2026, 11, 16, 4, tzinfo=timezone(-timedelta(hours=5))))
    ] == [new.id]
    assert len(ledger.recent_posts(since=datetime(2026, 11, 16, 7, tzinfo=UTC))) == 2
    ledger.engine.dispose()


def test_a_deletion_is_recorded_once(url):
    ledger = ledger_for(url)
    recorded = [
        ledger.record_deletion(message_id=1, channel_id="C1", ts="3.0", intent_id="abc", reason="duplicate of 1.0")
        for _ in range(2)
    ]
    assert recorded == [True, False]
    (deleted,) = ledger.deletions()
    assert {k: deleted[k] for k in ("message_id", "channel_id", "ts", "intent_id", "reason")} == {
        "message_id": 1,
        "channel_id": "C1",
        "ts": "3.0",
        "intent_id": "abc",
        "reason": "duplicate of 1.0",
    }
    assert deleted["at"].utcoffset() == timedelta(0)
    ledger.engine.dispose()


def claim_each(barrier, n: int, url: str, ids: list[str]) -> list[str]:
    """Claim each intent the moment the other process does; the ids this one took."""
    ledger = ledger_for(url)
    taken = []
    for intent in [i for i in ledger.intents() if i.id in ids]:
        barrier.wait()
        if ledger.claim(intent, f"sender{n}"):
            taken.append(intent.id)
    ledger.engine.dispose()
    return taken


def test_of_two_senders_claiming_an_intent_one_takes_it(url):
    ledger = ledger_for(url)
    ids = [planned_post(ledger, f"g{i}.2026-11-01.off_track").id for i in range(KEYS)]
    first, second = race(claim_each, url, ids)
    assert sorted(first + second) == sorted(ids) and not set(first) & set(second)
    ledger.engine.dispose()


def test_a_claim_is_released_lapses_and_never_takes_a_settled_intent(url):
    ledger = ledger_for(url)
    intent, other = planned_post(ledger, "a.2026-11-01.off_track"), planned_post(ledger, "b.2026-11-01.off_track")
    assert ledger.claim(intent, "one") and not ledger.claim(intent, "two")
    ledger.release(intent, "two")  # not the holder: changes nothing
    assert not ledger.claim(intent, "two")
    ledger.release(intent, "one")
    assert ledger.claim(intent, "two")
    assert ledger.claim(other, "one", lease=timedelta(seconds=-1))  # its sender died: the claim has lapsed
    assert ledger.claim(other, "two")
    ledger.sent(other, ts="1.0", channel_id="C1")
    ledger.release(other, "two")
    assert not ledger.claim(other, "three") and ledger.state(other) == "sent"
    ledger.engine.dispose()


def deliver_now(barrier, n: int, url: str) -> dict:
    from goalwatch.alerting.send import deliver
    from goalwatch.runtime.slack import SlackDelivery

    ledger = ledger_for(url)
    delivery = SlackDelivery(conn_id="slack_api_default", rate=0)
    barrier.wait()
    outcome = deliver(ledger, delivery).as_dict()
    ledger.engine.dispose()
    return outcome


def test_two_runs_sending_at_once_post_each_message_once(url, monkeypatch):
    from tests.fakes.slack import FakeSlack

    ledger = ledger_for(url)
    keys = [f"g{i}.2026-11-01.off_track" for i in range(KEYS)]
    with ledger.engine.begin() as conn:
        for key in keys:
            message_id = ledger.new_message(conn, channel=f"#c{key[1:3].strip('.')}", key=key)
            payload = {"channel": f"#c{key[1:3].strip('.')}", "text": key}
            ledger.add_intent(conn, kind="post", message_id=message_id, payload=payload, key=key, as_of=DAY)
    with FakeSlack(token="xoxb-test-not-a-real-token") as slack:
        monkeypatch.setenv("AIRFLOW_CONN_SLACK_API_DEFAULT", slack.connection_json())
        outcomes = race(deliver_now, url)
        assert sorted(k for o in outcomes for k in o["sent"]) == sorted(keys)  # each sent by one of them
        assert sorted(m["text"] for m in slack.messages) == sorted(keys)  # each posted once
    assert ledger.pending() == [] and all(i.claim is None for i in ledger.intents())
    ledger.engine.dispose()
