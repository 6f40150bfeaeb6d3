"""The fake Slack Web API, driven only through the real slack_sdk WebClient over HTTP: channels by
name and ID, threads, metadata, files_upload_v2, validation, rate limits and injected faults (and
what the client does with each, which is what goalwatch's delivery has to defend against)."""

from __future__ import annotations

import re
import struct
import threading
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

from tests.fakes.slack import FakeSlack

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
    "no-text-no-blocks": ({"text": ""}, "no_text"),
    "metadata-without-payload": ({"text": "t", "metadata": {"event_type": "x"}}, "invalid_metadata_format"),
}
VALID = {
    "50-blocks": {"text": "t", "blocks": [section("x")] * 50},
    "section-3000-chars": {"text": "t", "blocks": [section("x" * 3000)]},
    "header-150-chars": {"text": "t", "blocks": [header("x" * 150)]},
    "10-fields-of-2000": {
        "text": "t",
        "blocks": [{"type": "section", "fields": [{"type": "mrkdwn", "text": "x" * 2000}] * 10}],
    },
    "blocks-without-text": {"blocks": [section("x")]},
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
