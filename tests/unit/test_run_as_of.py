"""Which day a run is about: from the run (logical date, triggering events, run_after), never the
clock; and what each shape of event announces (the ingest's publish, a REST event, a Redis
message), with one warning and no verdict for a bad one."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from goalwatch.runtime.events import BadEvent, announcement
from goalwatch.runtime.tasks import NothingAnnounced, announced, run_as_of

LA = "America/Los_Angeles"
METRICS = ("new_users", "revenue")


def asset(uri: str) -> SimpleNamespace:
    return SimpleNamespace(uri=uri, name=uri)


def event(uri: str = "goalwatch://metrics/new_users", **extra) -> SimpleNamespace:
    return SimpleNamespace(asset=asset(uri), extra=extra)


def message(data, channel: str = "goalwatch") -> SimpleNamespace:
    """What the Redis watcher's event carries (the trigger's message under ``payload``)."""
    text = data if isinstance(data, str) else json.dumps(data)
    payload = {"type": "message", "pattern": None, "channel": channel, "data": text}
    return event("goalwatch://messages", from_trigger=True, payload=payload)


def runs(*events, run_after=datetime(2027, 1, 1, tzinfo=UTC)) -> dict:
    grouped: dict[str, list] = {}
    for e in events:
        grouped.setdefault(e.asset.uri, []).append(e)
    return {"triggering_asset_events": grouped, "dag_run": SimpleNamespace(run_after=run_after)}


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        pytest.param(
            {"logical_date": datetime(2026, 11, 16, 8, 15, tzinfo=UTC)},
            date(2026, 11, 15),
            id="scheduled-run-at-00:15-LA",
        ),
        pytest.param(
            {"logical_date": datetime(2026, 11, 16, 7, 59, tzinfo=UTC)},
            date(2026, 11, 14),
            id="23:59-LA-the-day-is-not-over",
        ),
        pytest.param(
            runs(
                event(as_of="2026-11-14"),
                event("goalwatch://metrics/revenue", as_of="2026-11-15"),
                event("goalwatch://metrics/revenue"),
            ),
            date(2026, 11, 15),
            id="asset-run-takes-the-newest-announced-day",
        ),
        pytest.param(
            runs(event(), run_after=datetime(2026, 11, 20, 12, tzinfo=UTC)),
            date(2026, 11, 19),
            id="event-without-as-of-falls-back-to-run-after",
        ),
        pytest.param(
            # 07:00 UTC on the 16th is 23:00 on the 15th in LA: the 14th is the last ended day.
            runs(event(moment="2026-11-16T07:00:00+00:00"), message({"metric": "revenue", "as_of": "2026-11-13"})),
            date(2026, 11, 14),
            id="an-instant-is-its-last-ended-day-and-the-newest-wins",
        ),
        pytest.param(
            runs(message({"metric": "revenue", "as_of": "2026-11-15"}), event(as_of="2026-11-12")),
            date(2026, 11, 15),
            id="a-redis-message-counts-like-a-rest-event",
        ),
        pytest.param(
            {"logical_date": None, "dag_run": SimpleNamespace(run_after=datetime(2026, 3, 9, 9, tzinfo=UTC))},
            date(2026, 3, 8),
            id="manual-run-without-logical-date",
        ),
    ],
)
def test_run_as_of(context, expected):
    assert run_as_of(context, LA, metrics=METRICS) == expected


def test_a_logical_date_wins_over_events():
    context = {"logical_date": datetime(2026, 2, 1, 12, tzinfo=UTC), **runs(event(as_of="2026-11-15"))}
    assert run_as_of(context, "UTC") == date(2026, 1, 31)


def test_each_shape_of_event_announces_its_metric_and_day():
    rest = announcement("goalwatch://metrics/revenue", {"as_of": "2026-11-15", "from_rest_api": True}, METRICS)
    assert (rest.metric, rest.as_of, rest.moment, rest.via) == ("revenue", date(2026, 11, 15), None, "rest")
    moment = datetime(2026, 11, 16, 8, 15, tzinfo=UTC)
    ingest = {"metric": "new_users", "as_of": "2026-11-15", "moment": moment.isoformat(), "rows": 3}
    published = announcement("goalwatch://metrics/new_users", ingest, METRICS)
    assert (published.metric, published.moment, published.via) == ("new_users", moment, "event")
    redis = message({"metric": "new_users", "moment": "2026-11-16T08:15:00Z"}).extra
    heard = announcement("goalwatch://messages", redis, METRICS)
    assert (heard.metric, heard.moment, heard.via) == ("new_users", moment, "redis")


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        pytest.param(message("new_users 2026-11-15"), ["channel goalwatch", "not JSON", "'new_users 2026-11-15'"]),
        pytest.param(message("[1, 2]"), ["not a JSON object"]),
        pytest.param(message({"as_of": "2026-11-15"}), ["no 'metric'", '{"metric": "new_users"']),
        pytest.param(message({"metric": "signups", "as_of": "2026-11-15"}), ["unknown metric 'signups'", "new_users"]),
        pytest.param(message({"metric": "revenue", "as_of": "15/11/2026"}), ["as_of '15/11/2026'", "YYYY-MM-DD"]),
        pytest.param(message({"metric": "revenue", "moment": "yesterday"}), ["moment 'yesterday'", "ISO 8601"]),
        pytest.param(message({"metric": "revenue", "moment": "2026-11-15T10:00"}), ["no UTC offset"]),
        pytest.param(event(as_of="2026-13-01"), ["goalwatch://metrics/new_users", "as_of '2026-13-01'"]),
        pytest.param(event(metric="revenue", as_of="2026-11-15"), ["extra.metric is 'revenue'", "new_users"]),
        pytest.param(event("s3://bucket/file", as_of="2026-11-15"), ["s3://bucket/file", "not a goalwatch metric"]),
    ],
)
def test_a_bad_event_is_one_warning_and_no_verdict(bad, words, caplog):
    with pytest.raises(BadEvent) as raised:
        announcement(bad.asset.uri, bad.extra, METRICS)
    for word in words:
        assert word in str(raised.value)
    caplog.set_level(logging.WARNING)
    with pytest.raises(NothingAnnounced):
        announced(runs(bad), METRICS)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [f"Ignored: {raised.value}"]


def test_a_bad_event_does_not_stop_the_good_ones_in_the_same_run(caplog):
    caplog.set_level(logging.WARNING)
    context = runs(message("not json"), event(as_of="2026-11-14"), message({"metric": "nope"}))
    assert run_as_of(context, LA, metrics=METRICS) == date(2026, 11, 14)
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 2


def test_a_long_bad_message_is_quoted_short():
    with pytest.raises(BadEvent) as raised:
        announcement("goalwatch://messages", message("x" * 5000).extra, METRICS)
    assert len(str(raised.value)) < 300


def test_a_sweeps_nudge_announces_nothing_itself():
    nudge = event("goalwatch://messages/", stranded=[6, 7])
    # The run it starts carries the stranded events themselves: those are what it judges.
    assert run_as_of(runs(nudge, event(as_of="2026-11-13")), LA, metrics=METRICS) == date(2026, 11, 13)
    # Alone (another run judged them first), it must not fall back to the clock's day.
    with pytest.raises(NothingAnnounced, match="judged by another run already"):
        announced(runs(nudge), METRICS)


def test_an_asset_triggered_run_without_events_judges_nothing_not_the_clocks_day():
    context = {
        "triggering_asset_events": {},
        "dag_run": SimpleNamespace(run_after=datetime(2027, 1, 1, tzinfo=UTC), run_type="asset_triggered"),
    }
    with pytest.raises(NothingAnnounced, match="no asset event"):
        run_as_of(context, LA, metrics=METRICS)
    # A manual run without a logical date still takes its run_after.
    manual = {**context, "dag_run": SimpleNamespace(run_after=datetime(2026, 3, 9, 9, tzinfo=UTC), run_type="manual")}
    assert run_as_of(manual, LA, metrics=METRICS) == date(2026, 3, 8)
