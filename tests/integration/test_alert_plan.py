"""What the alert ledger plans: the transition table, grouping within Slack's limits, silences and
reminders. Delivered to the outbox (no Slack needed) or, for the limits, to the fake Slack API."""

from __future__ import annotations

import dataclasses
import functools
import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from goalwatch.alerting.delivery import Outbox
from goalwatch.alerting.ledger import Ledger
from goalwatch.alerting.plan import plan
from goalwatch.alerting.send import deliver
from goalwatch.config import Config, load_config
from goalwatch.data.store import Store
from goalwatch.runtime.slack import SlackDelivery
from tests.factories import users_verdict

START, END = date(2026, 11, 1), date(2026, 11, 30)
STATUSES = [
    ("on_track", None),
    ("at_risk", "warning"),
    ("off_track", "warning"),
    ("off_track", "critical"),
    ("missed", "critical"),
    ("achieved", None),
]


# The goals of ``write_config``: users, 3,000 in November, forecast to fall short (2,900).
verdict = functools.partial(
    users_verdict, channel="#growth", pace=0.95, forecast=(2900, 2800, 3000), miss_probability=0.9
)


def config_of(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "config" / "goals.yml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return load_config(path)


def write_config(tmp_path: Path, goals: list[str], extra: str = "") -> Config:
    lines = "".join(f"  - {{name: {g}, metric: users, period: month, target: 3000}}\n" for g in goals)
    return config_of(
        tmp_path, f"renotify_days: 3\n{extra}metrics:\n  users: {{source: {{path: u.csv}}}}\ngoals:\n{lines}"
    )


@pytest.fixture
def ledger(tmp_path):
    return Ledger(Store(url=f"sqlite:///{tmp_path / 'store.db'}"))


def run(ledger, config, verdicts, outbox):
    summary = plan(verdicts, [], config=config, ledger=ledger)
    outcome = deliver(ledger, Outbox(outbox))
    assert outcome.failed == [] and outcome.waiting == []
    return summary


def closed(status: str) -> bool:
    return status in ("missed", "achieved")


@pytest.mark.parametrize("before", STATUSES, ids=lambda s: "/".join(filter(None, s)))
@pytest.mark.parametrize("after", STATUSES, ids=lambda s: "/".join(filter(None, s)))
def test_every_pair_of_statuses(tmp_path, ledger, before, after):
    if closed(before[0]):
        pytest.skip("a closed period has no later day")
    config = write_config(tmp_path, ["g"])
    first_day = START + timedelta(days=9)
    second_day = END if closed(after[0]) else first_day + timedelta(days=1)
    first = run(ledger, config, [verdict("g", first_day, *before)], tmp_path / "outbox")
    second = run(ledger, config, [verdict("g", second_day, *after, pace=0.96)], tmp_path / "outbox")

    opened_first = before[0] != "on_track"
    assert first.get("posted", []) == ([f"g.{before[0]}"] if opened_first else [])
    changed = before != after
    if opened_first:
        # The goal has its message: a change is a reply in its thread, never a second message.
        assert "posted" not in second
        replies = second.get("replied", [])
        if not changed:
            assert replies == []
        elif after[0] == "on_track":
            assert replies == ["g.resolved"]
        elif closed(after[0]):
            assert replies == ["g.final"]
        else:
            assert replies == ["g.transition"]
        assert second.get("updated"), "new numbers update the message in place"
    else:
        # Nothing said yet: the first status that needs attention opens the message.
        assert second.get("posted", []) == ([] if after[0] == "on_track" else [f"g.{after[0]}"])
        assert "replied" not in second
    label = lambda s: "/".join(filter(None, s))
    expected = [] if before[0] == "on_track" else [(None, label(before))]
    if changed:
        expected.append((label(before), label(after)))
    assert [(t["from_status"], t["to_status"]) for t in ledger.transitions("g")] == expected


def test_a_rerun_of_the_same_day_sends_nothing(tmp_path, ledger):
    config = write_config(tmp_path, ["g"])
    day = START + timedelta(days=5)
    run(ledger, config, [verdict("g", day, "off_track", "critical")], tmp_path / "outbox")
    again = run(ledger, config, [verdict("g", day, "off_track", "critical")], tmp_path / "outbox")
    assert again == {}


def test_a_persistent_critical_status_is_repeated_only_every_few_days(tmp_path, ledger):
    config = write_config(tmp_path, ["g"])
    replies = []
    for offset in range(8):
        day = START + timedelta(days=offset)
        replies.append(
            run(
                ledger,
                config,
                [verdict("g", day, "off_track", "critical", pace=0.85 + offset / 1000)],
                tmp_path / "outbox",
            ).get("replied", [])
        )
    # Opened on day 1, reminded on days 4 and 7 (renotify_days: 3), silent in between.
    assert [i for i, r in enumerate(replies) if r] == [3, 6]
    assert replies[3] == ["g.reminder"]


def test_goals_changing_together_share_a_message_within_slacks_limits(tmp_path, ledger, fake_slack, monkeypatch):
    goals = [f"g{i:03d}" for i in range(120)]
    config = write_config(tmp_path, goals)
    day = START + timedelta(days=9)
    summary = plan(
        [verdict(g, day, "off_track", "critical", label=f"Goal {g} " + "x" * 80) for g in goals],
        [],
        config=config,
        ledger=ledger,
    )
    assert sorted(summary["posted"]) == sorted(f"{g}.off_track" for g in goals)
    posts = [i for i in ledger.intents() if i.kind == "post"]
    # One message and its continuations in the thread: far fewer than 120, each within the limits.
    assert 1 < len(posts) <= 4
    named = [g for p in posts for g in goals if f"Goal {g} " in json.dumps(p.payload)]
    assert sorted(named) == sorted(goals), "every goal appears exactly once"
    for p in posts:
        assert len(p.payload["blocks"]) <= 50
        assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in p.payload["blocks"])
    monkeypatch.setenv("AIRFLOW_CONN_SLACK_API_DEFAULT", fake_slack.connection_json())
    outcome = deliver(ledger, SlackDelivery(conn_id="slack_api_default", rate=0))
    assert outcome.failed == [] and len(fake_slack.posted()) == len(posts)
    top = [m for m in fake_slack.messages if m["thread_ts"] is None]
    assert len(top) == 1 and all(m["thread_ts"] == top[0]["ts"] for m in fake_slack.messages if m is not top[0])


