"""The fake Slack Web API, driven only through the real slack_sdk WebClient over HTTP: channels by
name and ID, threads, metadata, files_upload_v2, validation, rate limits and injected faults (and
what the client does with each, which is what goalwatch's delivery has to defend against)."""

from __future__ import annotations

import re
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from http.client import RemoteDisconnected
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler

from tests.fakes.slack import DEFAULT_SCOPES, FakeSlack

# Some payloads here leave out ``text`` on purpose; slack_sdk warns about that.
pytestmark = pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing:UserWarning")

TOKEN = "xoxb-test-not-a-real-token"
CHANNEL = "#growth-goals"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(token=TOKEN) as fake:
        yield fake


def web_client(
    slack: FakeSlack, *, handlers: list[RetryHandler] | None = None, timeout: int = 30, token: str | None = TOKEN
) -> WebClient:
    """``handlers=None`` keeps slack_sdk's default (one ConnectionErrorRetryHandler)."""
    extra = {} if handlers is None else {"retry_handlers": handlers}
    return WebClient(token=token, base_url=slack.base_url, timeout=timeout, **extra)


def png(width: int = 2, height: int = 2) -> bytes:
    """A small valid PNG (8-bit greyscale), built with the standard library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(range(width)) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text}}


def context(n: int) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": f"e{i}"} for i in range(n)]}


def actions(n: int) -> dict[str, Any]:
    button = {"type": "button", "text": {"type": "plain_text", "text": "b"}}
    return {"type": "actions", "elements": [{**button, "action_id": f"a{i}"} for i in range(n)]}


def api_error(call: Callable[[], Any]) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        call()
    return info.value


# -- channels ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "channel", [CHANNEL, "growth-goals", FakeSlack.channel_id(CHANNEL)], ids=["hash-name", "bare-name", "channel-id"]
)
def test_a_post_answers_with_the_channel_id_and_stores_it(slack, channel):
    response = web_client(slack).chat_postMessage(channel=channel, text="Off track")

    channel_id = slack.channel_id(CHANNEL)
    assert re.fullmatch(r"C[0-9A-F]{8}", channel_id)
    assert response["channel"] == channel_id
    assert [m["channel"] for m in slack.messages] == [channel_id]
    assert [m["text"] for m in slack.channel_messages(CHANNEL)] == ["Off track"]
    assert slack.posted()[0]["channel"] == channel  # the request body keeps what the caller sent


def test_channel_ids_are_deterministic_and_distinct():
    assert FakeSlack.channel_id("#revenue-goals") == FakeSlack(token="other").channel_id("revenue-goals")
    assert FakeSlack.channel_id("#revenue-goals") != FakeSlack.channel_id(CHANNEL)


ID_ONLY_CALLS: dict[str, Callable[[WebClient, str], Any]] = {
    "chat.update": lambda client, ts: client.chat_update(channel=CHANNEL, ts=ts, text="edited"),
    "conversations.history": lambda client, ts: client.conversations_history(channel=CHANNEL),
    "conversations.replies": lambda client, ts: client.conversations_replies(channel=CHANNEL, ts=ts),
    "files_upload_v2": lambda client, ts: client.files_upload_v2(channel=CHANNEL, content=b"x", filename="x.txt"),
}


@pytest.mark.parametrize("name", list(ID_ONLY_CALLS), ids=list(ID_ONLY_CALLS))
def test_methods_after_posting_need_the_channel_id_not_its_name(slack, name):
    client = web_client(slack)
    ts = client.chat_postMessage(channel=CHANNEL, text="Off track")["ts"]

    assert api_error(lambda: ID_ONLY_CALLS[name](client, ts)).response["error"] == "channel_not_found"
    assert [m["text"] for m in slack.messages] == ["Off track"]
    assert slack.files == []


# -- threads, metadata, history ----------------------------------------------------------------

METADATA = {"event_type": "goalwatch_alert", "event_payload": {"key": "quarterly_revenue.off_track"}}


def test_history_is_top_level_newest_first_and_replies_are_the_thread(slack):
    client = web_client(slack)
    first = client.chat_postMessage(channel=CHANNEL, text="first", metadata=METADATA)
    channel = first["channel"]
    client.chat_postMessage(channel=channel, text="a reply", thread_ts=first["ts"])
    client.chat_postMessage(channel=CHANNEL, text="second")

    plain = client.conversations_history(channel=channel)["messages"]
    assert [m["text"] for m in plain] == ["second", "first"]
    assert all("metadata" not in m for m in plain)
    assert plain[1]["reply_count"] == 1
    with_metadata = client.conversations_history(channel=channel, include_all_metadata=True)["messages"]
    assert with_metadata[1]["metadata"] == METADATA
    assert "metadata" not in with_metadata[0]

    thread = client.conversations_replies(channel=channel, ts=first["ts"])["messages"]
    assert [(m["text"], m["thread_ts"]) for m in thread] == [("first", first["ts"]), ("a reply", first["ts"])]
    assert slack.messages[1]["thread_ts"] == first["ts"]
    assert slack.messages[0]["metadata"] == METADATA


def test_history_honours_oldest_and_limit(slack):
    client = web_client(slack)
    posts = [client.chat_postMessage(channel=CHANNEL, text=f"m{i}") for i in range(4)]
    channel = posts[0]["channel"]

    newer = client.conversations_history(channel=channel, oldest=posts[1]["ts"])
    assert [m["text"] for m in newer["messages"]] == ["m3", "m2"]
    page = client.conversations_history(channel=channel, limit=3)
    assert [m["text"] for m in page["messages"]] == ["m3", "m2", "m1"] and page["has_more"]
    rest = client.conversations_history(channel=channel, limit=3, cursor=page["response_metadata"]["next_cursor"])
    assert [m["text"] for m in rest["messages"]] == ["m0"] and not rest["has_more"]


@pytest.mark.parametrize("target", ["parent", "reply"], ids=["top-level-message", "thread-reply"])
def test_update_edits_in_place(slack, target):
    client = web_client(slack)
    parent = client.chat_postMessage(
        channel=CHANNEL, text="Off track", blocks=[section("*Off track*")], metadata=METADATA
    )
    reply = client.chat_postMessage(channel=parent["channel"], text="detail", thread_ts=parent["ts"])
    ts = (parent if target == "parent" else reply)["ts"]
    new_metadata = {"event_type": "goalwatch_alert", "event_payload": {"key": "k", "status": "back_on_track"}}

    updated = client.chat_update(
        channel=parent["channel"],
        ts=ts,
        text="Back on track",
        blocks=[section("*Back on track*")],
        metadata=new_metadata,
    )

    assert updated["ts"] == ts and updated["channel"] == parent["channel"]
    assert len(slack.messages) == 2
    message = next(m for m in slack.messages if m["ts"] == ts)
    assert (message["text"], message["blocks"], message["metadata"]) == (
        "Back on track",
        [section("*Back on track*")],
        new_metadata,
    )
    thread = client.conversations_replies(channel=parent["channel"], ts=parent["ts"], include_all_metadata=True)
    assert next(m for m in thread["messages"] if m["ts"] == ts)["text"] == "Back on track"


def test_update_keeps_the_blocks_it_is_not_given_and_needs_a_known_ts(slack):
    client = web_client(slack)
    posted = client.chat_postMessage(channel=CHANNEL, text="Off track", blocks=[section("*Off track*")])

    client.chat_update(channel=posted["channel"], ts=posted["ts"], text="Off track (edited)")
    assert slack.messages[0]["blocks"] == [section("*Off track*")]
    missing = api_error(lambda: client.chat_update(channel=posted["channel"], ts="1.000001", text="x"))
    assert missing.response["error"] == "message_not_found"


# -- files ---------------------------------------------------------------------------------------


def test_files_upload_v2_puts_png_bytes_into_a_thread(slack):
    client = web_client(slack)
    parent = client.chat_postMessage(channel=CHANNEL, text="Off track")
    chart = png()

    response = client.files_upload_v2(
        channel=parent["channel"],
        thread_ts=parent["ts"],
        file=chart,
        filename="pace.png",
        title="Pace",
        initial_comment="Pace this quarter",
    )

    file_id = response["file"]["id"]
    assert [c.method for c in slack.calls] == [
        "chat.postMessage",
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]
    # slack_sdk form-encodes both calls: numbers arrive as strings, ``files`` as a JSON string.
    assert slack.posted("files.getUploadURLExternal")[0]["length"] == str(len(chart))
    assert slack.posted("files.completeUploadExternal")[0]["files"] == [{"id": file_id, "title": "Pace"}]
    assert slack.files == [
        {
            "id": file_id,
            "title": "Pace",
            "filename": "pace.png",
            "content": chart,
            "channel": parent["channel"],
            "thread_ts": parent["ts"],
            "initial_comment": "Pace this quarter",
        }
    ]
    assert slack.files[0]["content"].startswith(b"\x89PNG\r\n\x1a\n")
    thread = client.conversations_replies(channel=parent["channel"], ts=parent["ts"])["messages"]
    assert [(m["text"], m.get("files")) for m in thread] == [
        ("Off track", None),
        ("Pace this quarter", [{"id": file_id}]),
    ]
    share_ts = response["file"]["shares"]["public"][parent["channel"]][0]["ts"]
    assert share_ts == thread[1]["ts"]


def test_an_upload_without_a_channel_stays_private(slack):
    response = web_client(slack).files_upload_v2(content="a,b\n1,2\n", filename="pace.csv")

    assert slack.files[0]["channel"] is None and slack.files[0]["content"] == b"a,b\n1,2\n"
    assert response["file"]["channels"] == [] and slack.messages == []


# -- validation ----------------------------------------------------------------------------------

FIELD = {"type": "mrkdwn", "text": "*Target*\n48,000"}
INVALID = {
    "51-blocks": ({"text": "t", "blocks": [section("x")] * 51}, "invalid_blocks"),
    "section-3001-chars": ({"text": "t", "blocks": [section("x" * 3001)]}, "invalid_blocks"),
    "header-151-chars": ({"text": "t", "blocks": [header("x" * 151)]}, "invalid_blocks"),
    "11-fields": ({"text": "t", "blocks": [{"type": "section", "fields": [FIELD] * 11}]}, "invalid_blocks"),
    "field-2001-chars": (
        {"text": "t", "blocks": [{"type": "section", "fields": [{"type": "mrkdwn", "text": "x" * 2001}]}]},
        "invalid_blocks",
    ),
    "11-context-elements": ({"text": "t", "blocks": [context(11)]}, "invalid_blocks"),
    "26-action-elements": ({"text": "t", "blocks": [actions(26)]}, "invalid_blocks"),
    "block-id-256-chars": ({"text": "t", "blocks": [{**section("x"), "block_id": "b" * 256}]}, "invalid_blocks"),
    "header-in-mrkdwn": (
        {"text": "t", "blocks": [{"type": "header", "text": {"type": "mrkdwn", "text": "x"}}]},
        "invalid_blocks",
    ),
    "text-object-of-no-type": (
        {"text": "t", "blocks": [{"type": "section", "text": {"type": "markdown", "text": "x"}}]},
        "invalid_blocks",
    ),
    "empty-section-text": ({"text": "t", "blocks": [section("")]}, "invalid_blocks"),
    "unknown-block-type": ({"text": "t", "blocks": [{"type": "sectoin", "text": FIELD}]}, "invalid_blocks"),
    # Slack's total for a message's blocks (observed ~13,200; slackapi/bolt-js#2509) has its own code.
    "13001-chars-in-blocks": (
        {"text": "t", "blocks": [section("x" * 2600)] * 5 + [section("x")]},
        "msg_blocks_too_long",
    ),
    "no-text-no-blocks": ({"text": ""}, "no_text"),
    "metadata-without-payload": ({"text": "t", "metadata": {"event_type": "x"}}, "invalid_metadata_format"),
}
VALID = {
    "50-blocks": {"text": "t", "blocks": [section("x")] * 50},
    "section-3000-chars": {"text": "t", "blocks": [section("x" * 3000)]},
    "header-150-chars": {"text": "t", "blocks": [header("x" * 150)]},
    # Ten fields of 2,000 would be 20,000 characters, over Slack's total for a message's blocks.
    "10-fields": {"text": "t", "blocks": [{"type": "section", "fields": [FIELD] * 10}]},
    "field-2000-chars": {
        "text": "t",
        "blocks": [{"type": "section", "fields": [{"type": "mrkdwn", "text": "x" * 2000}]}],
    },
    "blocks-without-text": {"blocks": [section("x")]},
    "10-context-elements": {"text": "t", "blocks": [context(10)]},
    "25-action-elements": {"text": "t", "blocks": [actions(25)]},
    "block-id-255-chars": {"text": "t", "blocks": [{**section("x"), "block_id": "b" * 255}]},
    "13000-chars-in-blocks": {"text": "t", "blocks": [section("x" * 2600)] * 5},
    "metadata-emptied": {"text": "t", "metadata": {}},
}


@pytest.mark.parametrize("payload, error", list(INVALID.values()), ids=list(INVALID))
def test_slack_refuses_what_slack_refuses(slack, payload, error):
    assert api_error(lambda: web_client(slack).chat_postMessage(channel=CHANNEL, **payload)).response["error"] == error
    assert slack.messages == []


@pytest.mark.parametrize("payload", list(VALID.values()), ids=list(VALID))
def test_slack_accepts_what_is_at_the_limits(slack, payload):
    assert web_client(slack).chat_postMessage(channel=CHANNEL, **payload)["ok"]
    assert len(slack.messages) == 1


@pytest.mark.parametrize(
    "token, error", [("xoxb-wrong", "invalid_auth"), (None, "not_authed")], ids=["wrong-token", "no-token"]
)
def test_a_bad_token_is_refused(slack, token, error):
    refused = api_error(lambda: web_client(slack, token=token).chat_postMessage(channel=CHANNEL, text="t"))
    assert refused.response["error"] == error
    assert slack.messages == []


# -- faults --------------------------------------------------------------------------------------


def test_a_429_is_retried_after_retry_after_and_stored_once(slack):
    slack.fail_next("chat.postMessage", status=429, retry_after=1)
    client = web_client(slack, handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])

    assert client.chat_postMessage(channel=CHANNEL, text="Off track")["ok"]
    assert len(slack.messages) == 1
    assert slack.faulted == [("chat.postMessage", "429")]


def test_a_429_without_a_rate_limit_handler_raises(slack):
    slack.fail_next("chat.postMessage", status=429, retry_after=7)

    refused = api_error(lambda: web_client(slack).chat_postMessage(channel=CHANNEL, text="Off track"))
    assert refused.response.status_code == 429
    assert refused.response["error"] == "ratelimited"
    assert refused.response.headers["Retry-After"] == "7"
    assert slack.messages == []


@pytest.mark.parametrize("status, error", [(500, "internal_error"), (503, "service_unavailable")], ids=["500", "503"])
@pytest.mark.parametrize(
    "handlers, stored",
    [([], 0), ([ServerErrorRetryHandler(max_retry_count=1)], 1)],
    ids=["no-retry-handlers", "server-error-handler"],
)
def test_a_server_error_is_retried_only_by_its_handler(slack, status, error, handlers, stored):
    slack.fail_next("chat.postMessage", status=status)
    client = web_client(slack, handlers=handlers)

    if stored:
        client.chat_postMessage(channel=CHANNEL, text="Off track")
    else:
        assert api_error(lambda: client.chat_postMessage(channel=CHANNEL, text="Off track")).response["error"] == error
    assert len(slack.messages) == stored
    assert slack.faulted == [("chat.postMessage", str(status))]


@pytest.mark.parametrize(
    "handlers",
    [[], [ConnectionErrorRetryHandler(max_retry_count=2)]],
    ids=["no-retry-handlers", "connection-error-handler"],
)
def test_a_timeout_raises_a_bare_timeout_error_and_posts_nothing(slack, handlers):
    slack.fail_next("chat.postMessage", timeout=10)
    client = web_client(slack, handlers=handlers, timeout=1)

    with pytest.raises(TimeoutError) as info:
        client.chat_postMessage(channel=CHANNEL, text="Off track")
    assert not isinstance(info.value, SlackClientError)
    assert slack.messages == []
    assert slack.faulted == [("chat.postMessage", "timeout")]  # not retried


DELIVERY_HANDLERS = [
    ConnectionErrorRetryHandler(max_retry_count=2),
    RateLimitErrorRetryHandler(max_retry_count=3),
    ServerErrorRetryHandler(max_retry_count=2),
]


@pytest.mark.parametrize(
    "handlers, stored",
    [([], 1), (None, 2), (DELIVERY_HANDLERS, 2)],
    ids=["no-retry-handlers", "slack-sdk-default", "goalwatch-delivery-handlers"],
)
def test_a_dropped_answer_after_the_post_is_stored(slack, handlers, stored):
    """The post is done, the answer lost. Without a retry the client raises RemoteDisconnected;
    slack_sdk's default ConnectionErrorRetryHandler (and goalwatch's delivery handlers) retry it and
    Slack shows the alert twice: chat.postMessage has no idempotency key."""
    slack.fail_next("chat.postMessage", drop=True)
    client = web_client(slack, handlers=handlers)

    if stored == 1:
        with pytest.raises(RemoteDisconnected) as info:
            client.chat_postMessage(channel=CHANNEL, text="Off track")
        assert not isinstance(info.value, SlackClientError)
    else:
        assert client.chat_postMessage(channel=CHANNEL, text="Off track")["ok"]
    assert [m["text"] for m in slack.messages] == ["Off track"] * stored
    assert len(slack.posted()) == stored
    assert slack.faulted == [("chat.postMessage", "drop")]


def test_faults_pick_their_method_and_count(slack):
    slack.fail_next("chat.update", status=500, times=2)
    client = web_client(slack, handlers=[])

    posted = client.chat_postMessage(channel=CHANNEL, text="Off track")  # not chat.update: untouched
    for _ in range(2):
        api_error(lambda: client.chat_update(channel=posted["channel"], ts=posted["ts"], text="edited"))
    client.chat_update(channel=posted["channel"], ts=posted["ts"], text="edited")

    assert slack.messages[0]["text"] == "edited"
    assert slack.faulted == [("chat.update", "500")] * 2


@pytest.mark.parametrize("options", [{}, {"status": 500, "drop": True}], ids=["none", "two-kinds"])
def test_a_fault_is_exactly_one_kind(slack, options):
    with pytest.raises(ValueError, match="exactly one"):
        slack.fail_next("chat.postMessage", **options)


# -- rate limit and concurrency ------------------------------------------------------------------


def test_a_second_post_to_a_channel_within_the_interval_is_rate_limited():
    with FakeSlack(token=TOKEN, rate_limit_per_channel=0.001) as slack:  # one post per 1,000 s
        client = web_client(slack, handlers=[])
        client.chat_postMessage(channel=CHANNEL, text="first")
        refused = api_error(lambda: client.chat_postMessage(channel=CHANNEL, text="second"))
        client.chat_postMessage(channel="#revenue-goals", text="elsewhere")

    assert refused.response.status_code == 429 and refused.response.headers["Retry-After"] == "1"
    assert [m["text"] for m in slack.messages] == ["first", "elsewhere"]
    assert slack.rate_limited == 1
    assert [b["text"] for b in slack.posted()] == ["first", "elsewhere"]  # a refused post was not handled


def test_the_rate_limit_handler_waits_out_the_channel_limit():
    with FakeSlack(token=TOKEN, rate_limit_per_channel=1.0) as slack:
        client = web_client(slack, handlers=[RateLimitErrorRetryHandler(max_retry_count=2)])
        for text in ("first", "second"):
            client.chat_postMessage(channel=CHANNEL, text=text)

    assert [m["text"] for m in slack.messages] == ["first", "second"]
    assert slack.rate_limited == 1


def test_concurrent_posts_are_all_kept(slack):
    client = web_client(slack)
    threads = [
        threading.Thread(target=client.chat_postMessage, kwargs={"channel": f"#c{i % 4}", "text": str(i)})
        for i in range(24)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(int(m["text"]) for m in slack.messages) == list(range(24))
    assert len({m["ts"] for m in slack.messages}) == 24
    assert sum(len(slack.channel_messages(f"#c{i}")) for i in range(4)) == 24


def test_invalid_blocks_names_each_breach_by_json_pointer(slack):
    blocks = [section("x" * 3001), header("x" * 151), {"type": "section", "fields": [FIELD] * 11}]

    refused = api_error(lambda: web_client(slack).chat_postMessage(channel=CHANNEL, text="t", blocks=blocks))

    assert refused.response["error"] == "invalid_blocks"
    assert refused.response["errors"] == [
        "must be less than 3001 characters [json-pointer:/blocks/0/text/text]",
        "must be less than 151 characters [json-pointer:/blocks/1/text/text]",
        "no more than 10 items allowed [json-pointer:/blocks/2/fields]",
    ]
    assert slack.messages == []


def test_text_over_40000_characters_is_truncated_and_posted_with_a_warning(slack):
    response = web_client(slack).chat_postMessage(channel=CHANNEL, text="x" * 40_001)

    assert response["ok"] and response["response_metadata"]["warnings"] == ["message_truncated"]
    assert len(slack.messages[0]["text"]) == 40_000


def test_update_text_over_4000_characters_is_msg_too_long(slack):
    client = web_client(slack)
    posted = client.chat_postMessage(channel=CHANNEL, text="Off track")

    refused = api_error(lambda: client.chat_update(channel=posted["channel"], ts=posted["ts"], text="x" * 4001))
    assert refused.response["error"] == "msg_too_long"
    assert client.chat_update(channel=posted["channel"], ts=posted["ts"], text="x" * 4000)["ok"]
    invalid = api_error(lambda: client.chat_update(channel=posted["channel"], ts=posted["ts"], blocks=[context(11)]))
    assert invalid.response["error"] == "invalid_blocks"
    assert slack.messages[0]["text"] == "x" * 4000


def test_update_keeps_metadata_it_is_not_given_and_an_empty_object_removes_it(slack):
    client = web_client(slack)
    posted = client.chat_postMessage(channel=CHANNEL, text="Off track", metadata=METADATA)

    client.chat_update(channel=posted["channel"], ts=posted["ts"], text="edited")
    assert slack.messages[0]["metadata"] == METADATA
    client.chat_update(channel=posted["channel"], ts=posted["ts"], text="edited", metadata={})
    assert slack.messages[0]["metadata"] is None


# -- channels as a registry ----------------------------------------------------------------------


def test_without_auto_channels_only_added_channels_exist():
    with FakeSlack(token=TOKEN, auto_channels=False) as slack:
        client = web_client(slack)
        unknown = api_error(lambda: client.chat_postMessage(channel=CHANNEL, text="t"))
        by_id = api_error(lambda: client.conversations_history(channel=slack.channel_id("#elsewhere")))
        channel_id = slack.add_channel(CHANNEL)
        posted = client.chat_postMessage(channel=CHANNEL, text="t")

    assert unknown.response["error"] == by_id.response["error"] == "channel_not_found"
    assert channel_id == FakeSlack.channel_id(CHANNEL) == posted["channel"]
    assert [m["text"] for m in slack.messages] == ["t"]


def test_a_private_channel_is_reached_by_its_id_and_only_by_a_member(slack):
    channel_id = slack.add_channel("#leadership", private=True)
    client = web_client(slack)

    by_name = api_error(lambda: client.chat_postMessage(channel="#leadership", text="t"))
    assert by_name.response["error"] == "channel_not_found"
    assert client.chat_postMessage(channel=channel_id, text="t")["channel"] == channel_id
    info = client.conversations_info(channel=channel_id)["channel"]
    assert (info["id"], info["name"], info["is_private"], info["is_member"]) == (channel_id, "leadership", True, True)

    slack.remove_bot(channel_id)
    for call in (
        lambda: client.chat_postMessage(channel=channel_id, text="t"),
        lambda: client.conversations_history(channel=channel_id),
        lambda: client.conversations_info(channel=channel_id),
    ):
        assert api_error(call).response["error"] == "channel_not_found"  # invisible to a non-member


def test_a_public_channel_the_bot_left_is_not_in_channel_unless_chat_write_public(slack):
    slack.remove_bot(CHANNEL)
    client = web_client(slack)
    channel_id = slack.channel_id(CHANNEL)

    assert api_error(lambda: client.chat_postMessage(channel=CHANNEL, text="t")).response["error"] == "not_in_channel"
    assert api_error(lambda: client.conversations_history(channel=channel_id)).response["error"] == "not_in_channel"
    assert client.conversations_info(channel=channel_id)["channel"]["is_member"] is False
    assert slack.messages == []

    with FakeSlack(token=TOKEN, scopes=[*DEFAULT_SCOPES, "chat:write.public"]) as public:
        public.remove_bot(CHANNEL)
        public.add_channel("#secret", private=True, member=False)
        assert web_client(public).chat_postMessage(channel=CHANNEL, text="t")["ok"]
        secret = api_error(lambda: web_client(public).chat_postMessage(channel=public.channel_id("#secret"), text="t"))
        assert secret.response["error"] == "channel_not_found"
        assert len(public.messages) == 1


def test_an_archived_channel_refuses_posts_and_edits_but_can_be_read(slack):
    client = web_client(slack)
    posted = client.chat_postMessage(channel=CHANNEL, text="Off track")
    slack.archive(CHANNEL)

    assert api_error(lambda: client.chat_postMessage(channel=CHANNEL, text="t")).response["error"] == "is_archived"
    edit = api_error(lambda: client.chat_update(channel=posted["channel"], ts=posted["ts"], text="edited"))
    assert edit.response["error"] == "is_inactive"
    assert [m["text"] for m in client.conversations_history(channel=posted["channel"])["messages"]] == ["Off track"]
    assert client.conversations_info(channel=posted["channel"])["channel"]["is_archived"] is True


@pytest.mark.parametrize(
    "thread_ts, error",
    [("1700000000.000001", "thread_not_found"), ("reply", "cannot_reply_to_message"), ("soon", "invalid_thread_ts")],
    ids=["unknown-ts", "a-replys-ts", "malformed"],
)
def test_thread_ts_must_be_a_top_level_message_of_the_channel(slack, thread_ts, error):
    client = web_client(slack)
    parent = client.chat_postMessage(channel=CHANNEL, text="parent")
    reply = client.chat_postMessage(channel=CHANNEL, text="reply", thread_ts=parent["ts"])
    thread_ts = reply["ts"] if thread_ts == "reply" else thread_ts

    refused = api_error(lambda: client.chat_postMessage(channel=CHANNEL, text="t", thread_ts=thread_ts))
    assert refused.response["error"] == error
    assert len(slack.messages) == 2


def test_a_reply_to_a_deleted_message_is_thread_not_found(slack):
    client = web_client(slack)
    parent = client.chat_postMessage(channel=CHANNEL, text="parent")
    slack.delete_message(CHANNEL, parent["ts"])

    refused = api_error(lambda: client.chat_postMessage(channel=CHANNEL, text="t", thread_ts=parent["ts"]))
    assert refused.response["error"] == "thread_not_found"
    assert slack.messages == [] and slack.deleted == []  # a person's delete, not the bot's


# -- edits and deletes only of the bot's own messages -----------------------------------------------


def test_the_bot_may_edit_and_delete_only_its_own_messages(slack):
    client = web_client(slack)
    channel_id = slack.channel_id(CHANNEL)
    theirs = slack.post_as_user(CHANNEL, "a person's message")

    edit = api_error(lambda: client.chat_update(channel=channel_id, ts=theirs, text="mine now"))
    delete = api_error(lambda: client.chat_delete(channel=channel_id, ts=theirs))
    assert (edit.response["error"], delete.response["error"]) == ("cant_update_message", "cant_delete_message")
    assert [m["text"] for m in slack.messages] == ["a person's message"]


def test_chat_delete_removes_the_bots_message_and_records_it(slack):
    client = web_client(slack)
    posted = client.chat_postMessage(channel=CHANNEL, text="Off track", metadata=METADATA)

    response = client.chat_delete(channel=posted["channel"], ts=posted["ts"])
    assert (response["ok"], response["channel"], response["ts"]) == (True, posted["channel"], posted["ts"])
    assert slack.messages == [] and [m["ts"] for m in slack.deleted] == [posted["ts"]]
    again = api_error(lambda: client.chat_delete(channel=posted["channel"], ts=posted["ts"]))
    assert again.response["error"] == "message_not_found"
    by_name = api_error(lambda: client.chat_delete(channel=CHANNEL, ts=posted["ts"]))
    assert by_name.response["error"] == "channel_not_found"


def test_a_deleted_thread_parent_stays_as_a_tombstone(slack):
    client = web_client(slack)
    parent = client.chat_postMessage(channel=CHANNEL, text="parent", metadata=METADATA)
    client.chat_postMessage(channel=CHANNEL, text="reply", thread_ts=parent["ts"])

    client.chat_delete(channel=parent["channel"], ts=parent["ts"])
    thread = client.conversations_replies(channel=parent["channel"], ts=parent["ts"])["messages"]
    assert [(m["text"], m.get("subtype")) for m in thread] == [
        ("This message was deleted.", "tombstone"),
        ("reply", None),
    ]
    edit = api_error(lambda: client.chat_update(channel=parent["channel"], ts=parent["ts"], text="x"))
    assert edit.response["error"] == "message_not_found"


# -- scopes and tokens -----------------------------------------------------------------------------


def test_every_answer_carries_the_tokens_scopes(slack):
    client = web_client(slack)
    response = client.auth_test()

    assert response.headers["x-oauth-scopes"] == ",".join(DEFAULT_SCOPES)
    refused = api_error(lambda: client.chat_update(channel=slack.channel_id(CHANNEL), ts="1.000001", text="x"))
    assert refused.response.headers["x-oauth-scopes"] == ",".join(DEFAULT_SCOPES)


@pytest.mark.parametrize(
    "scopes, call, needed",
    [
        ("channels:read", lambda c: c.chat_postMessage(channel=CHANNEL, text="t"), "chat:write"),
        ("chat:write", lambda c: c.files_upload_v2(content=b"x", filename="x.txt"), "files:write"),
        (
            "chat:write",
            lambda c: c.conversations_history(channel=FakeSlack.channel_id(CHANNEL)),
            "channels:history,groups:history,mpim:history,im:history",
        ),
        (
            "chat:write,channels:history",
            lambda c: c.conversations_replies(channel=FakeSlack.channel_id("#private"), ts="1.000001"),
            "groups:history",
        ),
        (
            "channels:read",
            lambda c: c.conversations_list(types="public_channel,private_channel"),
            "groups:read",
        ),
    ],
    ids=["post", "upload", "history", "private-replies", "list-private"],
)
def test_a_method_without_its_scope_is_missing_scope(scopes, call, needed):
    with FakeSlack(token=TOKEN, scopes=scopes) as slack:
        slack.add_channel("#private", private=True)
        refused = api_error(lambda: call(web_client(slack)))
        assert web_client(slack).auth_test()["ok"]  # auth.test needs no scope

    assert refused.response["error"] == "missing_scope"
    assert (refused.response["needed"], refused.response["provided"]) == (needed, scopes)
    assert refused.response.headers["x-oauth-scopes"] == scopes
    assert slack.messages == [] and slack.files == []


@pytest.mark.parametrize("action, error", [("revoke", "token_revoked"), ("deactivate", "account_inactive")])
def test_a_revoked_or_deactivated_token_is_refused_everywhere(slack, action, error):
    client = web_client(slack)
    getattr(slack, action)()

    for call in (client.auth_test, lambda: client.chat_postMessage(channel=CHANNEL, text="t")):
        refused = api_error(call)
        assert refused.response["error"] == error and "x-oauth-scopes" not in refused.response.headers
    assert slack.messages == []


# -- reading: pages, cursors, info and list --------------------------------------------------------


def test_history_pages_at_the_page_cap_with_an_opaque_cursor():
    with FakeSlack(token=TOKEN, page_cap=15) as slack:
        client = web_client(slack)
        channel = [client.chat_postMessage(channel=CHANNEL, text=f"m{i}") for i in range(16)][0]["channel"]

        first = client.conversations_history(channel=channel, limit=200)  # capped at 15
        cursor = first["response_metadata"]["next_cursor"]
        second = client.conversations_history(channel=channel, cursor=cursor)
        bad = api_error(lambda: client.conversations_history(channel=channel, cursor="not-a-cursor"))

    assert [m["text"] for m in first["messages"]] == [f"m{i}" for i in range(15, 0, -1)] and first["has_more"]
    assert cursor and not cursor.isdigit()
    assert [m["text"] for m in second["messages"]] == ["m0"] and not second["has_more"]
    assert second["response_metadata"]["next_cursor"] == ""
    assert bad.response["error"] == "invalid_cursor"


def test_replies_are_the_parent_then_replies_oldest_first_in_pages():
    with FakeSlack(token=TOKEN, page_cap=15) as slack:
        client = web_client(slack)
        parent = client.chat_postMessage(channel=CHANNEL, text="parent")
        replies = [client.chat_postMessage(channel=CHANNEL, text=f"r{i}", thread_ts=parent["ts"]) for i in range(15)]

        first = client.conversations_replies(channel=parent["channel"], ts=replies[3]["ts"])  # any ts of the thread
        cursor = first["response_metadata"]["next_cursor"]
        second = client.conversations_replies(channel=parent["channel"], ts=parent["ts"], cursor=cursor)
        missing = api_error(lambda: client.conversations_replies(channel=parent["channel"], ts="1700000000.000001"))

    assert [m["text"] for m in first["messages"]] == ["parent"] + [f"r{i}" for i in range(14)] and first["has_more"]
    assert first["messages"][0]["reply_count"] == 15
    assert [m["text"] for m in second["messages"]] == ["r14"] and not second["has_more"]
    assert missing.response["error"] == "thread_not_found"


def test_history_takes_oldest_from_the_wall_clock():
    """A client derives ``oldest`` from its own clock before its first attempt, as Slack's ts are times."""
    with FakeSlack(token=TOKEN) as slack:
        client = web_client(slack)
        client.chat_postMessage(channel=CHANNEL, text="before")
        oldest = f"{time.time():.6f}"
        posted = [client.chat_postMessage(channel=CHANNEL, text=f"after{i}") for i in range(3)]

        newer = client.conversations_history(channel=posted[0]["channel"], oldest=oldest)["messages"]
        bad = api_error(lambda: client.conversations_history(channel=posted[0]["channel"], oldest="yesterday"))

    assert [m["text"] for m in newer] == ["after2", "after1", "after0"]
    assert abs(float(posted[0]["ts"]) - time.time()) < 60
    assert [p["ts"] for p in posted] == sorted({p["ts"] for p in posted}, key=float)
    assert all(re.fullmatch(r"\d{10}\.\d{6}", p["ts"]) for p in posted)
    assert bad.response["error"] == "invalid_ts_oldest"


