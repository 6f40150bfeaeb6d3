"""A local HTTP server that follows Slack's documented Web API contract, for tests and benchmarks.

The real slack_sdk ``WebClient`` (or the Slack provider's ``SlackHook``) talks to it on 127.0.0.1:
``base_url=slack.base_url``, or :meth:`FakeSlack.connection_json` in ``AIRFLOW_CONN_SLACK_API_DEFAULT``.
Bodies are read as slack_sdk sends them (chat.* JSON, the rest form-encoded, all POSTed; a GET query
works too), the token from ``Authorization: Bearer``. Rules follow the method pages
(https://docs.slack.dev/reference/methods/<method>); where they are silent, what Slack was seen to
do (*observed*). Errors are HTTP 200 ``{"ok": false, "error": ...}`` unless said otherwise.

Tokens and scopes. No token: ``not_authed``; another: ``invalid_auth``; after :meth:`~FakeSlack.revoke`
``token_revoked``, after :meth:`~FakeSlack.deactivate` ``account_inactive``. ``scopes`` (default
:data:`DEFAULT_SCOPES`): chat.* need ``chat:write``, files.* ``files:write``, history/replies
``channels:history`` (``groups:history`` for a private channel), info/list ``channels:read``
(``groups:read``), auth.test nothing; else ``missing_scope`` with ``needed`` and ``provided``
(observed; a token with none of the family gets ``channels:history,groups:history,mpim:history,im:history``).
Every answer to a valid token carries ``x-oauth-scopes: a,b`` (lowercase, as Slack sends it).

Channels, a registry (:meth:`~FakeSlack.add_channel`, :meth:`~FakeSlack.remove_bot`, :meth:`~FakeSlack.archive`).
IDs are ``C`` + 8 hex digits of a hash of the name (:meth:`FakeSlack.channel_id`), private ones too, as
Slack gives every channel made since 2021 a C id. ``auto_channels=True`` (default) is a workspace where
every channel exists and has the bot: a name first given to chat.postMessage, or an unknown
well-formed ID, becomes a public channel the bot is in (named after the ID until a post by name).
``auto_channels=False``: other channels are ``channel_not_found``. chat.postMessage takes a public
channel's name (with or without ``#``) or any ID (docs: a private channel by its ID); other methods
only an ID. A private channel the bot is not in is invisible (``channel_not_found``, observed); a
public one gives ``not_in_channel`` to chat.postMessage (unless ``chat:write.public``), history,
replies and files.completeUploadExternal. Archived: chat.postMessage ``is_archived``, chat.update
``is_inactive`` (both documented); still readable.

chat.postMessage / chat.update / chat.delete keep ``text``, ``blocks``, ``metadata`` (``event_type`` +
``event_payload``; ``{}`` is none, ``invalid_metadata_format`` otherwise) and ``thread_ts``, which must
be a top-level message of the channel: unknown or deleted ``thread_not_found`` (observed,
slackapi/bolt-js#2307), malformed ``invalid_thread_ts`` (observed), a reply's ``cannot_reply_to_message``
(the docs say "avoid using a reply's ts"; stricter than Slack, which files it under the parent).
Block Kit (https://docs.slack.dev/reference/block-kit/blocks): at most 50 blocks of known types;
``block_id`` up to 255; text objects ``mrkdwn``/``plain_text`` of 1..3,000; section text 1..3,000, up
to 10 fields of 1..2,000; header ``plain_text`` 1..150; context up to 10 elements, actions 25. A breach
is ``invalid_blocks`` with ``errors`` as Slack words them (``"must be less than 3001 characters
[json-pointer:/blocks/0/text/text]"``). Block text adding up to over ``max_total_chars`` (13,000; no
documented number, observed at about 13,200) is ``msg_blocks_too_long``, the documented code Slack
answers for it (slackapi/bolt-js#2509, #2867). Neither text nor blocks: ``no_text``; blocks not a list
of objects: ``invalid_blocks_format``. chat.postMessage ``text`` over 40,000 is cut and posted, ``ok``
with ``response_metadata.warnings: ["message_truncated"]`` (api.slack.com/changelog/2018-04-truncating-
really-long-messages); chat.update ``text`` over 4,000 is ``msg_too_long``. chat.update / chat.delete
(channel ID, ts) touch only the bot's own messages (``cant_update_message`` / ``cant_delete_message``;
``message_not_found``); chat.update keeps the blocks and metadata it is not given. Bot deletes go to
:attr:`~FakeSlack.deleted`; a deleted thread parent with replies stays as a tombstone (observed).

conversations.history (channel, cursor, limit, oldest, latest, inclusive, include_all_metadata): top-level
messages newest first (observed). conversations.replies (ts of the parent or any reply): the parent, then
replies oldest first (the docs' example); ``oldest``/``latest`` filter the replies; later pages omit
the parent; ``thread_not_found``. ``metadata`` only with include_all_metadata. ``limit`` defaults to 100,
capped at ``page_cap`` (999, Slack's maximum; 15 for non-Marketplace apps since 2025, which is then the
default too); opaque base64 cursors (``invalid_cursor``), ``has_more``, ``response_metadata.next_cursor``;
bad bounds ``invalid_ts_oldest``/``_latest``. conversations.info gives ``{"channel": {"id", "name",
"is_channel", "is_private", "is_archived", "is_member", ...}}``; conversations.list (types, default
``public_channel``; exclude_archived; cursor, limit) the public channels and the private ones the bot
is in (``invalid_types``), as SlackHook.get_channel_id pages it.

Files and webhooks. files.getUploadURLExternal (filename, length) gives ``upload_url`` =
``http://127.0.0.1:PORT/upload/<file_id>`` for the raw bytes (no token); files.completeUploadExternal
(files, channel_id, thread_ts, initial_comment) moves them to :attr:`~FakeSlack.files` and shares them
(a share is a message too, ``files``: the IDs). A POST to ``/services/...`` is an incoming webhook,
recorded as a ``webhook`` call and answered ``ok`` (plain text). ``fail_next("webhook", error=...)``
answers one of the webhook's error strings as plain text with its HTTP status (:data:`WEBHOOK_ERRORS`:
400/403/404/410 as api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks gives
them for invalid_payload, user_not_found, action_prohibited, channel_not_found, channel_is_archived;
the strings docs.slack.dev/messaging/sending-messages-using-incoming-webhooks adds since, which it
lists without a status, get the one of their kind: 400 malformed, 403 forbidden, 404 gone), nothing posted.

Rate limits (https://docs.slack.dev/apis/web-api/rate-limits). ``rate_limit_per_channel``: a
chat.postMessage sooner than 1/rate seconds after the last one to that channel gets 429, Retry-After: 1.
``rate_limits=True`` adds :data:`TIERS` (calls in any minute) and 1 post a second per channel; a dict
``{method: calls_a_minute}`` limits just those (chat.postMessage per channel). Over the limit: HTTP 429,
``Retry-After: N``, ``{"ok": false, "error": "ratelimited"}``, nothing done; counted in ``rate_limited``
and in ``faulted`` as (method, "rate_limited").

Faults for the next ``times`` calls of a method (:meth:`FakeSlack.fail_next`; the raw upload is
``"upload"``), and what slack_sdk's sync WebClient sees:

- ``status=429, retry_after=N``: nothing done; HTTP 429. SlackApiError unless a RateLimitErrorRetryHandler retries.
- ``status=500``/``503``: nothing done; SlackApiError (``internal_error``/``service_unavailable``) unless
  a ServerErrorRetryHandler retries. ``after_store=True``: the call IS done, then the 500 (Slack's
  internal_error: "It's possible some aspect of the operation succeeded").
- ``timeout=S`` (S over the client's timeout): no answer, the connection closes, nothing done. The
  client raises a bare ``TimeoutError`` (no SlackClientError), which no retry handler retries.
- ``late=S``: a late write: as ``timeout``, then at S seconds the connection closes and the call is
  done, after the client gave up; :meth:`~FakeSlack.wait_late` waits for it.
- ``drop=True``: done, then the connection closes unanswered: ``RemoteDisconnected``, which
  ConnectionErrorRetryHandler (WebClient's default) retries, so a post without idempotency posts twice.
- ``error="not_in_channel"`` (any code): a refusal, HTTP 200, nothing done.

People: :meth:`~FakeSlack.chatter` adds messages from ``U0SOMEONE`` (no ``bot_id``, no metadata) now,
:meth:`~FakeSlack.busy` after every API call naming the channel; :meth:`~FakeSlack.post_as_user`,
:meth:`~FakeSlack.delete_message` (not a bot delete). Every ``ts`` is the wall clock (``time.time()``,
seconds.micro), strictly increasing, so a client's ``oldest`` from its own clock works as with Slack.
The raw upload bypasses retry handlers (urllib's ``HTTPError``, ``TimeoutError``, ``RemoteDisconnected``).
``calls`` holds the requests the API handled (dropped and refused ones too, not rate-limited or
status-faulted ones); ``faulted`` each injected fault and rate-limit refusal as (method, kind).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import math
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = ["DEFAULT_SCOPES", "TIERS", "WEBHOOK_ERRORS", "Call", "FakeSlack"]

MAX_BLOCKS, MAX_SECTION_TEXT, MAX_HEADER_TEXT, MAX_TEXT_OBJECT = 50, 3000, 150, 3000
MAX_FIELDS, MAX_FIELD_TEXT, MAX_CONTEXT, MAX_ACTIONS, MAX_BLOCK_ID = 10, 2000, 10, 25, 255
MAX_POST_TEXT, MAX_UPDATE_TEXT = 40_000, 4_000
BOT_USER, BOT_ID, HUMAN_USER, TEAM_ID = "U0GOALWATCH", "B0TEST", "U0SOMEONE", "T0GOALWATCH"
DEFAULT_SCOPES = ("chat:write", "channels:history", "groups:history", "channels:read", "groups:read", "files:write")
_TIER_3 = ("conversations.history", "conversations.replies", "conversations.info", "chat.update", "chat.delete")
_FILES = ("files.getUploadURLExternal", "files.completeUploadExternal")
TIERS = {"conversations.list": 20, **dict.fromkeys(_TIER_3, 50), **dict.fromkeys(_FILES, 100)}  # calls a minute
_METHOD_SCOPE = {**dict.fromkeys(("chat.postMessage", "chat.update", "chat.delete"), "chat:write")}
_METHOD_SCOPE |= dict.fromkeys(_FILES, "files:write")
_TYPE_SCOPE = dict(public_channel="channels:read", private_channel="groups:read", mpim="mpim:read", im="im:read")
_BLOCK_TYPES = {"section", "header", "context", "actions", "divider", "image", "rich_text", "markdown", "input"}
_BLOCK_TYPES |= {"file", "video"}
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{8,}")
_TS = re.compile(r"\d+\.\d{6}")
_JSON_FIELDS = ("blocks", "attachments", "metadata", "files")
_SERVER_ERRORS = {500: "internal_error", 503: "service_unavailable"}
WEBHOOK_ERRORS = {
    **dict.fromkeys(("invalid_payload", "user_not_found", "too_many_attachments", "no_service_id", "no_team"), 400),
    **dict.fromkeys(("action_prohibited", "posting_to_general_channel_denied", "invalid_token", "team_disabled"), 403),
    **dict.fromkeys(("channel_not_found", "no_service"), 404),
    "channel_is_archived": 410,
}
_TRUNCATED = "[WARN] Your message was truncated but still posted because it exceeded 40000 characters"
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
    late: float | None = None
    error: str | None = None
    after_store: bool = False


@dataclass
class _Channel:
    id: str
    name: str
    private: bool = False
    member: bool = True
    archived: bool = False


class _Refusal(Exception):
    """Raised by an API method: answer ``{"ok": false, "error": ..., **extra}`` instead."""

    def __init__(self, error: str, *, status: int = 200, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(error)
        self.error, self.status, self.headers, self.extra = error, status, headers or {}, extra


@dataclass
class FakeSlack:
    token: str = "xoxb-fake-token"
    rate_limit_per_channel: float | None = None
    auto_channels: bool = True
    scopes: Iterable[str] | str = DEFAULT_SCOPES
    page_cap: int = 999
    rate_limits: bool | dict[str, int] = False
    max_total_chars: int = 13_000
    calls: list[Call] = field(default_factory=list, init=False)
    messages: list[dict[str, Any]] = field(default_factory=list, init=False)
    files: list[dict[str, Any]] = field(default_factory=list, init=False)
    deleted: list[dict[str, Any]] = field(default_factory=list, init=False)
    faulted: list[tuple[str, str]] = field(default_factory=list, init=False)
    rate_limited: int = field(default=0, init=False)
    _faults: deque[_Fault] = field(default_factory=deque, init=False)
    _uploads: dict[str, dict[str, Any]] = field(default_factory=dict, init=False)
    _last_post: dict[str, float] = field(default_factory=dict, init=False)
    _channels: dict[str, _Channel] = field(default_factory=dict, init=False)
    _busy: dict[str, int] = field(default_factory=dict, init=False)
    _tiers: dict[str, int] = field(default_factory=dict, init=False)
    _windows: dict[str, deque[float]] = field(default_factory=dict, init=False)
    _token_error: str | None = field(default=None, init=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, init=False)
    _late: threading.Condition = field(default_factory=threading.Condition, init=False)
    _late_pending: int = field(default=0, init=False)
    _stopping: threading.Event = field(default_factory=threading.Event, init=False)
    _server: ThreadingHTTPServer | None = field(default=None, init=False)
    _last_us: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        raw = self.scopes.split(",") if isinstance(self.scopes, str) else self.scopes
        self.scopes = tuple(s.strip() for s in raw if s.strip())
        if isinstance(self.rate_limits, dict):
            self._tiers = dict(self.rate_limits)
        elif self.rate_limits:
            self._tiers = dict(TIERS)
            if self.rate_limit_per_channel is None:
                self.rate_limit_per_channel = 1.0

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
        late: float | None = None,
        error: str | None = None,
        after_store: bool = False,
    ) -> None:
        """Fail the next ``times`` calls of ``method`` in one way: HTTP ``status`` (429 carries
        ``retry_after``; ``after_store`` does the call first), ``timeout`` seconds of silence,
        ``drop`` the answer after doing it, a ``late`` write, or an ``error`` code refusal."""
        if [status is not None, timeout is not None, drop, late is not None, error is not None].count(True) != 1:
            raise ValueError("give exactly one of status=, timeout=, drop=True, late= or error=")
        if after_store and status is None:
            raise ValueError("after_store=True goes with status=")
        fault = _Fault(method, status, retry_after, timeout, drop, late, error, after_store)
        with self._lock:
            self._faults.extend(_Fault(**vars(fault)) for _ in range(times))

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

    # -- the workspace: channels, tokens, other people ---------------------------------------------

    def add_channel(self, name: str, *, private: bool = False, member: bool = True, archived: bool = False) -> str:
        """Create (or reset) the channel ``name``; returns its ID."""
        with self._lock:
            name = name.lstrip("#")
            cid = self.channel_id(name)
            self._channels[cid] = _Channel(cid, name, private, member, archived)
            return cid

    def remove_bot(self, name_or_id: str) -> None:
        """The bot leaves the channel (or was never invited)."""
        self._ensure(name_or_id).member = False

    def archive(self, name_or_id: str) -> None:
        self._ensure(name_or_id).archived = True

    def revoke(self) -> None:
        """The token is revoked: every call answers ``token_revoked``."""
        self._token_error = "token_revoked"

    def reinstate(self) -> None:
        """The token works again (a new one put in the connection, the account reactivated)."""
        self._token_error = None

    def deactivate(self) -> None:
        """The bot's account is deactivated: every call answers ``account_inactive``."""
        self._token_error = "account_inactive"

    def chatter(self, channel: str, n: int = 1) -> list[str]:
        """``n`` top-level messages from another user in ``channel``, now; their ts."""
        return [self.post_as_user(channel, f"chatter {i + 1} of {n}") for i in range(n)]

    def busy(self, channel: str, *, per_call: int = 1) -> None:
        """After every API call that names ``channel``, ``per_call`` messages from another user arrive."""
        with self._lock:
            self._busy[self._ensure(channel).id] = per_call

    def post_as_user(self, channel: str, text: str, *, thread_ts: str | None = None) -> str:
        """A person (``U0SOMEONE``) posts ``text``; returns its ts."""
        with self._lock:
            cid = self._ensure(channel).id
            return self._store(cid, text, HUMAN_USER, thread_ts=thread_ts)["ts"]

    def delete_message(self, channel: str, ts: str) -> None:
        """A person deletes the message ``ts`` (not recorded in :attr:`deleted`)."""
        with self._lock:
            message = self._find(self.channel_id(channel), ts)
            if message is None:
                raise KeyError(f"no message {ts} in {channel}")
            self._remove(message)

    def wait_late(self, timeout: float = 30.0) -> bool:
        """Wait until every late write (``fail_next(late=...)``) has happened; False on timeout."""
        with self._late:
            return self._late.wait_for(lambda: self._late_pending == 0, timeout)

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
            self._stopping.set()  # releases requests held by a timeout or late fault
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
        upload, webhook = url.path.startswith("/upload/"), url.path.startswith("/services/")
        method = "upload" if upload else "webhook" if webhook else url.path.rsplit("/", 1)[-1]
        with self._lock:
            fault = next((f for f in self._faults if f.method == method), None)
            if fault is not None:
                self._faults.remove(fault)
        body = {} if upload or webhook else _parse(request, url.query, raw)
        authorization = request.headers.get("Authorization") or ""
        refuse = fault.error if fault is not None else None

        busy = [bool(body)]  # the busy channel's messages are still to arrive

        def do() -> _Answer:
            try:
                if upload:
                    return self._upload(url.path.rsplit("/", 1)[-1], raw)
                if webhook:
                    return self._webhook(raw, error=refuse)
                return self._api(method, body, authorization, refuse=refuse)
            finally:
                # After the answer is made and before it is written: a caller who has the answer
                # sees the busy channel's messages that came after it.
                if busy[0]:
                    busy[0] = False
                    self._after_call(body)

        try:
            self._serve(request, method, fault, do, authorization)
        finally:
            if busy[0]:  # a call the fault never made
                self._after_call(body)

    def _serve(
        self, request: BaseHTTPRequestHandler, method: str, fault: _Fault | None, do: Callable[[], _Answer], auth: str
    ) -> None:
        if fault is None or fault.error is not None:
            if fault is not None:
                self.faulted.append((method, fault.error or ""))
            return self._reply(request, *do())
        if fault.timeout is not None or fault.late is not None:
            self.faulted.append((method, "timeout" if fault.timeout is not None else "late"))
            return self._hold(request, fault.timeout or fault.late or 0, do if fault.late is not None else None)
        if fault.drop:  # done, but the client never hears of it
            do()
            self.faulted.append((method, "drop"))
            request.close_connection = True
            return
        if fault.after_store:
            do()
        self.faulted.append((method, f"{fault.status}-stored" if fault.after_store else str(fault.status)))
        error = "ratelimited" if fault.status == 429 else _SERVER_ERRORS.get(fault.status or 0, "internal_error")
        headers = self._scope_header(_token(auth, {})) if method not in ("upload", "webhook") else {}
        if fault.retry_after is not None:
            headers["Retry-After"] = str(fault.retry_after)
        self._reply(request, fault.status or 500, headers, {"ok": False, "error": error})

    def _hold(self, request: BaseHTTPRequestHandler, seconds: float, late: Callable[[], _Answer] | None) -> None:
        """No answer for ``seconds``, then close; a ``late`` write is done after the close."""
        with self._late:
            self._late_pending += late is not None
        try:
            if self._stopping.wait(seconds):
                return
            with contextlib.suppress(OSError):
                request.connection.shutdown(socket.SHUT_RDWR)
            if late is not None:
                late()
        finally:
            request.close_connection = True
            with self._late:
                self._late_pending -= late is not None
                self._late.notify_all()

    def _api(self, method: str, body: dict[str, Any], authorization: str, *, refuse: str | None = None) -> _Answer:
        at, token = time.time(), _token(authorization, body)
        handler = getattr(self, "_api_" + method.replace(".", "_"), None)
        headers: dict[str, str] = {}
        try:
            if not token or token != self.token:
                raise _Refusal("invalid_auth" if token else "not_authed")
            if self._token_error:
                raise _Refusal(self._token_error)
            headers = self._scope_header(token)
            if handler is None:
                raise _Refusal("unknown_method")
            if method != "chat.postMessage":  # limited per channel, in the method
                self._check_rate(method, method)
            if refuse is not None:
                raise _Refusal(refuse)
            if method in _METHOD_SCOPE:
                self._need(_METHOD_SCOPE[method])
            answer: _Answer = (200, headers, handler(body))
        except _Refusal as refusal:
            payload = {"ok": False, "error": refusal.error, **refusal.extra}
            answer = (refusal.status, {**headers, **refusal.headers}, payload)
        if answer[0] != 429:  # a rate-limited call is refused, not handled
            with self._lock:
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

    def _scope_header(self, token: str | None) -> dict[str, str]:
        if token != self.token or self._token_error:
            return {}
        return {"x-oauth-scopes": ",".join(self.scopes)}

    def _need(self, *any_of: str) -> None:
        if not set(any_of) & set(self.scopes):
            raise _Refusal("missing_scope", needed=",".join(any_of), provided=",".join(self.scopes))

    def _check_rate(self, method: str, key: str) -> None:
        """Slack's tier for ``method``: at most N calls in any minute (per ``key``)."""
        per_minute = self._tiers.get(method)
        if not per_minute:
            return
        with self._lock:
            now, window = time.monotonic(), self._windows.setdefault(key, deque())
            while window and now - window[0] >= 60:
                window.popleft()
            if len(window) >= per_minute:
                self.rate_limited += 1
                self.faulted.append((method, "rate_limited"))
                retry = max(1, math.ceil(60 - (now - window[0])))
                raise _Refusal("ratelimited", status=429, headers={"Retry-After": str(retry)})
            window.append(now)

    def _after_call(self, body: dict[str, Any]) -> None:
        """A busy channel: other people's messages arrive after every call that names it."""
        named = body.get("channel") or body.get("channel_id")
        if not isinstance(named, str) or not named:
            return
        with self._lock:
            cid = self.channel_id(named)
            for i in range(self._busy.get(cid, 0)):
                self._store(cid, f"busy {i + 1}", HUMAN_USER)

    # -- the API: auth and chat ------------------------------------------------------------------

    def _api_auth_test(self, body: dict[str, Any]) -> dict[str, Any]:
        info = dict(team="goalwatch-test", team_id=TEAM_ID, user="goalwatch", user_id=BOT_USER, bot_id=BOT_ID)
        return {"ok": True, "url": self._root() + "/", **info}

    def _api_chat_postMessage(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve(body.get("channel"), names=True)
        if channel.archived:
            raise _Refusal("is_archived")
        if not channel.member and (channel.private or "chat:write.public" not in self.scopes):
            raise _Refusal("not_in_channel")
        thread_ts = body.get("thread_ts") or None
        self._check_message(body)
        with self._lock:
            if thread_ts is not None:
                self._check_parent(channel.id, thread_ts)
            self._check_rate("chat.postMessage", f"chat.postMessage:{channel.id}")
            now, last = time.monotonic(), self._last_post.get(channel.id)
            if self.rate_limit_per_channel and last is not None and now - last < 1 / self.rate_limit_per_channel:
                self.rate_limited += 1
                self.faulted.append(("chat.postMessage", "rate_limited"))
                raise _Refusal("ratelimited", status=429, headers={"Retry-After": "1"})
            self._last_post[channel.id] = now
            text = str(body.get("text") or "")
            blocks, metadata = body.get("blocks") or [], body.get("metadata") or None
            message = self._store(
                channel.id, text[:MAX_POST_TEXT], blocks=blocks, thread_ts=thread_ts, metadata=metadata
            )
            answer = {"ok": True, "channel": channel.id, "ts": message["ts"], "message": self._view(message, True)}
        if len(text) > MAX_POST_TEXT:
            answer.update(warning="message_truncated")
            answer["response_metadata"] = {"warnings": ["message_truncated"], "messages": [_TRUNCATED]}
        return answer

    def _check_parent(self, cid: str, thread_ts: Any) -> None:
        if not _TS.fullmatch(str(thread_ts)):
            raise _Refusal("invalid_thread_ts")
        parent = self._find(cid, thread_ts, tombstones=True)
        if parent is None:
            raise _Refusal("thread_not_found")
        if parent["thread_ts"] not in (None, parent["ts"]):
            raise _Refusal("cannot_reply_to_message")

    def _api_chat_update(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve(body.get("channel"), names=False)
        if channel.archived:
            raise _Refusal("is_inactive")
        with self._lock:
            message = self._own_message(channel.id, body.get("ts"), "cant_update_message")
            self._check_message(body, max_text=MAX_UPDATE_TEXT)
            message.update({k: body[k] for k in ("text", "blocks") if k in body})
            if "metadata" in body:  # left out: kept; {} removes it
                message["metadata"] = body["metadata"] or None
            answer = {"ok": True, "channel": channel.id, "ts": message["ts"], "text": message["text"]}
            return {**answer, "message": self._view(message, True)}

    def _api_chat_delete(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = self._resolve(body.get("channel"), names=False)
        with self._lock:
            message = self._own_message(channel.id, body.get("ts"), "cant_delete_message")
            self.deleted.append(dict(message))
            self._remove(message)
            return {"ok": True, "channel": channel.id, "ts": message["ts"]}

    def _own_message(self, cid: str, ts: Any, refusal: str) -> dict[str, Any]:
        message = self._find(cid, ts)
        if message is None:
            raise _Refusal("message_not_found")
        if message["user"] != BOT_USER:
            raise _Refusal(refusal)
        return message

    def _check_message(self, body: dict[str, Any], *, max_text: int | None = None) -> None:
        if not body.get("text") and not body.get("blocks"):
            raise _Refusal("no_text")
        blocks = body.get("blocks") or []
        if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
            raise _Refusal("invalid_blocks_format")
        if errors := block_errors(blocks):
            messages = [f"[ERROR] {e}" for e in errors]
            raise _Refusal("invalid_blocks", errors=errors, response_metadata={"messages": messages})
        if _text_chars(blocks) > self.max_total_chars:
            raise _Refusal("msg_blocks_too_long")
        if max_text is not None and len(str(body.get("text") or "")) > max_text:
            raise _Refusal("msg_too_long")
        meta = body.get("metadata")
        if meta not in (None, {}) and not (isinstance(meta, dict) and _metadata_ok(meta)):
            raise _Refusal("invalid_metadata_format")

    # -- the API: conversations ------------------------------------------------------------------

    def _conversation(self, body: dict[str, Any], family: str, *, member: bool) -> _Channel:
        """The channel named by ID in ``body``, with the token's ``channels:``/``groups:`` scope."""
        self._need(*(f"{kind}:{family}" for kind in ("channels", "groups", "mpim", "im")))
        channel = self._resolve(body.get("channel"), names=False)
        self._need(f"{'groups' if channel.private else 'channels'}:{family}")
        if member and not channel.member:
            raise _Refusal("not_in_channel")
        return channel

    def _api_conversations_history(self, body: dict[str, Any]) -> dict[str, Any]:
        cid = self._conversation(body, "history", member=True).id
        within = _window(body)
        with self._lock:
            top = [
                m
                for m in reversed(self.messages)
                if m["channel"] == cid and m["thread_ts"] in (None, m["ts"]) and within(m["ts"])
            ]
            page, more = self._page(top, body, descending=True)
            return {"ok": True, "messages": self._views(page, body), **more}

    def _api_conversations_replies(self, body: dict[str, Any]) -> dict[str, Any]:
        cid = self._conversation(body, "history", member=True).id
        within = _window(body)
        with self._lock:
            message = self._find(cid, body.get("ts"), tombstones=True)
            if message is None:
                raise _Refusal("thread_not_found")
            parent_ts = message["thread_ts"] or message["ts"]
            thread = [
                m
                for m in self.messages
                if m["channel"] == cid and (m["ts"] == parent_ts or (m["thread_ts"] == parent_ts and within(m["ts"])))
            ]
            page, more = self._page(thread, body, descending=False)
            return {"ok": True, "messages": self._views(page, body), **more}

    def _api_conversations_info(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "channel": self._channel_object(self._conversation(body, "read", member=False))}

    def _api_conversations_list(self, body: dict[str, Any]) -> dict[str, Any]:
        types = [t.strip() for t in str(body.get("types") or "public_channel").split(",") if t.strip()]
        if not types or any(t not in _TYPE_SCOPE for t in types):
            raise _Refusal("invalid_types")
        missing = [_TYPE_SCOPE[t] for t in types if _TYPE_SCOPE[t] not in self.scopes]
        if missing:
            raise _Refusal("missing_scope", needed=",".join(missing), provided=",".join(self.scopes))
        hide_archived = _truthy(body.get("exclude_archived"))
        with self._lock:
            listed = sorted(
                (c for c in self._channels.values() if _listed(c, types) and not (c.archived and hide_archived)),
                key=lambda c: c.id,
            )
            page, more = self._page(listed, body, descending=False, cap=999, prefix="team")
            return {"ok": True, "channels": [self._channel_object(c) for c in page], **more}

    def _channel_object(self, channel: _Channel) -> dict[str, Any]:
        fixed = {"is_channel": True, "is_group": False, "is_im": False, "is_mpim": False, "is_general": False}
        flags = {"is_private": channel.private, "is_archived": channel.archived, "is_member": channel.member}
        return {"id": channel.id, "name": channel.name, **fixed, **flags, "context_team_id": TEAM_ID}

    # -- the API: files --------------------------------------------------------------------------

    def _api_files_getUploadURLExternal(self, body: dict[str, Any]) -> dict[str, Any]:
        if not body.get("filename") or not str(body.get("length", "")).isdigit():
            raise _Refusal("invalid_arguments")
        with self._lock:
            file_id = f"F{len(self._uploads) + 1:08d}"
            self._uploads[file_id] = {"filename": body["filename"], "length": int(body["length"]), "content": None}
        return {"ok": True, "upload_url": f"{self._root()}/upload/{file_id}", "file_id": file_id}

    def _webhook(self, raw: bytes, *, error: str | None = None) -> _Answer:
        """An incoming webhook (``/services/T…/B…/…``): a JSON message in, plain ``ok`` out; a
        refusal is its error string, with its status (400 for one this table does not know)."""
        body = json.loads(raw or b"{}")
        with self._lock:
            self.calls.append(Call(method="webhook", body=body, at=time.time()))
        if error is not None:
            return WEBHOOK_ERRORS.get(error, 400), {}, error
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
        channel = self._resolve(body["channel_id"], names=False) if body.get("channel_id") else None
        if channel is not None and not channel.member:
            raise _Refusal("not_in_channel")
        cid = channel.id if channel is not None else None
        wanted = body.get("files")
        if not isinstance(wanted, list) or not wanted:
            raise _Refusal("invalid_arguments")
        with self._lock:
            if any(self._uploads.get(f.get("id"), {}).get("content") is None for f in wanted):
                raise _Refusal("file_not_found")  # unknown, already completed, or never uploaded
            thread_ts, comment = body.get("thread_ts"), body.get("initial_comment")
            done = [self._complete(spec, cid, thread_ts, comment) for spec in wanted]
            self.files.extend(done)
            shares = {}
            if cid is not None:
                share = self._store(cid, comment or "", thread_ts=thread_ts)
                share["files"] = [f["id"] for f in done]
                shares = {"public": {cid: [{"ts": share["ts"], **({"thread_ts": thread_ts} if thread_ts else {})}]}}
        where = {"channels": [cid] if cid else [], "shares": shares}
        files = [{"id": f["id"], "title": f["title"], "name": f["filename"], "size": len(f["content"])} for f in done]
        return {"ok": True, "files": [{**f, **where} for f in files]}

    def _complete(self, spec: dict[str, Any], cid: str | None, thread_ts: Any, comment: Any) -> dict[str, Any]:
        upload = self._uploads[spec["id"]]
        file = {"id": spec["id"], "title": spec.get("title") or upload["filename"], "filename": upload["filename"]}
        return {
            **file,
            "content": upload.pop("content"),
            "channel": cid,
            "thread_ts": thread_ts,
            "initial_comment": comment,
        }

    # -- helpers (called with the lock held where they touch state) ------------------------------

    def _resolve(self, value: Any, *, names: bool) -> _Channel:
        """The channel ``value`` names (an ID; a public channel's name too where ``names``)."""
        value = str(value or "")
        with self._lock:
            channel: _Channel | None = None
            if _CHANNEL_ID.fullmatch(value):
                channel = self._channels.get(value)
                if channel is None and self.auto_channels:
                    channel = self._channels.setdefault(value, _Channel(value, value.lower()))
            elif names and value.lstrip("#"):
                cid = self.channel_id(value)
                channel = self._channels.get(cid)
                if self.auto_channels and (channel is None or channel.name == cid.lower()):
                    channel = self._channels.setdefault(cid, _Channel(cid, value.lstrip("#")))
                    channel.name = value.lstrip("#")  # an ID seen first gets its name
                if channel is not None and channel.private:
                    channel = None  # a private channel is reached by its ID
        if channel is None or (channel.private and not channel.member):
            raise _Refusal("channel_not_found")
        return channel

    def _ensure(self, name_or_id: str) -> _Channel:
        """For the test's own helpers: the channel, created (public, bot in it) if need be."""
        with self._lock:
            cid = self.channel_id(name_or_id)
            if cid not in self._channels:
                name = name_or_id.lstrip("#") if cid != name_or_id else cid.lower()
                self._channels[cid] = _Channel(cid, name)
            return self._channels[cid]

    def _next_ts(self) -> str:
        """The wall clock in microseconds, bumped to stay strictly increasing."""
        self._last_us = max(time.time_ns() // 1000, self._last_us + 1)
        return f"{self._last_us // 1_000_000}.{self._last_us % 1_000_000:06d}"

    def _store(self, cid: str, text: str, user: str = BOT_USER, **fields: Any) -> dict[str, Any]:
        """A new message in ``cid``; ``fields`` are its blocks, thread_ts and metadata."""
        with self._lock:
            message = {
                "channel": cid,
                "ts": self._next_ts(),
                "text": text,
                "blocks": [],
                "thread_ts": None,
                "metadata": None,
            }
            message.update(fields, user=user, bot_id=BOT_ID if user == BOT_USER else None)
            self.messages.append(message)
            return message

    def _find(self, cid: str, ts: Any, *, tombstones: bool = False) -> dict[str, Any] | None:
        found = (m for m in self.messages if m["channel"] == cid and m["ts"] == ts)
        return next((m for m in found if tombstones or m.get("subtype") != "tombstone"), None)

    def _remove(self, message: dict[str, Any]) -> None:
        """Deleted: gone, or a tombstone where it is a thread parent with replies."""
        if self._replies(message):
            message.update(text="This message was deleted.", blocks=[], metadata=None, subtype="tombstone")
            message.update(user="USLACKBOT", bot_id=None)
        else:
            self.messages.remove(message)

    def _replies(self, message: dict[str, Any]) -> list[str]:
        return [
            m["ts"]
            for m in self.messages
            if m["channel"] == message["channel"] and m["thread_ts"] == message["ts"] != m["ts"]
        ]

    def _view(self, message: dict[str, Any], metadata: bool) -> dict[str, Any]:
        """A message as Slack's API shows it (no channel; replies counted on the parent)."""
        view = {"type": "message", "user": message["user"], "text": message["text"], "ts": message["ts"]}
        view["blocks"] = message["blocks"]
        if message["bot_id"]:
            view["bot_id"] = message["bot_id"]
        if message.get("subtype"):
            view["subtype"] = message["subtype"]
        if replies := self._replies(message):
            view.update(thread_ts=message["ts"], reply_count=len(replies), latest_reply=replies[-1])
        elif message["thread_ts"]:
            parent = self._find(message["channel"], message["thread_ts"], tombstones=True)
            view.update(thread_ts=message["thread_ts"], parent_user_id=parent["user"] if parent else BOT_USER)
        if message.get("files"):
            view["files"] = [{"id": f} for f in message["files"]]
        if metadata and message["metadata"]:
            view["metadata"] = message["metadata"]
        return view

    def _views(self, messages: list[dict[str, Any]], body: dict[str, Any]) -> list[dict[str, Any]]:
        metadata = _truthy(body.get("include_all_metadata"))
        return [self._view(m, metadata) for m in messages]

    def _page(
        self, items: list[Any], body: dict[str, Any], *, descending: bool, cap: int = 0, prefix: str = "next_ts"
    ) -> tuple[list[Any], dict[str, Any]]:
        """One page of ``items`` (messages by ts, or channels by ID) from ``body``'s cursor and limit."""
        cap = cap or self.page_cap
        try:
            limit = int(body.get("limit") or 0)
        except ValueError:
            raise _Refusal("invalid_limit") from None
        limit = min(limit, cap) if limit > 0 else min(100, cap)

        def order(item: Any) -> Any:
            return Decimal(item["ts"]) if prefix == "next_ts" else item.id

        start = 0
        if body.get("cursor"):
            at = _uncursor(str(body["cursor"]), prefix)
            start = next(
                (i for i, item in enumerate(items) if (order(item) <= at if descending else order(item) >= at)),
                len(items),
            )
        page, rest = items[start : start + limit], items[start + limit :]
        cursor = _cursor(prefix, str(order(rest[0]))) if rest else ""
        return page, {"has_more": bool(rest), "response_metadata": {"next_cursor": cursor}}


def _token(authorization: str, body: dict[str, Any]) -> str | None:
    return authorization.removeprefix("Bearer ").strip() or body.get("token")


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


def _window(body: dict[str, Any]) -> Callable[[str], bool]:
    """``oldest`` < ts < ``latest`` (``<=`` with ``inclusive``), as history and replies filter."""
    bounds = []
    for key, default in (("oldest", "0"), ("latest", "Infinity")):
        try:
            bounds.append(Decimal(str(body.get(key) or default)))
        except InvalidOperation:
            raise _Refusal(f"invalid_ts_{key}") from None
    low, high = bounds
    if _truthy(body.get("inclusive")):
        return lambda ts: low <= Decimal(ts) <= high
    return lambda ts: low < Decimal(ts) < high


def _cursor(prefix: str, value: str) -> str:
    return base64.b64encode(f"{prefix}:{value}".encode()).decode()


def _uncursor(cursor: str, prefix: str) -> Any:
    try:
        kind, _, value = base64.b64decode(cursor, validate=True).decode().partition(":")
        if kind != prefix or not value:
            raise ValueError(cursor)
        return Decimal(value) if prefix == "next_ts" else value
    except (binascii.Error, UnicodeDecodeError, ValueError, InvalidOperation):
        raise _Refusal("invalid_cursor") from None


def block_errors(blocks: list[dict[str, Any]]) -> list[str]:
    """What Slack's Block Kit validation says of ``blocks``, as its ``errors`` list."""
    errors = [f"no more than {MAX_BLOCKS} items allowed [json-pointer:/blocks]"] if len(blocks) > MAX_BLOCKS else []
    for i, block in enumerate(blocks):
        errors += _block_errors(block, f"/blocks/{i}")
    return errors


def _block_errors(block: dict[str, Any], at: str) -> list[str]:
    kind = block.get("type")
    if kind not in _BLOCK_TYPES:
        return [f"must be a valid enum value [json-pointer:{at}/type]"]
    errors = [] if len(str(block.get("block_id", ""))) <= MAX_BLOCK_ID else [_too_long(MAX_BLOCK_ID, f"{at}/block_id")]
    if kind == "header":
        errors += _text_errors(block.get("text"), f"{at}/text", MAX_HEADER_TEXT, kinds=("plain_text",))
    elif kind == "section":
        if "text" not in block and "fields" not in block:
            errors.append(f"must provide either text or fields [json-pointer:{at}]")
        if "text" in block:
            errors += _text_errors(block["text"], f"{at}/text", MAX_SECTION_TEXT)
        errors += _items_errors(block.get("fields", []), f"{at}/fields", MAX_FIELDS, MAX_FIELD_TEXT)
    elif kind == "context":
        texts = [e if isinstance(e, dict) and e.get("type") != "image" else None for e in block.get("elements", [])]
        errors += _items_errors(texts, f"{at}/elements", MAX_CONTEXT, MAX_TEXT_OBJECT)
    elif kind == "actions":
        errors += _items_errors([None] * len(block.get("elements", [])), f"{at}/elements", MAX_ACTIONS, 0)
    return errors


def _items_errors(items: Any, at: str, most: int, text_limit: int) -> list[str]:
    """A list of at most ``most`` items; those not None are text objects of at most ``text_limit``."""
    if not isinstance(items, list):
        return [f"must provide an array [json-pointer:{at}]"]
    errors = [f"no more than {most} items allowed [json-pointer:{at}]"] if len(items) > most else []
    for j, item in enumerate(items):
        if item is not None:
            errors += _text_errors(item, f"{at}/{j}", text_limit)
    return errors


def _text_errors(obj: Any, at: str, limit: int, *, kinds: tuple[str, ...] = ("plain_text", "mrkdwn")) -> list[str]:
    if not isinstance(obj, dict):
        return [f"must provide an object [json-pointer:{at}]"]
    if obj.get("type") not in kinds:
        return [f"must be a valid enum value [json-pointer:{at}/type]"]
    text = obj.get("text")
    if not isinstance(text, str):
        return [f"must provide a string [json-pointer:{at}/text]"]
    if not text:
        return [f"must be more than 0 characters [json-pointer:{at}/text]"]
    return [_too_long(limit, f"{at}/text")] if len(text) > limit else []


def _too_long(limit: int, at: str) -> str:
    return f"must be less than {limit + 1} characters [json-pointer:{at}]"


def _text_chars(value: Any) -> int:
    """Characters of every ``text`` string in the block tree (what Slack's total-size limit counts)."""
    if isinstance(value, list):
        return sum(_text_chars(v) for v in value)
    if isinstance(value, dict):
        return sum(len(v) if k == "text" and isinstance(v, str) else _text_chars(v) for k, v in value.items())
    return 0


def _metadata_ok(meta: dict[str, Any]) -> bool:
    return isinstance(meta.get("event_type"), str) and isinstance(meta.get("event_payload"), dict)


def _listed(channel: _Channel, types: list[str]) -> bool:
    """conversations.list shows public channels, and the private ones the bot is in."""
    return "private_channel" in types and channel.member if channel.private else "public_channel" in types


def _truthy(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")