def test_a_deleted_continuation_is_posted_anew_in_its_thread(tmp_path, ledger, fake_slack, monkeypatch):
    goals = [f"g{i:03d}" for i in range(120)]
    config = write_config(tmp_path, goals)
    monkeypatch.setenv("AIRFLOW_CONN_SLACK_API_DEFAULT", fake_slack.connection_json())
    day = START + timedelta(days=9)

    def run_day(day: date, pace: float) -> tuple[dict, list[dict]]:
        label = {g: f"Goal {g} " + "x" * 80 for g in goals}
        plan(
            [verdict(g, day, "off_track", "critical", label=label[g], pace=pace) for g in goals],
            [],
            config=config,
            ledger=ledger,
        )
        outcome = deliver(ledger, SlackDelivery(conn_id="slack_api_default", rate=0))
        assert outcome.failed == [] and outcome.refused == []
        [top] = [m for m in fake_slack.messages if m["thread_ts"] is None]
        return top, [m for m in fake_slack.messages if m["thread_ts"] == top["ts"]]

    top, parts = run_day(day, 0.85)
    assert "Goal g119 " in json.dumps(parts[-1]["blocks"])
    fake_slack.delete_message("#growth", parts[-1]["ts"])  # someone deletes the last continuation
    again, now = run_day(day + timedelta(days=1), 0.84)  # every goal's numbers move: each part is updated
    # The continuation came back where it belongs: in the thread, not as a message of its own.
    assert again["ts"] == top["ts"] and len(now) == len(parts)
    assert now[-1]["ts"] != parts[-1]["ts"] and "Goal g119 " in json.dumps(now[-1]["blocks"])
    assert "84.0% of pace" in json.dumps(now[-1]["blocks"])


