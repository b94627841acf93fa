"""A small OpenAI-compatible HTTP server on 127.0.0.1 that misbehaves on purpose (a test tool, not a product path).

Modes, switchable while it runs (``server.mode = "500"``):

- ``ok``: answers chat completions (streamed or not) with ``reply``, or ``reply_json`` when a response format is asked.
- ``slow``: waits ``delay_s`` before answering, so a client with a shorter read timeout gives up.
- ``500``: answers HTTP 500 with an OpenAI-style error body.
- ``junk``: answers HTTP 200 with text that is not the JSON the caller asked for.
- ``drop``: streams two pieces of the reply, then closes the connection in the middle of the chunked body.

With ``reply_for`` set, mode ``ok`` words each plain (non-JSON) answer with ``reply_for(request_body)`` instead of
``reply``, so that a test can tell the answers to different conversations apart.

With ``api_key`` set, every request without ``Authorization: Bearer <api_key>`` gets HTTP 401.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODES = ("ok", "slow", "500", "junk", "drop")


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that give up (timeouts, dropped streams) are expected here; print nothing."""


class FakeOpenAIServer:
    """Start with ``with FakeOpenAIServer() as server:``; ``server.base_url`` ends in ``/v1``."""

    def __init__(self, mode: str = "ok", *, api_key: str | None = None, delay_s: float = 3.0) -> None:
        self.mode = mode
        self.api_key = api_key
        self.delay_s = delay_s
        self.reply = "How would you know that recommending these items works for the users?"
        self.reply_json: dict[str, Any] = {}
        self.reply_for: Callable[[dict[str, Any]], str] | None = None
        self.requests: list[dict[str, Any]] = []
        self._httpd = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def chat_requests(self) -> list[dict[str, Any]]:
        """Bodies of the chat completion requests received so far."""
        return [r["body"] for r in self.requests if r["path"].endswith("/chat/completions")]

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def _completion(text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "fake",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }


def _chunk(text: str | None, finish: str | None = None) -> bytes:
    body = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": "fake",
        "choices": [{"index": 0, "delta": {"content": text} if text else {}, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n".encode()


def _handler_for(server: FakeOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send_json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _authorised(self) -> bool:
            if server.api_key is None or self.headers.get("Authorization") == f"Bearer {server.api_key}":
                return True
            error = {"message": "Incorrect API key provided.", "type": "invalid_request_error"}
            self._send_json(401, {"error": error})
            return False

        def do_GET(self) -> None:
            server.requests.append({"path": self.path, "body": None})
            if not self._authorised():
                return
            if self.path.rstrip("/").endswith("/models"):
                self._send_json(200, {"object": "list", "data": [{"id": "fake", "object": "model"}]})
            else:
                self._send_json(404, {"error": {"message": "not found"}})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            server.requests.append({"path": self.path, "body": body})
            if not self._authorised():
                return
            mode = server.mode
            if mode == "slow":
                time.sleep(server.delay_s)
            if mode == "500":
                self._send_json(500, {"error": {"message": "internal failure", "type": "server_error"}})
                return
            if mode == "junk":
                text = "Sure! {not: json, [at all"
            elif body.get("response_format"):
                text = json.dumps(server.reply_json)
            elif server.reply_for is not None:
                text = server.reply_for(body)
            else:
                text = server.reply
            if body.get("stream"):
                self._stream(text, drop=mode == "drop")
            else:
                self._send_json(200, _completion(text))

        def _stream(self, text: str, drop: bool) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            words = text.split(" ")
            pieces = [_chunk(w + " ") for w in words]
            if drop:
                pieces = pieces[:2]
            else:
                pieces += [_chunk(None, "stop"), b"data: [DONE]\n\n"]
            for piece in pieces:
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                self.wfile.flush()
            if drop:
                self.close_connection = True
                self.connection.shutdown(2)  # mid-body: no terminating chunk
                return
            self.wfile.write(b"0\r\n\r\n")

    return Handler
