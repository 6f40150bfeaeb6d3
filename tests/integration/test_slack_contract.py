"""Nothing twice, nothing lost, nothing stuck: goalwatch's delivery against the fake Slack's
documented contract (partial success, lost answers, busy channels, page caps, refusals, deleted
messages, late writes). Each test plans real alerts and sends them the way the notify task does
(``send_pending``, retried as Airflow retries a failed task), through the real slack_sdk client."""

from __future__ import annotations

import functools
import json
import os
import subprocess
from datetime import date, timedelta

import pytest

from goalwatch.alerting.delivery import Outbox
from goalwatch.alerting.ledger import Ledger
from goalwatch.alerting.notify import send_pending
from goalwatch.alerting.plan import plan
from goalwatch.alerting.refusals import UNKNOWN_TRIES
from goalwatch.alerting.send import _Sender, deliver
from goalwatch.config import load_config
from goalwatch.data.store import Store
from goalwatch.errors import DeliveryError
from goalwatch.runtime.slack import SlackDelivery, WebhookDelivery
from tests.conftest import bin_path
from tests.factories import users_verdict
from tests.fakes.slack import DEFAULT_SCOPES, FakeSlack
from tests.faults import notify_task

START = date(2026, 11, 1)
TOKEN = "xoxb-test-not-a-real-token"
CONFIG = """
default_channel: "#goals"
metrics:
  users: {source: {path: u.csv}}
goals:
  - {name: signups, metric: users, period: month, target: 3000, notify: {channel: "#growth"}}
  - {name: revenue, metric: users, period: month, target: 3000, notify: {channel: "#revenue"}}
"""


# The goals of CONFIG: users, 3,000 in November, forecast to fall well short (2,600).
verdict = functools.partial(users_verdict, pace=0.85, forecast=(2600, 2500, 2700), miss_probability=0.9)


@pytest.fixture
def config(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "goals.yml").write_text(CONFIG)
    return load_config(tmp_path / "config" / "goals.yml")


@pytest.fixture
def ledger(tmp_path):
    return Ledger(Store(url=f"sqlite:///{tmp_path / 'store.db'}"))


def slack_at(monkeypatch, **options) -> FakeSlack:
    slack = FakeSlack(token=TOKEN, **options).start()
    monkeypatch.setenv("AIRFLOW_CONN_SLACK_API_DEFAULT", slack.connection_json())
    return slack


@pytest.fixture
def slack(monkeypatch):
    fake = slack_at(monkeypatch)
    yield fake
    fake.stop()


def day_of(ledger, config, day: date, statuses: dict[str, tuple[str, str | None]], *, pace: float = 0.85) -> None:
    channels = {"signups": "#growth", "revenue": "#revenue"}
    verdicts = [verdict(g, day, s, sev, channel=channels[g], pace=pace) for g, (s, sev) in statuses.items()]
    plan(verdicts, [], config=config, ledger=ledger, run_id=f"run-{day}")


def visible(slack: FakeSlack, channel: str) -> list[dict]:
    return [m for m in slack.channel_messages(channel) if m.get("user") != "U0SOMEONE"]


def intent_of(message: dict) -> str | None:
    return ((message.get("metadata") or {}).get("event_payload") or {}).get("intent")


OFF = ("off_track", "critical")


def test_a_post_slack_stored_before_answering_500_is_found_not_posted_again(slack, ledger, config):
    day_of(ledger, config, START + timedelta(days=9), {"signups": OFF})
    slack.fail_next("chat.postMessage", status=500, after_store=True)
    outcome, tries = notify_task(ledger, config)
    assert tries == 2  # the first try failed (so Airflow retried), the retry found the message
    [message] = visible(slack, "#growth")
    assert [c.method for c in slack.calls].count("chat.postMessage") == 1
    [post] = [i for i in ledger.intents() if i.kind == "post"]
    assert post.state == "sent" and intent_of(message) == post.id
    assert ledger.message(post.message_id).ts == message["ts"]