@pytest.mark.parametrize("until, sent", [("2026-11-20", False), ("2026-11-05", True)], ids=["active", "expired"])
def test_a_silence_records_but_does_not_send(tmp_path, ledger, until, sent):
    silence = f"silences:\n  - {{goal: g, until: {until}, reason: pricing change}}\n"
    config = write_config(tmp_path, ["g"], extra=silence)
    day = START + timedelta(days=9)  # 2026-11-10
    summary = run(ledger, config, [verdict("g", day, "off_track", "critical")], tmp_path / "outbox")
    assert bool(summary.get("posted")) is sent
    assert bool(summary.get("silenced")) is not sent
    assert [t["to_status"] for t in ledger.transitions("g")] == ["off_track/critical"]


def test_when_a_silence_ends_the_current_state_is_sent(tmp_path, ledger):
    config = write_config(tmp_path, ["g"])
    ledger.add_silence(goal="g", segment=None, until=START + timedelta(days=10), reason="known outage")
    day = START + timedelta(days=9)
    held = run(ledger, config, [verdict("g", day, "off_track", "critical")], tmp_path / "outbox")
    assert held.get("silenced") and not held.get("posted")
    released = run(
        ledger, config, [verdict("g", day + timedelta(days=2), "off_track", "critical")], tmp_path / "outbox"
    )
    assert released.get("posted") == ["g.off_track"]


def test_segments_keep_their_own_state_without_messages(tmp_path, ledger):
    config = write_config(tmp_path, ["g"])
    day = START + timedelta(days=9)
    total = verdict("g", day, "off_track", "critical")
    apac = dataclasses.replace(verdict("g", day, "off_track", "critical"), segment="APAC")
    na = dataclasses.replace(verdict("g", day, "on_track", None), segment="NA")
    summary = run(ledger, config, [apac, na, total], tmp_path / "outbox")
    assert summary["posted"] == ["g.off_track"]  # one message, the goal's
    assert [t["to_status"] for t in ledger.transitions("g", segment="APAC")] == ["off_track/critical"]
    later = dataclasses.replace(apac, as_of=day + timedelta(days=1), status="on_track", severity=None)
    run(
        ledger,
        config,
        [later, dataclasses.replace(na, as_of=later.as_of), dataclasses.replace(total, as_of=later.as_of)],
        tmp_path / "outbox",
    )
    assert [(t["from_status"], t["to_status"]) for t in ledger.transitions("g", segment="APAC")] == [
        (None, "off_track/critical"),
        ("off_track/critical", "on_track"),
    ]
    assert ledger.transitions("g", segment="NA") == []


def test_owners_are_mentioned_on_critical_and_missed_only(tmp_path, ledger):
    config = config_of(
        tmp_path,
        "metrics:\n  users: {source: {path: u.csv}}\ngoals:\n"
        "  - {name: g, metric: users, period: month, target: 3000, notify: {mention: ['<!subteam^S0GROWTH>']}}\n",
    )
    outbox = tmp_path / "outbox"
    day = START + timedelta(days=9)
    steps = [("at_risk", "warning"), ("off_track", "critical"), ("off_track", "critical"), ("on_track", None)]
    for offset, (status, severity) in enumerate(steps):
        run(ledger, config, [verdict("g", day + timedelta(days=offset), status, severity)], outbox)
    posts = [i for i in ledger.intents() if i.kind == "post"]
    mentioned = ["<!subteam^S0GROWTH>" in i.payload["text"] for i in posts]
    # The at-risk message: no; the change to critical: yes; the recovery: no.
    assert mentioned == [False, True, False]
    updates = [i for i in ledger.intents() if i.kind == "update"]
    assert updates[-1].payload["blocks"][0]["text"]["text"].startswith(":white_check_mark: Resolved")