def test_conversations_list_pages_public_channels_and_the_private_ones_the_bot_is_in(slack):
    for i in range(5):
        slack.add_channel(f"#c{i}")
    slack.add_channel("#old", archived=True)
    slack.add_channel("#mine", private=True)
    slack.add_channel("#not-mine", private=True, member=False)
    slack.add_channel("#left", member=False)
    client = web_client(slack)

    public = client.conversations_list()["channels"]
    assert {c["name"] for c in public} == {"c0", "c1", "c2", "c3", "c4", "old", "left"}
    assert {c["name"]: c["is_member"] for c in public}["left"] is False
    names, cursor = [], None
    while True:
        page = client.conversations_list(
            types="public_channel,private_channel", exclude_archived=True, limit=3, cursor=cursor
        )
        assert len(page["channels"]) <= 3
        names += [c["name"] for c in page["channels"]]
        if not (cursor := page["response_metadata"]["next_cursor"]):
            break
    assert sorted(names) == ["c0", "c1", "c2", "c3", "c4", "left", "mine"]
    assert api_error(lambda: client.conversations_list(types="everything")).response["error"] == "invalid_types"


def test_the_slack_hooks_get_channel_id_finds_a_channel_by_paging_the_list(slack, monkeypatch):
    from airflow.providers.slack.hooks.slack import SlackHook

    wanted = slack.add_channel("#growth-goals")
    for i in range(120):  # more than one page of the list's default 100
        slack.add_channel(f"#z{i}")
    monkeypatch.setenv("AIRFLOW_CONN_SLACK_API_DEFAULT", slack.connection_json())

    assert SlackHook(slack_conn_id="slack_api_default").get_channel_id("growth-goals") == wanted
    assert len(slack.posted("conversations.list")) >= 1


