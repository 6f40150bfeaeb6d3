"""Delivery through the Slack provider's hook to the fake Slack Web API, and to the outbox."""

from __future__ import annotations

import json
import logging

import pytest

from goalwatch.delivery import Outbox, SlackDelivery, readable
from goalwatch.errors import DeliveryError

PAYLOAD = {"channel": "#growth-goals", "text": "Off track", "blocks": [
    {"type": "header", "text": {"type": "plain_text", "text": "Off track: signups"}},
    {"type": "section", "fields": [{"type": "mrkdwn", "text": "*Target*\n48,000"}]},
]}


@pytest.fixture
def slack_conn(fake_slack, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_SLACK_API_DEFAULT", fake_slack.connection_json())
    return fake_slack


def test_posts_through_the_hook(slack_conn):
    ts, channel_id = SlackDelivery(conn_id="slack_api_default", rate=0).post(
        dict(PAYLOAD), key="g.off_track", as_of="2026-11-15")
    [message] = slack_conn.messages
    assert (message["ts"], message["text"], message["blocks"]) == (ts, "Off track", PAYLOAD["blocks"])
    assert message["channel"] == channel_id


@pytest.mark.parametrize("status", [429, 500, 503], ids=["rate-limited", "server-error", "unavailable"])
def test_a_transient_failure_is_retried_and_posts_once(slack_conn, status):
    slack_conn.fail_next("chat.postMessage", status=status, retry_after=1 if status == 429 else None)
    SlackDelivery(conn_id="slack_api_default", rate=0).post(dict(PAYLOAD), key="g.off_track", as_of="2026-11-15")
    assert len(slack_conn.messages) == 1


def test_persistent_failure_raises_delivery_error(slack_conn):
    slack_conn.fail_next("chat.postMessage", status=500, times=10)
    with pytest.raises(DeliveryError, match="Slack refused the alert g.off_track for #growth-goals: internal_error"):
        SlackDelivery(conn_id="slack_api_default", rate=0).post(dict(PAYLOAD), key="g.off_track", as_of="2026-11-15")
    assert slack_conn.messages == []


def test_a_bad_token_is_reported_without_the_token(fake_slack, monkeypatch, caplog):
    secret = "xoxb-1111111111-2222222222-canarycanarycanary"
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
