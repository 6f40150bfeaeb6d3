"""How far a Slack error code reaches: the token, a channel, a scope, one message, or nothing."""

from __future__ import annotations

import pytest

from goalwatch.alerting.refusals import UNKNOWN_TRIES, classify


@pytest.mark.parametrize(
    "code, reach",
    [
        ("token_revoked", "token"),
        ("not_allowed_token_type", "token"),
        ("not_in_channel", "channel"),
        ("no_permission", "channel"),
        ("is_archived", "channel"),
        ("missing_scope", "scope"),
        ("msg_blocks_too_long", "message"),
        ("cant_update_message", "message"),
        ("invalid_arguments", "message"),
    ],
)
def test_a_permanent_code_reaches_as_far_as_slack_documents(code, reach):
    refusal = classify(code, channel="#growth", needed="files:write" if code == "missing_scope" else None)
    assert refusal is not None and refusal.reach == reach and refusal.code == code


@pytest.mark.parametrize("code", [None, "ratelimited", "internal_error", "fatal_error", "service_unavailable"])
def test_a_passing_code_is_tried_again_however_often(code):
    assert classify(code, channel="#growth", attempts=50) is None


def test_an_unknown_code_is_tried_again_until_its_last_try():
    assert classify("a_new_kind_of_error", channel="#growth", attempts=UNKNOWN_TRIES - 1) is None
    refusal = classify("a_new_kind_of_error", channel="#growth", attempts=UNKNOWN_TRIES)
    assert refusal is not None and refusal.reach == "message" and "report it" in refusal.advice


def test_a_gone_message_is_not_a_refusal_it_is_posted_anew():
    assert classify("message_not_found", channel="#growth", attempts=UNKNOWN_TRIES) is None


def test_the_advice_says_what_to_do_where():
    assert "/invite @goalwatch" in classify("not_in_channel", channel="#growth").advice
    assert "#growth" in classify("no_permission", channel="#growth").advice
    scope = classify("missing_scope", channel="#growth", needed="files:write")
    assert "add the files:write scope" in scope.advice and scope.topic == "missing_scope.files:write"
    token = classify("token_revoked", channel="#growth", conn_id="slack_api_default")
    assert "the Airflow connection slack_api_default" in token.advice
    frozen = classify("edit_window_closed", channel="#growth")
    assert "thread" in frozen.advice and "report" not in frozen.advice
