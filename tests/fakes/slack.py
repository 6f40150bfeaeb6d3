"""A local HTTP server that speaks enough of Slack's Web API for tests and benchmarks.

The real slack_sdk ``WebClient`` (or the Slack provider's ``SlackHook``) talks to it over HTTP on
127.0.0.1: pass ``base_url=slack.base_url``, or put :meth:`FakeSlack.connection_json` in
``AIRFLOW_CONN_SLACK_API_DEFAULT``. Bodies are read as slack_sdk sends them: chat.* as JSON, other
methods form-encoded (its sync client POSTs every method, even those it marks GET); GET with a
query string, as its async client sends conversations.*, works too. Like Slack, it has:

- Auth: no token gives ``not_authed``, a wrong one ``invalid_auth`` (HTTP 200, ``ok`` false).
- Channels: chat.postMessage takes a name (``#growth-goals``) or an ID and answers with the ID
  (``C`` + 8 hex digits of a hash of the name: :meth:`FakeSlack.channel_id`); messages keep the ID.
  chat.update, conversations.* and files.completeUploadExternal take only an ID (a name gives
  ``channel_not_found``); any well-formed ID is a channel, empty until posted to.
- chat.postMessage / chat.update keep ``text``, ``blocks``, ``metadata`` (``event_type`` +
  ``event_payload``) and ``thread_ts``; chat.update edits a message or reply in place, keeping the
  blocks and metadata it is not given. Errors: ``no_text``, ``invalid_blocks`` (over 50 blocks, a
  section text over 3,000 characters, a header over 150, over 10 fields or one over 2,000),
  ``invalid_blocks_format``, ``invalid_metadata_format``, ``message_not_found``.
- conversations.history (oldest, latest, inclusive, limit, cursor, include_all_metadata): top-level
  messages, newest first; conversations.replies (ts): the parent, then its replies
  (``thread_not_found``). ``metadata`` is shown only with include_all_metadata.
- files_upload_v2: files.getUploadURLExternal (filename, length) gives ``upload_url`` =
  ``http://127.0.0.1:PORT/upload/<file_id>``, where the bytes are POSTed raw, with no token;
- incoming webhooks: a POST to ``/services/...`` is recorded as a ``webhook`` call and answered ``ok``;
  files.completeUploadExternal (files, channel_id, thread_ts, initial_comment) moves them to
  :attr:`FakeSlack.files` and shares them: a share is also a message (``files``: the IDs).
- ``FakeSlack(rate_limit_per_channel=1.0)``: a chat.postMessage less than 1/rate seconds after the
  last accepted post to that channel gets HTTP 429, Retry-After: 1 (counted in ``rate_limited``).

Faults, for the next ``times`` calls of a method (:meth:`FakeSlack.fail_next`; the raw upload is
``"upload"``), and what slack_sdk's sync WebClient sees:

- ``status=429, retry_after=N``: nothing done; HTTP 429, Retry-After: N. SlackApiError
  (``ratelimited``) unless a RateLimitErrorRetryHandler sleeps N (+ under 1 s) and retries.
- ``status=500`` / ``503``: nothing done; SlackApiError (``internal_error`` /
  ``service_unavailable``) unless a ServerErrorRetryHandler retries.
- ``timeout=S``: the answer is held S seconds (make it more than the client's ``timeout``), then
  the connection closes, nothing done. The client raises its socket's bare ``TimeoutError`` (not a
  SlackClientError), which ConnectionErrorRetryHandler does not retry.
- ``drop=True``: the request IS done (a message is stored), then the connection closes with no
  answer. The client gets ``http.client.RemoteDisconnected`` (a ConnectionResetError, not a
  SlackClientError); a ConnectionErrorRetryHandler -- WebClient has one by default -- retries it,
  so chat.postMessage, which has no idempotency key, posts the message twice.

files_upload_v2's raw upload bypasses the retry handlers: a fault there surfaces as urllib's own
error (``HTTPError``, ``TimeoutError``, ``RemoteDisconnected``). ``calls`` holds the requests the
API handled (dropped ones too); ``faulted`` each injected fault and rate-limit refusal as
(method, kind).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = ["Call", "FakeSlack"]

MAX_BLOCKS, MAX_SECTION_TEXT, MAX_HEADER_TEXT = 50, 3000, 150
MAX_FIELDS, MAX_FIELD_TEXT = 10, 2000  # per section
BOT_USER, BOT_ID = "U0GOALWATCH", "B0TEST"
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{8,}")
_JSON_FIELDS = ("blocks", "attachments", "metadata", "files")
_SERVER_ERRORS = {500: "internal_error", 503: "service_unavailable"}
_Answer = tuple[int, dict[str, str], "dict[str, Any] | str"]


@dataclass(frozen=True)
class Call:
    method: str
    body: dict[str, Any]
    at: float


@dataclass
class _Fault:
    method: str
    status: int | None = None
    retry_after: int | None = None
    timeout: float | None = None
    drop: bool = False


class _Refusal(Exception):
    """Raised by an API method: answer ``{"ok": false, "error": ...}`` instead."""

    def __init__(self, error: str, *, status: int = 200, headers: dict[str, str] | None = None) -> None:
        super().__init__(error)
        self.error, self.status, self.headers = error, status, headers or {}


@dataclass
class FakeSlack:
    token: str = "xoxb-fake-token"
    rate_limit_per_channel: float | None = None
    calls: list[Call] = field(default_factory=list, init=False)
    messages: list[dict[str, Any]] = field(default_factory=list, init=False)
    files: list[dict[str, Any]] = field(default_factory=list, init=False)
    faulted: list[tuple[str, str]] = field(default_factory=list, init=False)
    rate_limited: int = field(default=0, init=False)
    _faults: deque[_Fault] = field(default_factory=deque, init=False)
    _uploads: dict[str, dict[str, Any]] = field(default_factory=dict, init=False)
    _last_post: dict[str, float] = field(default_factory=dict, init=False)
    _names: dict[str, str] = field(default_factory=dict)  # channel id -> name, as posted to
    _lock: threading.RLock = field(default_factory=threading.RLock, init=False)
    _stopping: threading.Event = field(default_factory=threading.Event, init=False)
    _server: ThreadingHTTPServer | None = field(default=None, init=False)
    _clock: int = field(default=0, init=False)

    @property
    def base_url(self) -> str:
        return self._root() + "/api/"

    def _root(self) -> str:
        assert self._server is not None, "start the server first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def connection_json(self) -> str:
        """An Airflow connection (JSON form, for ``AIRFLOW_CONN_...``) pointing at this server."""
        return json.dumps({"conn_type": "slack", "password": self.token, "extra": {"base_url": self.base_url}})

    def fail_next(
        self,
        method: str,
        *,
        status: int | None = None,
        retry_after: int | None = None,
        times: int = 1,
        timeout: float | None = None,
        drop: bool = False,
    ) -> None:
        """Fail the next ``times`` calls of ``method`` in one way: HTTP ``status`` (429 carries
        ``retry_after``), ``timeout`` seconds of silence, or ``drop`` the response after doing it."""
        if [status is not None, timeout is not None, drop].count(True) != 1:
            raise ValueError("give exactly one of status=, timeout= or drop=True")
        with self._lock:
            self._faults.extend(_Fault(method, status, retry_after, timeout, drop) for _ in range(times))

    def posted(self, method: str = "chat.postMessage") -> list[dict[str, Any]]:
        """The request bodies of ``method`` as sent (a channel stays as the caller named it)."""
        return [c.body for c in self.calls if c.method == method]

    @staticmethod
    def channel_id(name: str) -> str:
        """The channel ID Slack answers for ``name`` (with or without ``#``); an ID is returned as is."""
        if _CHANNEL_ID.fullmatch(name):
            return name
        return "C" + hashlib.sha256(name.lstrip("#").encode()).hexdigest()[:8].upper()

    def channel_messages(self, name_or_id: str) -> list[dict[str, Any]]:
        """Every message in a channel, thread replies included, in the order they were posted."""
        cid = self.channel_id(name_or_id)
        with self._lock:
            return [m for m in self.messages if m["channel"] == cid]

    # -- server lifecycle -----------------------------------------------------------------------

    def start(self) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                fake._handle(self)

            do_GET = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._stopping.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A short poll keeps stop() (which waits for the serve loop to notice) quick.
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-slack", daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._stopping.set()  # releases requests held by a timeout fault
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- HTTP -----------------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        url = urlsplit(request.path)
        raw = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        upload = url.path.startswith("/upload/")
        webhook = url.path.startswith("/services/")
        method = "upload" if upload else "webhook" if webhook else url.path.rsplit("/", 1)[-1]
        with self._lock:
            fault = next((f for f in self._faults if f.method == method), None)
            if fault is not None:
                self._faults.remove(fault)
        if fault is not None and not fault.drop:
            return self._fail(request, method, fault)
        if upload:
            answer = self._upload(url.path.rsplit("/", 1)[-1], raw)
        elif webhook:
            answer = self._webhook(raw)
        else:
            answer = self._api(method, _parse(request, url.query, raw), request.headers.get("Authorization") or "")
        if fault is not None:  # drop: done, but the client never hears of it
            self.faulted.append((method, "drop"))
            request.close_connection = True
            return
        self._reply(request, *answer)

    def _fail(self, request: BaseHTTPRequestHandler, method: str, fault: _Fault) -> None:
        if fault.timeout is not None:
            self.faulted.append((method, "timeout"))
            self._stopping.wait(fault.timeout)
            request.close_connection = True
            return
        self.faulted.append((method, str(fault.status)))
        error = "ratelimited" if fault.status == 429 else _SERVER_ERRORS.get(fault.status or 0, "internal_error")
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        self._reply(request, fault.status or 500, headers, {"ok": False, "error": error})

    def _api(self, method: str, body: dict[str, Any], authorization: str) -> _Answer:
        at, token = time.time(), authorization.removeprefix("Bearer ") or body.get("token")
        handler = getattr(self, "_api_" + method.replace(".", "_"), None)
        try:
            if not token or token != self.token:
                raise _Refusal("invalid_auth" if token else "not_authed")
            if handler is None:
                raise _Refusal("unknown_method")
            answer: _Answer = (200, {}, handler(body))
        except _Refusal as refusal:
            answer = (refusal.status, refusal.headers, {"ok": False, "error": refusal.error})
        if answer[0] != 429:  # a rate-limited post is refused, not handled
            self.calls.append(Call(method=method, body=body, at=at))
        return answer

    @staticmethod
    def _reply(
        request: BaseHTTPRequestHandler, status: int, headers: dict[str, str], payload: dict[str, Any] | str
    ) -> None:
        is_text = isinstance(payload, str)
        data = (payload if is_text else json.dumps(payload)).encode()
        request.send_response(status)
        request.send_header("Content-Type", "text/plain" if is_text else "application/json; charset=utf-8")
        request.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            request.send_header(key, value)
        request.end_headers()
        request.wfile.write(data)

    # -- the API --------------------------------------------------------------------------------

    def _api_auth_test(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "team": "goalwatch-test", "user": "goalwatch", "user_id": BOT_USER, "bot_id": BOT_ID}

    def _api_chat_postMessage(self, body: dict[str, Any]) -> dict[str, Any]:
        if not body.get("channel"):
            raise _Refusal("channel_not_found")
        self._check_message(body)
        cid = self.channel_id(str(body["channel"]))
        if str(body["channel"]).startswith("#"):
            self._names[cid] = str(body["channel"]).lstrip("#")
        with self._lock:
            now = time.monotonic()
            last = self._last_post.get(cid)
            if self.rate_limit_per_channel and last is not None and now - last < 1 / self.rate_limit_per_channel:
                self.rate_limited += 1
                self.faulted.append(("chat.postMessage", "rate_limited"))
                raise _Refusal("ratelimited", status=429, headers={"Retry-After": "1"})
            self._last_post[cid] = now
            message = self._store(
                cid,
                text=body.get("text", ""),
                blocks=body.get("blocks", []),
                thread_ts=body.get("thread_ts"),
                metadata=body.get("metadata"),
            )
            return {"ok": True, "channel": cid, "ts": message["ts"], "message": self._view(message, metadata=True)}

    def _api_chat_update(self, body: dict[str, Any]) -> dict[str, Any]:
        cid = self._existing_channel(body)
        self._check_message(body)
        with self._lock:
            message = self._find(cid, body.get("ts"))
            if message is None:
                raise _Refusal("message_not_found")
            message.update({k: body[k] for k in ("text", "blocks", "metadata") if k in body})
            return {
                "ok": True,
                "channel": cid,
                "ts": message["ts"],
                "text": message["text"],
                "message": self._view(message, metadata=True),
            }

    def _api_conversations_list(self, body: dict[str, Any]) -> dict[str, Any]:
        """The channels posted to by name (what SlackHook.get_channel_id looks through)."""
        return {
            "ok": True,
            "channels": [{"id": cid, "name": name, "is_channel": True} for cid, name in self._names.items()],
            "response_metadata": {"next_cursor": ""},
        }

    def _api_conversations_history(self, body: dict[str, Any]) -> dict[str, Any]:
        cid = self._existing_channel(body)
        low, high = (Decimal(str(body.get(k) or default)) for k, default in (("oldest", 0), ("latest", "inf")))
        inclusive = _truthy(body.get("inclusive"))
        with self._lock:
            top = [
                m
                for m in reversed(self.messages)
                if m["channel"] == cid
                and m["thread_ts"] in (None, m["ts"])
                and (low <= Decimal(m["ts"]) <= high if inclusive else low < Decimal(m["ts"]) < high)
            ]
            return self._page(top, body)

    def _api_conversations_replies(self, body: dict[str, Any]) -> dict[str, Any]:
        cid = self._existing_channel(body)
        with self._lock:
            message = self._find(cid, body.get("ts"))
            if message is None:
                raise _Refusal("thread_not_found")
            parent_ts = message["thread_ts"] or message["ts"]
            thread = [m for m in self.messages if m["channel"] == cid and parent_ts in (m["ts"], m["thread_ts"])]
            return self._page(thread, body)

    def _api_files_getUploadURLExternal(self, body: dict[str, Any]) -> dict[str, Any]:
        if not body.get("filename") or not str(body.get("length", "")).isdigit():
            raise _Refusal("invalid_arguments")
        with self._lock:
            file_id = f"F{len(self._uploads) + 1:08d}"
            self._uploads[file_id] = {"filename": body["filename"], "length": int(body["length"]), "content": None}
        return {"ok": True, "upload_url": f"{self._root()}/upload/{file_id}", "file_id": file_id}

    def _webhook(self, raw: bytes) -> _Answer:
        """An incoming webhook (``/services/T…/B…/…``): a JSON message in, plain ``ok`` out."""
        body = json.loads(raw or b"{}")
        with self._lock:
            self.calls.append(Call(method="webhook", body=body, at=time.time()))
        return 200, {}, "ok"

    def _upload(self, file_id: str, raw: bytes) -> _Answer:
        """The raw POST to an upload_url: no token, a plain-text answer, as files.slack.com gives."""
        with self._lock:
            pending = self._uploads.get(file_id)
            if pending is None:
                return 404, {}, "Not Found"
            pending["content"] = raw
        return 200, {}, f"OK - {len(raw)}"

    def _api_files_completeUploadExternal(self, body: dict[str, Any]) -> dict[str, Any]:
        cid = self._existing_channel(body, key="channel_id") if body.get("channel_id") else None
        wanted = body.get("files")
        if not isinstance(wanted, list) or not wanted:
            raise _Refusal("invalid_arguments")
        with self._lock:
            if any(self._uploads.get(f.get("id"), {}).get("content") is None for f in wanted):
                raise _Refusal("file_not_found")  # unknown, already completed, or never uploaded
            thread_ts, comment = body.get("thread_ts"), body.get("initial_comment")
            done = []
            for spec in wanted:
                upload = self._uploads[spec["id"]]
                done.append(
                    {
                        "id": spec["id"],
                        "title": spec.get("title") or upload["filename"],
                        "filename": upload["filename"],
                        "content": upload.pop("content"),
                        "channel": cid,
                        "thread_ts": thread_ts,
                        "initial_comment": comment,
                    }
                )
            self.files.extend(done)
            shares = {}
            if cid is not None:
                share = self._store(cid, text=comment or "", blocks=[], thread_ts=thread_ts, metadata=None)
                share["files"] = [f["id"] for f in done]
                shares = {"public": {cid: [{"ts": share["ts"], **({"thread_ts": thread_ts} if thread_ts else {})}]}}
        return {
            "ok": True,
            "files": [
                {
                    "id": f["id"],
                    "title": f["title"],
                    "name": f["filename"],
                    "size": len(f["content"]),
                    "channels": [cid] if cid else [],
                    "shares": shares,
                }
                for f in done
            ],
        }

    # -- helpers (called with the lock held where they touch state) ------------------------------

    def _store(
        self, cid: str, *, text: str, blocks: list[Any], thread_ts: str | None, metadata: dict[str, Any] | None
    ) -> dict[str, Any]:
        self._clock += 1
        message = {
            "channel": cid,
            "ts": f"1700000000.{self._clock:06d}",
            "text": text,
            "blocks": blocks,
            "thread_ts": thread_ts,
            "metadata": metadata,
        }
        self.messages.append(message)
        return message

    def _find(self, cid: str, ts: Any) -> dict[str, Any] | None:
        return next((m for m in self.messages if m["channel"] == cid and m["ts"] == ts), None)

    def _view(self, message: dict[str, Any], *, metadata: bool) -> dict[str, Any]:
        """A message as Slack's API shows it (no channel; replies counted on the parent)."""
        view = {
            "type": "message",
            "user": BOT_USER,
            "bot_id": BOT_ID,
            "text": message["text"],
            "ts": message["ts"],
            "blocks": message["blocks"],
        }
        replies = [
            m["ts"]
            for m in self.messages
            if m["channel"] == message["channel"] and m["thread_ts"] == message["ts"] != m["ts"]
        ]
        if replies:
            view.update(thread_ts=message["ts"], reply_count=len(replies), latest_reply=replies[-1])
        elif message["thread_ts"]:
            view.update(thread_ts=message["thread_ts"], parent_user_id=BOT_USER)
        if message.get("files"):
            view["files"] = [{"id": f} for f in message["files"]]
        if metadata and message["metadata"]:
            view["metadata"] = message["metadata"]
        return view

    def _page(self, messages: list[dict[str, Any]], body: dict[str, Any]) -> dict[str, Any]:
        start, limit = int(body.get("cursor") or 0), int(body.get("limit") or 100)
        page = messages[start : start + limit]
        more, metadata = start + limit < len(messages), _truthy(body.get("include_all_metadata"))
        return {
            "ok": True,
            "messages": [self._view(m, metadata=metadata) for m in page],
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def _existing_channel(self, body: dict[str, Any], *, key: str = "channel") -> str:
        """Slack takes only an ID here, where chat.postMessage also takes a name."""
        value = str(body.get(key) or "")
        if not _CHANNEL_ID.fullmatch(value):
            raise _Refusal("channel_not_found")
        return value

    @staticmethod
    def _check_message(body: dict[str, Any]) -> None:
        if not body.get("text") and not body.get("blocks"):
            raise _Refusal("no_text")
        blocks = body.get("blocks") or []
        if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
            raise _Refusal("invalid_blocks_format")
        if len(blocks) > MAX_BLOCKS or not all(_block_ok(b) for b in blocks):
            raise _Refusal("invalid_blocks")
        meta = body.get("metadata")
        if meta is not None and not (
            isinstance(meta, dict)
            and isinstance(meta.get("event_type"), str)
            and isinstance(meta.get("event_payload"), dict)
        ):
            raise _Refusal("invalid_metadata_format")


def _parse(request: BaseHTTPRequestHandler, query: str, raw: bytes) -> dict[str, Any]:
    body: dict[str, Any] = dict(parse_qsl(query))
    if "json" in (request.headers.get("Content-Type") or ""):
        body.update(json.loads(raw or b"{}"))
    elif raw:
        body.update(parse_qsl(raw.decode("utf-8")))
    for key in _JSON_FIELDS:  # form-encoded bodies carry these as JSON strings
        if isinstance(body.get(key), str):
            with contextlib.suppress(ValueError):  # left a string: the method answers *_format
                body[key] = json.loads(body[key])
    return body


def _block_ok(block: dict[str, Any]) -> bool:
    text = (block.get("text") or {}).get("text", "")
    if block.get("type") == "header":
        return 0 < len(text) <= MAX_HEADER_TEXT
    if block.get("type") == "section":
        fields = block.get("fields") or []
        return (
            (bool(text) or bool(fields))
            and len(text) <= MAX_SECTION_TEXT
            and len(fields) <= MAX_FIELDS
            and all(len(f.get("text", "")) <= MAX_FIELD_TEXT for f in fields)
        )
    return True


def _truthy(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")