# -- rate limits ---------------------------------------------------------------------------------


def test_tier_3_history_is_rate_limited_with_retry_after():
    with FakeSlack(token=TOKEN, rate_limits=True) as slack:
        client = web_client(slack, handlers=[])
        channel_id = client.chat_postMessage(channel=CHANNEL, text="t")["channel"]
        for _ in range(50):
            client.conversations_history(channel=channel_id)
        refused = api_error(lambda: client.conversations_history(channel=channel_id))

    assert refused.response.status_code == 429 and refused.response["error"] == "ratelimited"
    assert 1 <= int(refused.response.headers["Retry-After"]) <= 60
    assert slack.rate_limited == 1 and slack.faulted == [("conversations.history", "rate_limited")]
    assert len(slack.posted("conversations.history")) == 50  # the refused call was not handled


def test_a_dict_of_rate_limits_limits_just_those_methods():
    with FakeSlack(token=TOKEN, rate_limits={"chat.update": 2}) as slack:
        client = web_client(slack, handlers=[])
        posted = [client.chat_postMessage(channel=CHANNEL, text=f"m{i}") for i in range(3)]  # not limited
        for p in posted[:2]:
            client.chat_update(channel=p["channel"], ts=p["ts"], text="edited")
        refused = api_error(lambda: client.chat_update(channel=posted[2]["channel"], ts=posted[2]["ts"], text="x"))

    assert refused.response.status_code == 429 and "Retry-After" in refused.response.headers
    assert [m["text"] for m in slack.messages] == ["edited", "edited", "m2"]


