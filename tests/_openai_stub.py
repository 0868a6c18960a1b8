"""A tiny OpenAI-compatible chat-completions server on loopback, scripted per test.

Tests of the LLM advisor need real HTTP (timeouts, 500s, broken bodies) without any
network: this server listens on 127.0.0.1 in a background thread, answers
``POST /v1/chat/completions`` with whatever the test scripted for the requested model,
and records every request body so a test can check what the prompt looked like.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


@dataclass(frozen=True)
class Reply:
    """One scripted answer: a chat completion, an HTTP error, or a raw body, maybe late."""

    content: str | None = None
    status: int = 200
    raw_body: bytes | None = None
    delay_s: float = 0.0

    @classmethod
    def answer(cls, content: str, *, delay_s: float = 0.0) -> Reply:
        """A well-formed chat completion whose assistant message is ``content``."""
        return cls(content=content, delay_s=delay_s)

    @classmethod
    def error(cls, status: int) -> Reply:
        """An HTTP error with an OpenAI-style error body."""
        body = json.dumps({"error": {"message": "scripted failure", "type": "server_error"}})
        return cls(status=status, raw_body=body.encode())

    @classmethod
    def raw(cls, body: bytes) -> Reply:
        """A 200 response whose body is sent as-is (garbage, wrong JSON shape...)."""
        return cls(raw_body=body)


def free_port() -> int:
    """A loopback port nobody listens on right now (for refused-connection tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _completion_body(model: str, content: str) -> bytes:
    """The JSON body an OpenAI server sends for one non-streamed chat completion."""
    body = {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
    return json.dumps(body).encode()


class OpenAIStub:
    """The scripted server; use it as a context manager so it always stops."""

    def __init__(self, default: Reply | None = None) -> None:
        self._default = default or Reply.answer('{"changes": [], "rationale": "stub"}')
        self._routes: dict[str, Reply] = {}
        self._queue: list[Reply] = []
        self._requests: list[dict[str, Any]] = []
        self._auth_headers: list[str] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def port(self) -> int:
        """The loopback port the server listens on."""
        return int(self._server.server_address[1])

    @property
    def api_base(self) -> str:
        """The base URL to hand to litellm as ``api_base``."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def requests(self) -> list[dict[str, Any]]:
        """A copy of the JSON bodies received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def auth_headers(self) -> list[str]:
        """The Authorization header of every request so far ("" when absent)."""
        with self._lock:
            return list(self._auth_headers)

    def set_reply(self, reply: Reply, *, model: str | None = None) -> None:
        """Script the answer for one model name (as sent on the wire), or the default."""
        with self._lock:
            if model is None:
                self._default = reply
            else:
                self._routes[model] = reply

    def queue_replies(self, *replies: Reply) -> None:
        """Answer the next requests (any model) with ``replies`` in order, then as scripted before."""
        with self._lock:
            self._queue.extend(replies)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping.set()  # wakes handlers still sleeping on a slow reply
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _record(self, body: dict[str, Any], auth_header: str) -> Reply:
        """Keep the request and pick the scripted reply for its model."""
        with self._lock:
            self._requests.append(body)
            self._auth_headers.append(auth_header)
            if self._queue:
                return self._queue.pop(0)
            return self._routes.get(str(body.get("model")), self._default)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        """A handler class bound to this stub (http.server wants a class, not an instance)."""
        stub = self

        class _Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    body = {}
                auth_header = self.headers.get("Authorization") or ""
                reply = stub._record(body if isinstance(body, dict) else {}, auth_header)
                if reply.delay_s and stub._stopping.wait(reply.delay_s):
                    return
                payload = reply.raw_body
                if payload is None:
                    payload = _completion_body(str(body.get("model")), reply.content or "")
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up (timeout) before the late answer came

            def log_message(self, format: str, *args: object) -> None:
                """Keep test output quiet."""

        return _Handler