def test_a_lost_answer_is_found_behind_200_messages_with_pages_of_15(monkeypatch, ledger, config):
    slack = slack_at(monkeypatch, page_cap=15)
    try:
        day_of(ledger, config, START + timedelta(days=9), {"signups": OFF})
        slack.fail_next("chat.postMessage", drop=True)
        with pytest.raises(DeliveryError):
            notify_task(ledger, config, tries=1)
        slack.chatter("#growth", 200)  # the channel moves on before the retry
        notify_task(ledger, config)
        assert len(visible(slack, "#growth")) == 1
        reads = [c for c in slack.calls if c.method == "conversations.history"]
        assert len(reads) >= 200 // 15  # paged with cursors, none above the cap
        assert all(r.body.get("oldest") for r in reads)  # bounded by the first attempt
    finally:
        slack.stop()


def test_a_lost_reply_is_found_in_a_long_thread(monkeypatch, ledger, config):
    slack = slack_at(monkeypatch, page_cap=15)
    try:
        day_of(ledger, config, START + timedelta(days=9), {"signups": OFF})
        notify_task(ledger, config)
        [parent] = visible(slack, "#growth")
        for i in range(120):
            slack.post_as_user("#growth", f"on it {i}", thread_ts=parent["ts"])
        day_of(ledger, config, START + timedelta(days=10), {"signups": ("on_track", None)}, pace=1.05)
        slack.fail_next("chat.postMessage", drop=True)
        with pytest.raises(DeliveryError):
            notify_task(ledger, config, tries=1)
        notify_task(ledger, config)
        ours = [m for m in visible(slack, "#growth") if m["thread_ts"] == parent["ts"]]
        assert len(ours) == 1 and ours[0]["text"].startswith("Resolved")
        assert len([c for c in slack.calls if c.method == "conversations.replies"]) >= 120 // 15
    finally:
        slack.stop()


def test_a_channel_without_the_bot_holds_back_nothing_else_and_is_said_once(slack, ledger, config):
    slack.add_channel("#revenue", member=False)
    day_of(ledger, config, START + timedelta(days=9), {"signups": OFF, "revenue": OFF})
    outcome, tries = notify_task(ledger, config)
    assert tries == 1  # a refusal for good does not fail the task
    assert len(visible(slack, "#growth")) == 1  # the other channel's alert went out
    assert visible(slack, "#revenue") == []
    [refused] = [i for i in ledger.intents() if i.state == "failed"]
    assert refused.key.startswith("revenue.") and "not_in_channel" in refused.error
    [notice] = visible(slack, "#goals")
    text = json.dumps(notice["blocks"])
    assert "#revenue" in text and "not_in_channel" in text and "/invite" in text and "revenue" in text

    # The next days: revenue's alerts are not retried forever, nothing fails, signups goes on.
    posts_to_revenue = len(
        [c for c in slack.calls if c.method == "chat.postMessage" and "revenue" in c.body["channel"]]
    )
    notify_task(ledger, config)
    day_of(ledger, config, START + timedelta(days=10), {"signups": ("on_track", None), "revenue": OFF}, pace=1.05)
    _, tries = notify_task(ledger, config)
    assert tries == 1
    assert [i for i in ledger.intents() if i.state == "pending"] == []
    again = len([c for c in slack.calls if c.method == "chat.postMessage" and "revenue" in c.body["channel"]])
    assert again - posts_to_revenue <= 1  # at most one new try on a new day, never a loop
    day_of(ledger, config, START + timedelta(days=11), {"revenue": ("on_track", None)}, pace=1.05)
    notify_task(ledger, config)  # a new message (the recovery) refused the same way
    assert len([i for i in ledger.intents() if i.state == "failed" and i.key.startswith("revenue.")]) >= 3
    assert len(visible(slack, "#goals")) == 1  # the channel still refusing is not news


def test_once_invited_the_next_alert_reaches_the_channel(slack, ledger, config):
    slack.add_channel("#revenue", member=False)
    day_of(ledger, config, START + timedelta(days=9), {"revenue": OFF})
    notify_task(ledger, config)
    assert visible(slack, "#revenue") == []
    slack.add_channel("#revenue", member=True)  # someone typed /invite @goalwatch
    day_of(ledger, config, START + timedelta(days=10), {"revenue": ("on_track", None)}, pace=1.05)
    notify_task(ledger, config)
    assert len([m for m in visible(slack, "#revenue") if m["thread_ts"] is None]) == 1
    assert len(visible(slack, "#goals")) == 1
    slack.remove_bot("#revenue")  # removed again: news again
    day_of(ledger, config, START + timedelta(days=11), {"revenue": OFF})
    notify_task(ledger, config)
    assert len(visible(slack, "#goals")) == 2