def test_a_data_issue_goes_to_the_metric_owners_once_a_day(tmp_path, ledger):
    from goalwatch.core.findings import Finding, QualityReport

    config = config_of(
        tmp_path,
        "metrics:\n  users: {source: {path: u.csv}, owner_channel: '#data-eng'}\n"
        "goals:\n  - {name: g, metric: users, period: month, target: 3000, notify: {channel: '#growth'}}\n",
    )
    day = START + timedelta(days=9)
    report = QualityReport(
        metric="users",
        rows=10,
        findings=(
            Finding(
                expectation="expect_column_values_to_not_be_null",
                column="value",
                unexpected=2,
                examples=("row 3: day=2026-11-04, value=nan",),
            ),
        ),
    )
    issue = verdict("g", day, "off_track", "critical", channel="#growth").with_status(
        "data_issue", note="data checks failed"
    )
    for _ in range(2):
        summary = plan([issue], [report], config=config, ledger=ledger)
    posts = [i for i in ledger.intents() if i.kind == "post"]
    assert [p.payload["channel"] for p in posts] == ["#data-eng"]  # once, to the data owners; no goal verdict
    assert "`expect_column_values_to_not_be_null` on `value`" in json.dumps(posts[0].payload)
    assert "row 3: day=2026-11-04" in json.dumps(posts[0].payload)
    assert summary.get("posted") is None


def test_goal_alerts_resume_where_they_were_once_the_data_passes_again(tmp_path, ledger):
    from goalwatch.core.findings import Finding, QualityReport

    config = write_config(tmp_path, ["g"])
    outbox = tmp_path / "outbox"
    day = START + timedelta(days=9)
    run(ledger, config, [verdict("g", day, "off_track", "critical")], outbox)
    goal_posts = lambda: [
        i for i in ledger.intents() if i.kind in ("post", "update") and i.payload["channel"] == "#growth"
    ]
    assert len(goal_posts()) == 1

    # A day of bad data, then a day late: a data-issue alert each day, nothing in the goal's
    # message or thread.
    bad = QualityReport(
        metric="users",
        rows=10,
        findings=(Finding("expect_column_values_to_be_between", "value", 1, ("value=-40",), title="Negative values"),),
    )
    late = QualityReport(
        metric="users",
        rows=10,
        findings=(
            Finding(
                "expect_column_values_to_not_be_in_set",
                "arrival",
                1,
                ("day=2026-11-12, arrival=late",),
                title="Data late",
                on="days",
                late=True,
            ),
        ),
    )
    for offset, report in ((1, bad), (2, late)):
        issue = verdict("g", day + timedelta(days=offset), "data_issue", None)
        plan([issue], [report], config=config, ledger=ledger)
        deliver(ledger, Outbox(outbox))
    assert len(goal_posts()) == 1
    assert [i.key for i in ledger.intents() if i.payload["channel"] == "#goals"] == [
        "data.users.2026-11-11",
        "data_late.users.2026-11-12",
    ]

    headers = [i.payload["blocks"][0]["text"]["text"] for i in ledger.intents() if i.payload["channel"] == "#goals"]
    assert headers == [":warning: Data issue: metric users", ":hourglass_flowing_sand: Data late: metric users"]

    # The data passes again and the goal is still off track (critical): its message shows the new
    # numbers; no transition is replied, as there was none.
    summary = run(ledger, config, [verdict("g", day + timedelta(days=2), "off_track", "critical", pace=0.8)], outbox)
    assert summary == {"updated": ["g.2026-11-01.off_track"]}
    # Its reminder comes on the day it would have without the data issue in between.
    summary = run(ledger, config, [verdict("g", day + timedelta(days=3), "off_track", "critical", pace=0.8)], outbox)
    assert summary["replied"] == ["g.reminder"]
    # Recovered: the thread hears it.
    summary = run(ledger, config, [verdict("g", day + timedelta(days=4), "on_track", None, pace=1.0)], outbox)
    assert summary["replied"] == ["g.resolved"]


