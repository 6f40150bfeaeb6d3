"""The triggerer's Redis listener against a real redis-server (Debian's package, on 127.0.0.1):
every message of a burst becomes an event, in order, as the DAG will read it."""

from __future__ import annotations

import asyncio
import json
from datetime import date

import pytest

from goalwatch.runtime.events import MESSAGES_URI, announcement
from goalwatch.runtime.triggers import RedisMessages
from tests.servers import redis


@pytest.fixture(scope="module")
def server():
    with redis() as r:
        yield r


async def listen(trigger: RedisMessages, publish, count: int, *, timeout: float = 20) -> list:
    """Run the trigger as the triggerer does; ``publish`` once it is subscribed; the first ``count`` events."""
    events = []
    runner = trigger.run()

    async def collect():
        async for event in runner:
            events.append(event)
            if len(events) == count:
                return

    task = asyncio.ensure_future(collect())
    client = trigger_client(trigger)
    while not task.done() and client.pubsub_numsub(*trigger.channels)[0][1] == 0:
        await asyncio.sleep(0.05)
    publish()
    await asyncio.wait_for(task, timeout)
    await runner.aclose()
    return events


def trigger_client(trigger: RedisMessages):
    from airflow.providers.redis.hooks.redis import RedisHook

    return RedisHook(redis_conn_id=trigger.redis_conn_id).get_conn()


def test_a_burst_of_messages_gives_one_event_each_in_order(server, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_REDIS_BURST", server.connection_json())
    trigger = RedisMessages(channels="goalwatch", redis_conn_id="redis_burst", poll_interval=0.2)
    sent = [json.dumps({"metric": "new_users", "as_of": f"2026-11-{day:02d}"}) for day in range(1, 31)]
    client = server.client()

    def publish():
        for text in sent:  # all at once: no pause between them
            client.publish("goalwatch", text)
        client.publish("elsewhere", json.dumps({"metric": "new_users", "as_of": "2026-12-01"}))

    events = asyncio.run(listen(trigger, publish, len(sent)))

    assert [e.payload["data"] for e in events] == sent
    assert {e.payload["channel"] for e in events} == {"goalwatch"}
    # What the watcher puts on the asset event reads as the day each message announced.
    days = [announcement(MESSAGES_URI, {"from_trigger": True, "payload": e.payload}, ["new_users"]) for e in events]
    assert [a.as_of for a in days] == [date(2026, 11, d) for d in range(1, 31)]


def test_it_serializes_to_itself_for_the_triggerer():
    trigger = RedisMessages(channels=["a", "b"], redis_conn_id="queue", poll_interval=0.5)
    path, kwargs = trigger.serialize()
    module, name = path.rsplit(".", 1)
    rebuilt = getattr(__import__(module, fromlist=[name]), name)(**kwargs)
    assert (rebuilt.channels, rebuilt.redis_conn_id, rebuilt.poll_interval) == (["a", "b"], "queue", 0.5)


def test_the_listener_survives_redis_going_away_and_hears_what_comes_after(monkeypatch):
    with redis() as server:
        monkeypatch.setenv("AIRFLOW_CONN_REDIS_FLAKY", server.connection_json())
        trigger = RedisMessages(channels="goalwatch", redis_conn_id="redis_flaky", poll_interval=0.2)
        client = server.client()

        async def scenario():
            events = []
            runner = trigger.run()
            task = asyncio.ensure_future(runner.__anext__())
            while client.pubsub_numsub("goalwatch")[0][1] == 0:
                await asyncio.sleep(0.05)
            server.stop()
            await asyncio.sleep(1)
            lost = False
            try:
                client.publish("goalwatch", "while down")
            except Exception:
                lost = True
            server.start()
            deadline = asyncio.get_running_loop().time() + 20
            while server.client().pubsub_numsub("goalwatch")[0][1] == 0:
                assert asyncio.get_running_loop().time() < deadline, "it never listened again"
                await asyncio.sleep(0.1)
            server.client().publish("goalwatch", json.dumps({"metric": "new_users", "as_of": "2026-11-15"}))
            events.append(await asyncio.wait_for(task, 20))
            await runner.aclose()
            return lost, events

        lost, events = asyncio.run(scenario())
    assert lost  # pub/sub keeps nothing while Redis is down: the scheduled ingest covers that day
    assert [e.payload["data"] for e in events] == [json.dumps({"metric": "new_users", "as_of": "2026-11-15"})]