def test_an_alert_first_written_to_the_outbox_is_posted_once_slack_is_connected(slack, ledger, config, tmp_path):
    day_of(ledger, config, START + timedelta(days=9), {"signups": OFF})
    send_pending(ledger, Outbox(tmp_path / "outbox"), config=config)
    assert ledger.message([i for i in ledger.intents()][0].message_id).ts.startswith("outbox:")
    day_of(ledger, config, START + timedelta(days=10), {"signups": ("on_track", None)}, pace=1.05)
    outcome, tries = notify_task(ledger, config)
    assert tries == 1
    top = [m for m in visible(slack, "#growth") if m["thread_ts"] is None]
    assert len(top) == 1  # the living message, posted anew in Slack
    replies = [m for m in visible(slack, "#growth") if m["thread_ts"] == top[0]["ts"]]
    assert replies, "the day's news continues in the new message's thread"
    assert [i for i in ledger.intents() if i.state in ("pending", "failed")] == []


def test_a_message_someone_deleted_is_posted_anew_when_it_changes(slack, ledger, config):
    day_of(ledger, config, START + timedelta(days=9), {"signups": OFF})
    notify_task(ledger, config)
    [first] = visible(slack, "#growth")
    slack.delete_message("#growth", first["ts"])
    day_of(ledger, config, START + timedelta(days=10), {"signups": OFF}, pace=0.84)  # numbers move: an update
    _, tries = notify_task(ledger, config)
    assert tries == 1
    top = [m for m in visible(slack, "#growth") if m["thread_ts"] is None]
    assert len(top) == 1 and top[0]["ts"] != first["ts"]
    [post] = [i for i in ledger.intents() if i.key.endswith(".repost")]
    assert ledger.message(post.message_id).ts == top[0]["ts"]
    assert [i for i in ledger.intents() if i.state in ("pending", "failed")] == []


def test_a_late_write_is_deleted_by_the_next_run_and_recorded(monkeypatch, ledger, config):
    monkeypatch.setenv("GOALWATCH_SLACK_TIMEOUT", "1")
    slack = slack_at(monkeypatch)
    try:
        day_of(ledger, config, START + timedelta(days=9), {"signups": OFF})
        slack.fail_next("chat.postMessage", late=2.5)  # stored after the client gave up, and after the lookup
        outcome, tries = notify_task(ledger, config)
        assert tries == 2 and len(visible(slack, "#growth")) == 1  # the retry found nothing, posted
        assert slack.wait_late()
        assert len(visible(slack, "#growth")) == 2  # Slack now holds a twin
        outcome, _ = notify_task(ledger, config)  # the next run heals
        [kept] = visible(slack, "#growth")
        [post] = [i for i in ledger.intents() if i.kind == "post"]
        assert ledger.message(post.message_id).ts == kept["ts"]
        [gone] = slack.deleted
        [record] = ledger.deletions()
        assert record["ts"] == gone["ts"] != kept["ts"] and outcome["deleted"]
        notify_task(ledger, config)
        assert len(slack.deleted) == 1  # healed once
    finally:
        slack.stop()


def test_a_missing_scope_names_the_scope_to_add(monkeypatch, ledger, config):
    slack = slack_at(monkeypatch, scopes=[s for s in DEFAULT_SCOPES if s != "channels:history"])
    try:
        day_of(ledger, config, START + timedelta(days=9), {"signups": OFF, "revenue": OFF})
        slack.fail_next("chat.postMessage", drop=True)  # the retry must read the channel back
        with pytest.raises(DeliveryError):
            notify_task(ledger, config, tries=1)
        notify_task(ledger, config)
        [failed] = [i for i in ledger.intents() if i.state == "failed"]
        assert "missing_scope" in failed.error and "add the channels:history scope" in failed.error
        assert len(visible(slack, "#growth")) == 1  # the lost answer was not posted a second time
        [notice] = visible(slack, "#goals")
        assert "channels:history" in json.dumps(notice["blocks"])
    finally:
        slack.stop()


def test_a_revoked_token_keeps_every_alert_until_it_is_fixed(slack, ledger, config):
    day_of(ledger, config, START + timedelta(days=9), {"signups": OFF, "revenue": OFF})
    slack.revoke()
    with pytest.raises(DeliveryError, match="token_revoked.*put a current one in the Airflow connection"):
        notify_task(ledger, config)
    assert slack.messages == [] and [i for i in ledger.intents() if i.state == "failed"] == []
    slack.reinstate()  # a new token in the connection
    notify_task(ledger, config)
    assert len(visible(slack, "#growth")) == 1 and len(visible(slack, "#revenue")) == 1


