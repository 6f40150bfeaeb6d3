"""A local HTTP server that speaks enough of Slack's Web API for tests and benchmarks.

The real slack_sdk client (through the Slack provider's hook) talks to it over HTTP on 127.0.0.1:
point a Slack connection's ``base_url`` extra at :attr:`FakeSlack.base_url`. It checks the bearer
token, answers like Slack (``{"ok": true, "ts": ...}`` or ``{"ok": false, "error": ...}``), keeps
every call and every message, and can be told to fail the next calls (429 with Retry-After, 500).

    with FakeSlack(token="xoxb-test") as slack:
        ...  # post through SlackHook(base_url=slack.base_url)
        slack.messages  # what Slack would show
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

__all__ = ["Call", "FakeSlack"]

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000


@dataclass(frozen=True)
class Call:
    method: str
    body: dict[str, Any]
    at: float


@dataclass
class _Fault:
    method: str
    status: int
    retry_after: int | None = None


@dataclass
class FakeSlack:
    token: str = "xoxb-fake-token"
    calls: list[Call] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    _faults: deque[_Fault] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _clock: int = 0

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the server first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/"

    def connection_json(self) -> str:
        """An Airflow connection (JSON form, for ``AIRFLOW_CONN_...``) pointing at this server."""
        return json.dumps({"conn_type": "slack", "password": self.token, "extra": {"base_url": self.base_url}})

    def fail_next(self, method: str, *, status: int, retry_after: int | None = None, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with HTTP ``status`` (429 carries Retry-After)."""
        for _ in range(times):
            self._faults.append(_Fault(method, status, retry_after))

    def posted(self, method: str = "chat.postMessage") -> list[dict[str, Any]]:
        return [c.body for c in self.calls if c.method == method]

    # -- server lifecycle -----------------------------------------------------------------------

    def start(self) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                fake._handle(self)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, name="fake-slack", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    # -- the API --------------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        import time

        method = request.path.rsplit("/", 1)[-1]
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length).decode("utf-8") if length else ""
        if "json" in (request.headers.get("Content-Type") or ""):
            body = json.loads(raw or "{}")
        else:
            body = dict(parse_qsl(raw))
            for key in ("blocks", "attachments"):
                if isinstance(body.get(key), str):
                    body[key] = json.loads(body[key])
        with self._lock:
            fault = next((f for f in self._faults if f.method == method), None)
            if fault is not None:
                self._faults.remove(fault)
            else:
                self.calls.append(Call(method=method, body=body, at=time.time()))
        if fault is not None:
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            return self._reply(request, {"ok": False, "error": "ratelimited" if fault.status == 429 else "internal_error"},
                               status=fault.status, headers=headers)
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return self._reply(request, {"ok": False, "error": "invalid_auth"})
        handler = getattr(self, "_api_" + method.replace(".", "_"), None)
        if handler is None:
            return self._reply(request, {"ok": False, "error": "unknown_method"})
        self._reply(request, handler(body))

    def _reply(self, request: BaseHTTPRequestHandler, payload: dict[str, Any], *, status: int = 200,
               headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json; charset=utf-8")
        request.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            request.send_header(key, value)
        request.end_headers()
        request.wfile.write(data)

    def _api_auth_test(self, body: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "team": "goalwatch-test", "user": "goalwatch", "bot_id": "B0TEST"}

    def _api_chat_postMessage(self, body: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        problem = self._check_message(body)
        if problem:
            return {"ok": False, "error": problem}
        with self._lock:
            self._clock += 1
            ts = f"1700000000.{self._clock:06d}"
            message = {"channel": body["channel"], "ts": ts, "text": body.get("text", ""),
                       "blocks": body.get("blocks", []), "thread_ts": body.get("thread_ts")}
            self.messages.append(message)
        return {"ok": True, "channel": body["channel"], "ts": ts, "message": message}

    def _api_chat_update(self, body: dict[str, Any]) -> dict[str, Any]:
        problem = self._check_message(body)
        if problem:
            return {"ok": False, "error": problem}
        with self._lock:
            for message in self.messages:
                if message["channel"] == body["channel"] and message["ts"] == body.get("ts"):
                    message.update(text=body.get("text", ""), blocks=body.get("blocks", []))
                    return {"ok": True, "channel": body["channel"], "ts": body["ts"]}
        return {"ok": False, "error": "message_not_found"}

    @staticmethod
    def _check_message(body: dict[str, Any]) -> str | None:
        if not body.get("channel"):
            return "channel_not_found"
        if not body.get("text") and not body.get("blocks"):
            return "no_text"
        blocks = body.get("blocks") or []
        if len(blocks) > MAX_BLOCKS:
            return "invalid_blocks"
        for block in blocks:
            if block.get("type") == "section" and len((block.get("text") or {}).get("text", "")) > MAX_SECTION_TEXT:
                return "invalid_blocks"
            if block.get("type") == "header" and len(block["text"]["text"]) > 150:
                return "invalid_blocks"
        return None
