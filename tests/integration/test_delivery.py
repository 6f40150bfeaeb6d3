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