def test_slack_check_says_what_to_fix(monkeypatch, tmp_path, config):
    slack = slack_at(monkeypatch, auto_channels=False, scopes=[s for s in DEFAULT_SCOPES if s != "groups:read"])
    try:
        slack.add_channel("#goals")
        slack.add_channel("#growth")
        slack.add_channel("#revenue", member=False)

        def check() -> subprocess.CompletedProcess[str]:
            command = [bin_path("goalwatch"), "slack", "check", "--config", str(tmp_path / "config" / "goals.yml")]
            return subprocess.run(command, capture_output=True, text=True, env=dict(os.environ), timeout=120)

        proc = check()
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "groups:read" in proc.stdout
        [revenue] = [line for line in proc.stdout.splitlines() if "#revenue" in line]
        assert "invite" in revenue.lower()
        assert TOKEN not in proc.stdout + proc.stderr
        slack.scopes = DEFAULT_SCOPES
        slack.add_channel("#revenue", member=True)
        proc = check()
        assert proc.returncode == 0, proc.stdout + proc.stderr
    finally:
        slack.stop()


def test_a_post_whose_lookup_was_refused_is_adopted_not_posted_twice(monkeypatch, ledger, config):
    slack = slack_at(monkeypatch, scopes=[s for s in DEFAULT_SCOPES if s != "channels:history"])
    try:
        day_of(ledger, config, START + timedelta(days=9), {"signups": OFF})
        slack.fail_next("chat.postMessage", drop=True)  # stored, the answer lost
        with pytest.raises(DeliveryError):
            notify_task(ledger, config, tries=1)
        notify_task(ledger, config)  # the lookup is refused: the post fails, said once
        [stored] = visible(slack, "#growth")
        slack.scopes = DEFAULT_SCOPES  # the scope added and the app reinstalled
        day_of(ledger, config, START + timedelta(days=10), {"signups": OFF}, pace=0.84)  # an update is due
        _, tries = notify_task(ledger, config)
        assert tries == 1
        [kept] = [m for m in visible(slack, "#growth") if m["thread_ts"] is None]
        assert kept["ts"] == stored["ts"]  # the copy Slack stored became the message: no second one
        assert "84.0% of pace" in json.dumps(kept["blocks"])  # and it carries the newer numbers
        assert slack.deleted == []
    finally:
        slack.stop()


def test_a_missing_files_write_scope_fails_the_charts_alone(monkeypatch, ledger, config):
    slack = slack_at(monkeypatch, scopes=[s for s in DEFAULT_SCOPES if s != "files:write"])
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 64
    try:
        for offset, status in ((9, OFF), (10, ("on_track", None))):
            verdicts = [
                verdict("signups", START + timedelta(days=offset), *status, channel="#growth", pace=0.85 + offset / 100)
            ]
            plan(verdicts, [], config=config, ledger=ledger, chart=lambda v: png)
            _, tries = notify_task(ledger, config)
            assert tries == 1
        # The chart is refused, each day; the alerts of that channel, before and after it, go on.
        top = [m for m in visible(slack, "#growth") if m["thread_ts"] is None]
        assert len(top) == 1 and [m for m in visible(slack, "#growth") if m["thread_ts"] == top[0]["ts"]]
        failed = [i for i in ledger.intents() if i.state == "failed"]
        assert failed and {i.kind for i in failed} == {"upload"}
        assert all("add the files:write scope" in i.error for i in failed)
        [notice] = visible(slack, "#goals")  # said once, naming the scope
        assert "files:write" in json.dumps(notice["blocks"])
        assert [i for i in ledger.intents() if i.state == "pending"] == []
    finally:
        slack.stop()


