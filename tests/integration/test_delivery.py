"""Delivery through the Slack provider's hook to the fake Slack Web API, and to the outbox."""

from __future__ import annotations

import json
import logging

import pytest

from goalwatch.alerting.delivery import Outbox, readable
from goalwatch.errors import DeliveryError
from goalwatch.runtime.slack import SlackDelivery

PAYLOAD = {
    "channel": "#growth-goals",
    "text": "Off track",
    "blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": "Off track: signups"}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "*Target*\n48,000"}]},
    ],
}


@pytest.fixture
def slack_conn(fake_slack, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_SLACK_API_DEFAULT", fake_slack.connection_json())
    return fake_slack


def test_posts_through_the_hook(slack_conn):
    ts, channel_id = SlackDelivery(conn_id="slack_api_default", rate=0).post(
        dict(PAYLOAD), key="g.off_track", as_of="2026-11-15"
    )
    [message] = slack_conn.messages
    assert (message["ts"], message["text"], message["blocks"]) == (ts, "Off track", PAYLOAD["blocks"])
    assert message["channel"] == channel_id


def test_a_rate_limit_is_waited_out_and_posts_once(slack_conn):
    slack_conn.fail_next("chat.postMessage", status=429, retry_after=1)
    SlackDelivery(conn_id="slack_api_default", rate=0).post(dict(PAYLOAD), key="g.off_track", as_of="2026-11-15")
    assert len(slack_conn.messages) == 1
    assert slack_conn.faulted == [("chat.postMessage", "429")]  # refused once, then waited out


@pytest.mark.parametrize("status", [500, 503], ids=["server-error", "unavailable"])
def test_a_server_error_on_a_post_is_never_retried_by_the_client(slack_conn, status):
    """Slack may have stored the message before it answered 5xx: a second post could be a twin, so
    the post is tried once and the error goes up (the next attempt looks the message up first)."""
    slack_conn.fail_next("chat.postMessage", status=status, after_store=False)
    with pytest.raises(DeliveryError, match=f"HTTP {status}"):
        SlackDelivery(conn_id="slack_api_default", rate=0).post(dict(PAYLOAD), key="g.off_track", as_of="2026-11-15")
    assert slack_conn.faulted == [("chat.postMessage", str(status))] and slack_conn.messages == []


def test_persistent_failure_raises_delivery_error(slack_conn):
    slack_conn.fail_next("chat.postMessage", status=500, times=10)
    with pytest.raises(DeliveryError, match="Slack refused the alert g.off_track for #growth-goals: internal_error"):
        SlackDelivery(conn_id="slack_api_default", rate=0).post(dict(PAYLOAD), key="g.off_track", as_of="2026-11-15")
    assert slack_conn.messages == []


def test_a_bad_token_is_reported_without_the_token(fake_slack, monkeypatch, caplog):
    secret = "-".join(["xoxb", "1111111111", "2222222222", "canarycanarycanary"])  # no token-shaped literal
    conn = json.loads(fake_slack.connection_json())
    conn["password"] = secret
    monkeypatch.setenv("AIRFLOW_CONN_SLACK_API_DEFAULT", json.dumps(conn))
    caplog.set_level(logging.DEBUG)
    with pytest.raises(DeliveryError) as info:
        SlackDelivery(conn_id="slack_api_default", rate=0).post(dict(PAYLOAD), key="g.off_track", as_of="2026-11-15")
    assert "invalid_auth" in str(info.value)
    assert secret not in str(info.value) and secret not in caplog.text


def test_outbox_keeps_the_exact_payload(tmp_path):
    ts, channel = Outbox(tmp_path).post(dict(PAYLOAD), key="g.off_track", as_of="2026-11-15")
    assert (ts, channel) == ("outbox:g.off_track", "#growth-goals")
    assert json.loads((tmp_path / "2026-11-15" / "g.off_track.json").read_text()) == PAYLOAD
    assert readable(PAYLOAD).splitlines() == ["→ #growth-goals", "Off track: signups", "  Target: 48,000"]


def test_webhook_fallback_posts_but_cannot_update_or_thread(fake_slack, monkeypatch, tmp_path):
    """No bot token, an incoming webhook: alerts and changes arrive as messages of their own."""
    import json as _json
    from datetime import date

    from goalwatch.alerting.ledger import Ledger
    from goalwatch.alerting.send import deliver
    from goalwatch.data.store import Store
    from goalwatch.runtime.slack import WebhookDelivery, choose_delivery

    url = fake_slack.base_url.replace("/api/", "/services/T000/B000/secret-part")
    monkeypatch.setenv(
        "AIRFLOW_CONN_SLACK_WEBHOOK_DEFAULT", _json.dumps({"conn_type": "slackwebhook", "password": url})
    )
    monkeypatch.delenv("AIRFLOW_CONN_SLACK_API_DEFAULT", raising=False)
    delivery = choose_delivery()
    assert isinstance(delivery, WebhookDelivery)
    ledger = Ledger(Store(url=f"sqlite:///{tmp_path / 'store.db'}"))
    with ledger.engine.begin() as conn:
        parent = ledger.new_message(conn, channel="#growth", key="g.off_track")
        ledger.add_intent(
            conn, kind="post", message_id=parent, payload=dict(PAYLOAD), key="g.off_track", as_of=date(2026, 11, 10)
        )
        reply = ledger.new_message(conn, channel="#growth", key="g.transition", parent_id=parent)
        ledger.add_intent(
            conn,
            kind="post",
            message_id=reply,
            payload={**PAYLOAD, "text": "Resolved"},
            key="g.transition",
            as_of=date(2026, 11, 11),
        )
        ledger.add_intent(
            conn, kind="update", message_id=parent, payload=dict(PAYLOAD), key="g.update", as_of=date(2026, 11, 11)
        )
    outcome = deliver(ledger, delivery)
    assert outcome.failed == [] and outcome.waiting == []
    hooks = [c.body for c in fake_slack.calls if c.method == "webhook"]
    assert [h["text"] for h in hooks] == ["Off track", "Resolved"]  # the reply as a message of its own
    assert all("thread_ts" not in h for h in hooks)
    assert not [c for c in fake_slack.calls if c.method != "webhook"]  # no update, no API call


# -- the incoming webhook's errors ----------------------------------------------------------------

SECRET_PART = "-".join(["canary", "webhook", "path"])  # the webhook URL's secret tail, never said


@pytest.fixture
def webhook(fake_slack, monkeypatch):
    from goalwatch.runtime.slack import WebhookDelivery

    url = fake_slack.base_url.replace("/api/", f"/services/T000/B000/{SECRET_PART}")
    monkeypatch.setenv("AIRFLOW_CONN_SLACK_WEBHOOK_DEFAULT", json.dumps({"conn_type": "slackwebhook", "password": url}))
    return WebhookDelivery(conn_id="slack_webhook_default")


@pytest.mark.parametrize(
    "said, code, reach",
    [
        ("invalid_payload", "invalid_arguments", "message"),
        ("user_not_found", "channel_not_found", "channel"),
        ("too_many_attachments", "too_many_attachments", "message"),
        ("channel_not_found", "channel_not_found", "channel"),
        ("channel_is_archived", "is_archived", "channel"),
        ("action_prohibited", "restricted_action", "channel"),
        ("posting_to_general_channel_denied", "restricted_action", "channel"),
        ("no_service", "invalid_auth", "token"),
        ("no_service_id", "invalid_auth", "token"),
        ("no_team", "invalid_auth", "token"),
        ("team_disabled", "invalid_auth", "token"),
        ("invalid_token", "invalid_auth", "token"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_a_webhook_refusal_carries_the_code_refusals_judge(fake_slack, webhook, caplog, said, code, reach):
    """The webhook answers a plain-text string with a 4xx; it travels as the Web API code that means
    the same, so alerting.refusals fails the right reach, and the message keeps what Slack said."""
    from goalwatch.alerting.refusals import classify
    from tests.fakes.slack import WEBHOOK_ERRORS

    caplog.set_level(logging.DEBUG)
    fake_slack.fail_next("webhook", error=said)
    with pytest.raises(DeliveryError) as info:
        webhook.post(dict(PAYLOAD), key="g.off_track", as_of="2026-11-15")
    assert info.value.code == code
    assert said in str(info.value) and f"HTTP {WEBHOOK_ERRORS[said]}" in str(info.value)
    refusal = classify(info.value.code, channel="#growth-goals")
    assert refusal is not None and refusal.reach == reach
    assert SECRET_PART not in str(info.value) and SECRET_PART not in caplog.text


@pytest.mark.parametrize("status", [500, 503], ids=["server-error", "unavailable"])
def test_a_webhook_server_error_passes(fake_slack, webhook, caplog, status):
    from goalwatch.alerting.refusals import classify

    caplog.set_level(logging.DEBUG)
    fake_slack.fail_next("webhook", status=status)
    with pytest.raises(DeliveryError, match=f"HTTP {status}") as info:
        webhook.post(dict(PAYLOAD), key="g.off_track", as_of="2026-11-15")
    assert info.value.code is None and classify(info.value.code, channel="#growth-goals") is None
    assert SECRET_PART not in str(info.value) and SECRET_PART not in caplog.text


def test_a_webhook_post_whose_answer_is_lost_is_not_resent_and_logs_no_url(fake_slack, webhook, caplog, capfd):
    """The fake stores the message and drops the answer: slack_sdk's default ConnectionErrorRetryHandler
    would post it again at once. goalwatch sends it once and fails the call (a webhook cannot read
    the channel back; see the README); slack_sdk's webhook logger, which names the URL, says nothing."""
    caplog.set_level(logging.DEBUG)
    fake_slack.fail_next("webhook", drop=True)
    with pytest.raises(DeliveryError):
        webhook.post(dict(PAYLOAD), key="g.off_track", as_of="2026-11-15")
    out, err = capfd.readouterr()
    assert fake_slack.faulted == [("webhook", "drop")]
    assert len(fake_slack.posted("webhook")) == 1
    assert SECRET_PART not in caplog.text + out + err


# -- charts, lookups and the connection -----------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [{"status": 500, "after_store": True}, {"drop": True}],
    ids=["shared-then-500", "answer-dropped"],
)
def test_a_chart_upload_is_never_retried_by_the_client(slack_conn, fault):
    """files.completeUploadExternal may have shared the chart before the 5xx or the lost answer:
    it is called once, and the failure goes up (alerting.send does not try an upload again)."""
    slack_conn.fail_next("files.completeUploadExternal", **fault)
    with pytest.raises(DeliveryError) as info:
        SlackDelivery(conn_id="slack_api_default", rate=0).upload(
            b"\x89PNG\r\n\x1a\n" + b"0" * 64,
            channel_id=slack_conn.channel_id("#growth-goals"),
            thread_ts=None,
            filename="signups.png",
            title="Signups",
            key="g.chart",
            as_of="2026-11-15",
        )
    assert info.value.code in (None, "internal_error")
    assert len(slack_conn.posted("files.completeUploadExternal")) == 1
    assert len(slack_conn.files) == 1 and len([m for m in slack_conn.messages if m.get("files")]) == 1


def test_a_lookup_stops_after_max_pages_and_says_so(monkeypatch, caplog):
    """A channel so busy that the post lies past MAX_PAGES pages: the lookup gives up on it (the
    caller posts; heal removes a twin later) instead of paging for ever."""
    from datetime import UTC, datetime, timedelta

    from goalwatch.alerting.delivery import METADATA_TYPE
    from goalwatch.runtime.slack import MAX_PAGES
    from tests.fakes.slack import FakeSlack

    with FakeSlack(token="xoxb-test-not-a-real-token", page_cap=1) as slack:
        monkeypatch.setenv("AIRFLOW_CONN_SLACK_API_DEFAULT", slack.connection_json())
        delivery = SlackDelivery(conn_id="slack_api_default", rate=0)
        meta = {"event_type": METADATA_TYPE, "event_payload": {"intent": "i-1"}}
        _, channel_id = delivery.post({**PAYLOAD, "metadata": meta}, key="g.off_track", as_of="2026-11-15")
        slack.chatter("#growth-goals", MAX_PAGES)  # one message a page: the post is on page MAX_PAGES + 1
        oldest = datetime.now(UTC) - timedelta(minutes=5)
        caplog.set_level(logging.WARNING)

        assert delivery.lookup(["i-1"], channel=channel_id, thread_ts=None, oldest=oldest) == (channel_id, {})
        assert len(slack.posted("conversations.history")) == MAX_PAGES
        assert f"after {MAX_PAGES} pages" in caplog.text

        slack.delete_message("#growth-goals", slack.channel_messages("#growth-goals")[-1]["ts"])  # one page less
        _, found = delivery.lookup(["i-1"], channel=channel_id, thread_ts=None, oldest=oldest)
        assert list(found) == ["i-1"]


def test_a_channel_named_by_name_is_found_without_groups_read(monkeypatch):
    """A name only needs channels:read: without groups:read the public channels are listed alone
    (the provider's get_channel_id asks for private ones too, which Slack refuses without it)."""
    from datetime import UTC, datetime, timedelta

    from tests.fakes.slack import DEFAULT_SCOPES, FakeSlack

    scopes = [s for s in DEFAULT_SCOPES if not s.startswith("groups:")]
    with FakeSlack(token="xoxb-test-not-a-real-token", scopes=scopes) as slack:
        monkeypatch.setenv("AIRFLOW_CONN_SLACK_API_DEFAULT", slack.connection_json())
        channel_id = slack.add_channel("#growth-goals")
        delivery = SlackDelivery(conn_id="slack_api_default", rate=0)
        oldest = datetime.now(UTC) - timedelta(minutes=5)
        assert delivery.lookup(["i-1"], channel="#growth-goals", thread_ts=None, oldest=oldest) == (channel_id, {})
        assert delivery.lookup(["i-1"], channel="#nowhere", thread_ts=None, oldest=oldest) == (None, {})


TOKEN_CANARY = "-".join(["xoxb", "3333333333", "4444444444", "connectioncanary"])


@pytest.mark.parametrize(
    "conn, says",
    [
        (None, "Airflow has no usable connection 'slack_api_default'"),
        ({"conn_type": "slack", "extra": {"base_url": "http://127.0.0.1:9/api/"}}, "its password is empty"),
        (
            {"conn_type": "slack", "password": TOKEN_CANARY, "extra": {"base_url": "nowhere"}},
            "the Airflow connection 'slack_api_default' (ValueError): check its base_url",
        ),
    ],
    ids=["missing", "no-password", "unusable-base-url"],
)
def test_a_connection_that_gives_no_client_is_a_delivery_error_naming_it(monkeypatch, caplog, conn, says):
    """Not Slack's refusal (no code: tried again), and the message says which connection and what
    to do, never the token."""
    caplog.set_level(logging.DEBUG)
    if conn is None:
        monkeypatch.delenv("AIRFLOW_CONN_SLACK_API_DEFAULT", raising=False)
    else:
        monkeypatch.setenv("AIRFLOW_CONN_SLACK_API_DEFAULT", json.dumps(conn))
    with pytest.raises(DeliveryError) as info:
        SlackDelivery(conn_id="slack_api_default", rate=0).post(dict(PAYLOAD), key="g.off_track", as_of="2026-11-15")
    assert says in str(info.value)
    assert "airflow connections " in str(info.value) and info.value.code is None
    assert TOKEN_CANARY not in str(info.value) and TOKEN_CANARY not in caplog.text


# -- goalwatch slack check --------------------------------------------------------------------------

GOALS = """
default_channel: "#goals"
metrics:
  users: {{source: {{path: u.csv}}}}
goals:
  - {{name: signups, metric: users, period: month, target: 3000, notify: {{channel: "{channel}"}}}}
"""


def check(monkeypatch, tmp_path, slack, channel: str = "#growth", **extra):
    from goalwatch.config import load_config
    from goalwatch.runtime.preflight import check_slack

    (tmp_path / "goals.yml").write_text(GOALS.format(channel=channel))
    conn = json.loads(slack.connection_json())
    conn["extra"].update(extra)
    monkeypatch.setenv("AIRFLOW_CONN_SLACK_API_DEFAULT", json.dumps(conn))
    return check_slack(load_config(tmp_path / "goals.yml"), conn_id="slack_api_default")


def scopes_but(*left_out: str) -> list[str]:
    from tests.fakes.slack import DEFAULT_SCOPES

    return [s for s in DEFAULT_SCOPES if s not in left_out]


def test_slack_check_asks_for_the_private_scopes_only_for_a_private_channel(monkeypatch, tmp_path):
    from tests.fakes.slack import FakeSlack

    with FakeSlack(auto_channels=False, scopes=scopes_but("groups:read", "groups:history")) as slack:
        slack.add_channel("#goals")
        slack.add_channel("#growth")
        public = check(monkeypatch, tmp_path, slack)
        assert public.ok, public.lines()
        assert any("groups:read and groups:history not granted: needed only for private" in x for x in public.lines())

        private = check(monkeypatch, tmp_path, slack, channel=slack.add_channel("#leadership", private=True))
        assert set(private.missing_scopes) == {"groups:read", "groups:history"}
        [line] = [line for line in private.lines() if slack.channel_id("#leadership") in line and "✗" in line]
        assert "add the groups:read scope" in line  # conversations.info said missing_scope, not a crash

    with FakeSlack(auto_channels=False, scopes=scopes_but("groups:history")) as slack:
        slack.add_channel("#goals")
        leadership = slack.add_channel("#leadership", private=True)
        result = check(monkeypatch, tmp_path, slack, channel=leadership)
        assert result.missing_scopes == ["groups:history"]
        assert f"✓ {leadership}: the bot is a member ({leadership}, private)" in result.lines()


def test_slack_check_says_what_chat_write_public_does(monkeypatch, tmp_path):
    from tests.fakes.slack import DEFAULT_SCOPES, FakeSlack

    with FakeSlack(auto_channels=False, scopes=[*DEFAULT_SCOPES, "chat:write.public"]) as slack:
        slack.add_channel("#goals")
        slack.add_channel("#growth", member=False)
        result = check(monkeypatch, tmp_path, slack)
    assert not result.ok
    [note] = [line for line in result.lines() if "scope chat:write.public" in line]
    assert "public channels it is not a member of" in note and "does not reach private channels" in note
    [growth] = [line for line in result.lines() if line.startswith("✗ #growth")]
    assert "chat:write.public lets the bot post here" in growth and "/invite @goalwatch" in growth


def test_slack_check_reports_a_failed_call_as_a_problem_not_a_crash(monkeypatch, tmp_path):
    from tests.fakes.slack import FakeSlack

    with FakeSlack(auto_channels=False) as slack:
        slack.add_channel("#goals")
        slack.add_channel("#growth")
        slack.fail_next("conversations.list", status=429, retry_after=1, times=2)  # past its one retry
        listed = check(monkeypatch, tmp_path, slack)
        assert not listed.ok
        assert any("conversations.list" in x and "again in a minute" in x for x in listed.lines())
        assert all("not checked" in what for _, ok, what in listed.channels)  # not "no such channel"

        slack.fail_next("conversations.info", timeout=3)  # no answer within the client's 1 second
        unanswered = check(monkeypatch, tmp_path, slack, timeout=1)
        [growth] = [what for channel, ok, what in unanswered.channels if channel == "#growth"]
        assert "Slack did not answer (TimeoutError)" in growth and not unanswered.ok


def test_slack_check_reports_a_connection_without_a_token(monkeypatch, tmp_path, fake_slack):
    from goalwatch.config import load_config
    from goalwatch.runtime.preflight import check_slack

    (tmp_path / "goals.yml").write_text(GOALS.format(channel="#growth"))
    monkeypatch.setenv(
        "AIRFLOW_CONN_SLACK_API_DEFAULT", json.dumps({"conn_type": "slack", "extra": {"base_url": fake_slack.base_url}})
    )
    result = check_slack(load_config(tmp_path / "goals.yml"), conn_id="slack_api_default")
    assert not result.ok
    assert any("slack_api_default" in x and "bot token" in x for x in result.lines())