# -- new faults ----------------------------------------------------------------------------------


def test_store_then_500_leaves_the_message_stored_while_the_client_raises(slack):
    slack.fail_next("chat.postMessage", status=500, after_store=True)

    refused = api_error(lambda: web_client(slack, handlers=[]).chat_postMessage(channel=CHANNEL, text="Off track"))
    assert refused.response.status_code == 500 and refused.response["error"] == "internal_error"
    assert [m["text"] for m in slack.messages] == ["Off track"]
    assert slack.faulted == [("chat.postMessage", "500-stored")]


def test_with_a_server_error_handler_store_then_500_posts_twice(slack):
    slack.fail_next("chat.postMessage", status=500, after_store=True)
    client = web_client(slack, handlers=[ServerErrorRetryHandler(max_retry_count=1)])

    assert client.chat_postMessage(channel=CHANNEL, text="Off track")["ok"]
    assert [m["text"] for m in slack.messages] == ["Off track"] * 2


def test_a_late_write_appears_after_the_client_timed_out(slack):
    slack.fail_next("chat.postMessage", late=1.5)
    client = web_client(slack, handlers=[], timeout=1)

    with pytest.raises(TimeoutError):
        client.chat_postMessage(channel=CHANNEL, text="Off track", metadata=METADATA)
    assert slack.messages == []  # not yet
    assert slack.wait_late(timeout=10)
    assert [m["text"] for m in slack.messages] == ["Off track"]
    assert slack.faulted == [("chat.postMessage", "late")]