def test_a_message_slack_will_not_let_the_bot_edit_is_not_posted_again(slack, ledger, config):
    day_of(ledger, config, START + timedelta(days=9), {"signups": OFF})
    notify_task(ledger, config)
    slack.fail_next("chat.update", error="cant_update_message")
    day_of(ledger, config, START + timedelta(days=10), {"signups": OFF}, pace=0.84)
    _, tries = notify_task(ledger, config)
    assert tries == 1
    assert len([m for m in visible(slack, "#growth") if m["thread_ts"] is None]) == 1  # never a second message
    [failed] = [i for i in ledger.intents() if i.state == "failed"]
    assert failed.kind == "update" and "edit window" in failed.error
    assert not [i for i in ledger.intents() if i.key.endswith(".repost")]
    day_of(ledger, config, START + timedelta(days=11), {"signups": ("on_track", None)}, pace=1.05)
    notify_task(ledger, config)  # the goal's news still reaches its thread
    top = [m for m in visible(slack, "#growth") if m["thread_ts"] is None]
    assert any(m["thread_ts"] == top[0]["ts"] for m in visible(slack, "#growth"))


def test_an_error_slack_does_not_document_is_tried_five_times_then_fails_its_call(slack, ledger, config):
    day_of(ledger, config, START + timedelta(days=9), {"signups": OFF})
    notify_task(ledger, config)
    slack.fail_next("chat.update", error="a_new_kind_of_error", times=10)
    day_of(ledger, config, START + timedelta(days=10), {"signups": OFF}, pace=0.84)
    with pytest.raises(DeliveryError, match="a_new_kind_of_error"):
        notify_task(ledger, config, tries=4)  # not known to be permanent: tried again, the task fails
    _, tries = notify_task(ledger, config)  # the fifth attempt gives up on it
    assert tries == 1
    [failed] = [i for i in ledger.intents() if i.state == "failed"]
    assert failed.kind == "update" and "a_new_kind_of_error" in failed.error and failed.attempts == 5
    assert len([c for c in slack.calls if c.method == "chat.update"]) == 5


def test_a_second_copy_slack_refuses_to_delete_is_left_and_not_tried_again(monkeypatch, ledger, config):
    monkeypatch.setenv("GOALWATCH_SLACK_TIMEOUT", "1")
    slack = slack_at(monkeypatch)
    try:
        day_of(ledger, config, START + timedelta(days=9), {"signups": OFF})
        slack.fail_next("chat.postMessage", late=2.5)
        notify_task(ledger, config)
        assert slack.wait_late() and len(visible(slack, "#growth")) == 2
        slack.fail_next(
            "chat.delete", status=500, times=3
        )  # passing, past the client's 2 retries: the next run tries again
        _, tries = notify_task(ledger, config)
        assert tries == 1 and len(visible(slack, "#growth")) == 2 and ledger.deletions() == []
        slack.fail_next("chat.delete", error="compliance_exports_prevent_deletion")
        notify_task(ledger, config)
        [record] = ledger.deletions()
        assert "not deletable" in record["reason"] and len(visible(slack, "#growth")) == 2
        deletes = len([c for c in slack.calls if c.method == "chat.delete"])
        notify_task(ledger, config)
        assert len([c for c in slack.calls if c.method == "chat.delete"]) == deletes  # not tried again
    finally:
        slack.stop()


PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64


def test_an_update_whose_new_post_keeps_failing_fails_in_time_and_is_said_once(slack, ledger, config, tmp_path):
    day_of(ledger, config, START + timedelta(days=9), {"signups": OFF})
    send_pending(ledger, Outbox(tmp_path / "outbox"), config=config)
    day_of(ledger, config, START + timedelta(days=10), {"signups": OFF}, pace=0.84)  # an update, outbox only
    slack.fail_next("chat.postMessage", error="a_new_kind_of_error", times=UNKNOWN_TRIES)
    failed_runs = 0
    for _ in range(UNKNOWN_TRIES + 3):
        try:
            notify_task(ledger, config, tries=1)
        except DeliveryError:
            failed_runs += 1
    assert failed_runs == UNKNOWN_TRIES - 1  # tried again until the last try, which gives up
    assert [i for i in ledger.intents() if i.state == "pending"] == []
    [update] = [i for i in ledger.intents() if i.kind == "update"]
    assert update.state == "failed" and "a_new_kind_of_error" in update.error
    assert len([i for i in ledger.intents() if i.key.endswith(".repost")]) == 1  # not a new one each run
    assert visible(slack, "#growth") == []
    [notice] = visible(slack, "#goals")
    assert "a_new_kind_of_error" in json.dumps(notice["blocks"])