def test_the_alert_is_posted_before_its_chart_is_drawn_and_the_chart_follows_in_its_thread(
    tmp_path, ledger, fake_slack, monkeypatch
):
    from goalwatch.alerting.notify import notify

    config = write_config(tmp_path, ["growth", "signups"])
    day = START + timedelta(days=9)
    drawn: list[tuple[str, int]] = []  # (goal, Slack calls made when it was drawn)
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64

    def chart(v):
        drawn.append((v.goal, len(fake_slack.calls)))
        return png

    monkeypatch.setenv("AIRFLOW_CONN_SLACK_API_DEFAULT", fake_slack.connection_json())
    verdicts = [verdict(g, day, "off_track", "critical") for g in ("growth", "signups")]
    outcome = notify(
        verdicts,
        [],
        config=config,
        ledger=ledger,
        delivery=SlackDelivery(conn_id="slack_api_default", rate=0),
        chart=chart,
        run_id="run-1",
    )

    assert outcome["failed"] == [] and outcome["waiting"] == []
    posts = [c for c in fake_slack.calls if c.method == "chat.postMessage"]
    assert len(posts) == 1 and drawn and drawn[0][1] >= fake_slack.calls.index(posts[0]) + 1
    # The chart of the goal furthest behind, in the post's thread, drawn once.
    assert len(drawn) == 1 and len(fake_slack.files) == 1
    assert fake_slack.files[0]["thread_ts"] == fake_slack.messages[0]["ts"]
    assert fake_slack.files[0]["content"] == png


def test_a_chart_left_to_draw_waits_for_a_sender_that_can_draw_it(tmp_path, ledger, fake_slack, monkeypatch):
    from goalwatch.alerting.uploads import later

    config = write_config(tmp_path, ["growth"])
    day = START + timedelta(days=9)
    plan([verdict("growth", day, "off_track", "critical")], [], config=config, ledger=ledger, chart=later)
    monkeypatch.setenv("AIRFLOW_CONN_SLACK_API_DEFAULT", fake_slack.connection_json())
    delivery = SlackDelivery(conn_id="slack_api_default", rate=0)
    first = deliver(ledger, delivery)  # the watchdog's sender, say: no data to draw with
    assert first.sent == ["growth.2026-11-01.off_track"]  # the post goes
    assert first.waiting == [f"growth.2026-11-01.chart.{day.isoformat()}"] and fake_slack.files == []
    second = deliver(ledger, delivery, render=lambda v: b"\x89PNG drawn for " + v.goal.encode())
    assert second.waiting == [] and [f["content"] for f in fake_slack.files] == [b"\x89PNG drawn for growth"]
    assert fake_slack.files[0]["thread_ts"] == fake_slack.messages[0]["ts"]


def test_a_chart_that_cannot_be_drawn_is_lost_alone(tmp_path, ledger, fake_slack, monkeypatch):
    from goalwatch.alerting.uploads import later

    config = write_config(tmp_path, ["growth", "signups"])
    day = START + timedelta(days=9)
    plan([verdict("growth", day, "off_track", "critical")], [], config=config, ledger=ledger, chart=later)
    monkeypatch.setenv("AIRFLOW_CONN_SLACK_API_DEFAULT", fake_slack.connection_json())
    delivery = SlackDelivery(conn_id="slack_api_default", rate=0)
    deliver(ledger, delivery)  # the post; its chart waits for a sender that can draw

    def broken(v):  # e.g. the goal was renamed in goals.yml since
        raise KeyError(v.goal)

    plan([verdict("signups", day, "off_track", "critical")], [], config=config, ledger=ledger, chart=later)
    outcome = deliver(ledger, delivery, render=broken)
    # The next goal's alert still goes; the chart is given up, not retried forever.
    assert outcome.failed == [] and "signups.2026-11-01.off_track" in outcome.sent
    assert fake_slack.files == [] and ledger.pending() == []