def test_an_error_fault_is_a_refusal_that_does_nothing(slack):
    slack.fail_next("chat.postMessage", error="not_in_channel", times=2)
    client = web_client(slack)

    for _ in range(2):
        refused = api_error(lambda: client.chat_postMessage(channel=CHANNEL, text="t"))
        assert (refused.response.status_code, refused.response["error"]) == (200, "not_in_channel")
    assert client.chat_postMessage(channel=CHANNEL, text="t")["ok"]
    assert len(slack.messages) == 1 and slack.faulted == [("chat.postMessage", "not_in_channel")] * 2


def test_after_store_needs_a_status():
    with pytest.raises(ValueError, match="after_store"):
        FakeSlack().fail_next("chat.postMessage", drop=True, after_store=True)


def test_a_busy_channel_gets_other_peoples_messages(slack):
    client = web_client(slack)
    slack.chatter(CHANNEL, 2)
    slack.busy(CHANNEL, per_call=3)

    posted = client.chat_postMessage(channel=CHANNEL, text="Off track")
    history = client.conversations_history(channel=posted["channel"], include_all_metadata=True)["messages"]

    assert len(history) == 2 + 1 + 3  # chatter, the post, 3 after it (3 more come after the history call)
    assert [m["text"] for m in history].index("Off track") == 3  # newest first
    others = [m for m in history if m["text"] != "Off track"]
    assert all(m["user"] == "U0SOMEONE" and "bot_id" not in m and "metadata" not in m for m in others)
    assert len(slack.channel_messages(CHANNEL)) == 2 + 1 + 3 + 3