def test_a_refusal_no_notice_covered_is_said_the_next_time(slack, ledger, config):
    slack.add_channel("#revenue", member=False)
    day_of(ledger, config, START + timedelta(days=9), {"revenue": OFF})
    # A sender that plans no notice: a run that stopped after its calls, or an older callback.
    deliver(ledger, SlackDelivery(conn_id="slack_api_default", rate=0))
    assert [i.state for i in ledger.intents()] == ["failed"] and visible(slack, "#goals") == []
    day_of(ledger, config, START + timedelta(days=10), {"revenue": ("on_track", None)}, pace=1.05)
    notify_task(ledger, config)
    [notice] = visible(slack, "#goals")
    assert "#revenue" in json.dumps(notice["blocks"]) and "not_in_channel" in json.dumps(notice["blocks"])


def test_a_chart_another_run_may_have_shared_is_not_shared_again(slack, ledger, config):
    plan([verdict("signups", START + timedelta(days=9), *OFF, channel="#growth")], [], config=config, ledger=ledger,
         chart=lambda v: PNG)  # fmt: skip
    delivery = SlackDelivery(conn_id="slack_api_default", rate=0)
    read_by_a = ledger.pending()  # run A reads the pending calls, then run B sends them first
    slack.fail_next("files.completeUploadExternal", status=500, after_store=True)  # shared, then a 500
    b = deliver(ledger, delivery)
    assert b.failed and len(slack.files) == 1
    a = _Sender(ledger, delivery, "slack_api_default")  # deliver's own sender, on what A read
    for intent in read_by_a:
        a.send(intent, waiting_posts={i.message_id for i in read_by_a if i.kind == "post"})
    assert len(slack.files) == 1
    notify_task(ledger, config)
    assert len(slack.files) == 1 and [i for i in ledger.intents() if i.state == "pending"] == []


def test_a_chart_slack_refused_to_take_is_shared_on_the_next_try(slack, ledger, config):
    plan([verdict("signups", START + timedelta(days=9), *OFF, channel="#growth")], [], config=config, ledger=ledger,
         chart=lambda v: PNG)  # fmt: skip
    # Rate-limited past the client's own retries: Slack took nothing, so the chart is not lost.
    slack.fail_next("files.getUploadURLExternal", status=429, retry_after=0, times=4)
    with pytest.raises(DeliveryError):
        notify_task(ledger, config, tries=1)
    assert slack.files == {} or len(slack.files) == 0
    notify_task(ledger, config)
    assert len(slack.files) == 1
    [upload] = [i for i in ledger.intents() if i.kind == "upload"]
    assert upload.state == "sent" and upload.attempts == 2


def test_a_webhook_never_posts_an_outbox_message_anew_for_each_update(slack, ledger, config, tmp_path, monkeypatch):
    day_of(ledger, config, START + timedelta(days=9), {"signups": OFF})
    send_pending(ledger, Outbox(tmp_path / "outbox"), config=config)
    url = slack.base_url.replace("/api/", "/services/T000/B000/xyz")
    monkeypatch.setenv("AIRFLOW_CONN_SLACK_WEBHOOK_DEFAULT", json.dumps({"conn_type": "slackwebhook", "password": url}))
    hook = WebhookDelivery(conn_id="slack_webhook_default")
    for offset, pace in ((10, 0.84), (11, 0.83), (12, 0.82)):  # the numbers move: updates only
        day_of(ledger, config, START + timedelta(days=offset), {"signups": OFF}, pace=pace)
        send_pending(ledger, hook, config=config)
    living = json.loads(next((tmp_path / "outbox").rglob("signups.2026-11-01.off_track.json")).read_text())
    said = [c.body["text"] for c in slack.calls if c.method == "webhook"]
    assert living["text"] not in said  # the living message is not posted again (a reminder may be said)
    assert not [i for i in ledger.intents() if i.key.endswith(".repost")]
    day_of(ledger, config, START + timedelta(days=13), {"signups": ("on_track", None)}, pace=1.05)
    send_pending(ledger, hook, config=config)  # news: a message of its own
    news = [c.body["text"] for c in slack.calls if c.method == "webhook"][len(said) :]
    assert len(news) == 1 and news[0].startswith("Resolved")


def test_a_missing_scope_is_said_once_for_every_channel_it_stops(monkeypatch, ledger, config):
    slack = slack_at(monkeypatch, scopes=[s for s in DEFAULT_SCOPES if s != "files:write"])
    try:
        plan([verdict("signups", START + timedelta(days=9), *OFF, channel="#growth")], [], config=config,
             ledger=ledger, chart=lambda v: PNG)  # fmt: skip
        notify_task(ledger, config)
        [notice] = visible(slack, "#goals")
        assert "files:write" in json.dumps(notice["blocks"])
        # Another goal's chart, in another channel, on another message: the same scope, not news.
        plan([verdict("revenue", START + timedelta(days=10), *OFF, channel="#revenue")], [], config=config,
             ledger=ledger, chart=lambda v: PNG)  # fmt: skip
        notify_task(ledger, config)
        assert len([i for i in ledger.intents() if i.kind == "upload" and i.state == "failed"]) == 2
        assert len(visible(slack, "#goals")) == 1
    finally:
        slack.stop()


def test_a_claim_taken_over_after_it_lapsed_stops_its_first_holder(ledger, config):
    day_of(ledger, config, START + timedelta(days=9), {"signups": OFF})
    [intent] = ledger.pending()
    assert ledger.claim(intent, "slow", lease=timedelta(seconds=-1))  # held, and lapsed during a long lookup
    assert ledger.renew(intent, "slow")  # nobody took it: still the slow run's
    assert ledger.claim(intent, "watchdog") is None
    ledger.release(intent, "slow")
    assert ledger.claim(intent, "slow", lease=timedelta(seconds=-1))
    taken = ledger.claim(intent, "watchdog")  # lapsed: the watchdog takes the call over
    assert taken is not None and taken.claim == "watchdog"
    assert not ledger.renew(intent, "slow")  # so the slow run must not post it
    assert ledger.renew(intent, "watchdog")
    ledger.sent(intent)
    assert not ledger.renew(intent, "watchdog")  # sent: nothing to hold


def test_a_second_refused_message_in_a_channel_the_same_day_is_said(slack, ledger, config):
    # The notice of a refused message was keyed by channel, refusal and day: a second message
    # refused the same way later that day found the key taken and was never announced.
    day = START + timedelta(days=9)
    day_of(ledger, config, day, {"signups": OFF})
    slack.fail_next("chat.postMessage", error="invalid_blocks")
    notify_task(ledger, config)
    assert len(visible(slack, "#goals")) == 1
    # Later the same day (another trigger, a rerun): another goal's message in #growth.
    plan([verdict("revenue", day, *OFF, channel="#growth")], [], config=config, ledger=ledger, run_id="r2")
    slack.fail_next("chat.postMessage", error="invalid_blocks")
    notify_task(ledger, config)

    assert len([i for i in ledger.intents() if i.state == "failed"]) == 2
    notices = visible(slack, "#goals")
    assert len(notices) == 2
    assert "revenue" in json.dumps(notices[1])


def test_a_try_killed_while_holding_a_claim_does_not_fail_its_retries(slack, ledger, config):
    # The notify task's try was killed mid-call, holding its claim for CLAIM_LEASE (5 minutes);
    # its retries come 30 s later. They are the same run's sender: they take the claim back, look
    # the message up (the dead try may have posted it) and post it once.
    day_of(ledger, config, START + timedelta(days=9), {"signups": OFF})
    [intent] = ledger.pending()
    assert ledger.claim(intent, "notify:run")

    summary, attempt = notify_task(ledger, config, run_id="run")

    assert attempt == 1 and ledger.pending() == []
    assert len(visible(slack, "#growth")) == 1


def test_a_missing_scope_in_two_channels_at_once_is_one_notice(monkeypatch, ledger, config):
    # Both charts are refused in the same run: one notice names both channels (grouped by the
    # scope, not by channel).
    slack = slack_at(monkeypatch, scopes=[s for s in DEFAULT_SCOPES if s != "files:write"])
    try:
        day = START + timedelta(days=9)
        plan([verdict("signups", day, *OFF, channel="#growth"), verdict("revenue", day, *OFF, channel="#revenue")],
             [], config=config, ledger=ledger, chart=lambda v: PNG)  # fmt: skip
        notify_task(ledger, config)

        assert len([i for i in ledger.intents() if i.kind == "upload" and i.state == "failed"]) == 2
        [notice] = visible(slack, "#goals")
        text = json.dumps(notice["blocks"])
        assert "files:write" in text and "#growth" in text and "#revenue" in text
    finally:
        slack.stop()
