"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions protocol.

Each request takes the next behaviour from a script ("ok", "429", "quota", "500", "401",
"403", "hang", "html", "empty", "length", "malformed", "offschema"); the last one repeats.
Every request body is recorded byte for byte.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DECISION = {
    "decision": "Hash passwords with argon2id and keep the pepper in [REDACTED:openai-key#1].",
    "reasons": ["argon2id resists GPU cracking"],
    "dissents": [{"role": "qa", "point": "needs tests", "resolution": "add a login test"}],
    "confidence": "high",
    "follow_up": ["migrate old hashes on next login"],
}


@dataclass
class FakeOpenAI:
    script: list[str] = field(default_factory=lambda: ["ok"])
    content: str = json.dumps(DECISION)
    # Answers for successive "ok" requests, each text or a function of the request body;
    # when empty, `content` answers.
    answers: list[Any] = field(default_factory=list)
    hang_s: float = 5.0
    bodies: list[bytes] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    url: str = ""

    def next_behaviour(self) -> str:
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    @property
    def requests(self) -> list[dict[str, Any]]:
        return [json.loads(b) for b in self.bodies]


def _handler(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            return

        def _send(self, status: int, body: bytes, content_type: str = "application/json",
                  extra: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def _error(self, status: int, code: str, message: str,
                   extra: dict[str, str] | None = None) -> None:
            body = json.dumps({"error": {"message": message, "type": code, "code": code}})
            self._send(status, body.encode(), extra=extra)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            fake.bodies.append(body)
            fake.headers.append(dict(self.headers))
            behaviour = fake.next_behaviour()
            if behaviour == "hang":
                time.sleep(fake.hang_s)
                return self._error(500, "server_error", "too late")
            if behaviour == "429":
                return self._error(429, "rate_limit_exceeded", "slow down",
                                   {"Retry-After": "0"})
            if behaviour == "quota":
                return self._error(429, "insufficient_quota", "You exceeded your quota")
            if behaviour in ("500", "502"):
                return self._error(int(behaviour), "server_error", "boom")
            if behaviour == "401":
                return self._error(401, "invalid_api_key", "Incorrect API key provided")
            if behaviour == "403":
                return self._error(403, "permission_denied", "no access")
            if behaviour == "html":
                return self._send(200, b"<html><body>Proxy login</body></html>", "text/html")
            stream = json.loads(body).get("stream", False)
            content = {"malformed": "this is not json at all",
                       "offschema": json.dumps({"verdict": "yes"})}.get(behaviour, fake.content)
            if behaviour == "ok" and fake.answers:
                answer = fake.answers.pop(0)
                content = answer(json.loads(body)) if callable(answer) else answer
            finish = "length" if behaviour == "length" else "stop"
            if not stream:
                choices = [] if behaviour == "empty" else [{
                    "index": 0, "finish_reason": finish,
                    "message": {"role": "assistant", "content": content}}]
                return self._send(200, json.dumps({
                    "id": "x", "object": "chat.completion", "created": 0, "model": "gpt-5.2",
                    "choices": choices,
                    "usage": {"prompt_tokens": 321, "completion_tokens": 45,
                              "total_tokens": 366}}).encode())
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()

            def event(payload: dict[str, Any] | str) -> None:
                data = payload if isinstance(payload, str) else json.dumps(payload)
                raw = f"data: {data}\n\n".encode()
                self.wfile.write(f"{len(raw):x}\r\n".encode() + raw + b"\r\n")
                self.wfile.flush()

            base = {"id": "c", "object": "chat.completion.chunk", "created": 0,
                    "model": "gpt-5.2"}
            if behaviour != "empty":
                for start in range(0, len(content), 20):
                    event({**base, "choices": [{"index": 0, "finish_reason": None,
                                                "delta": {"content": content[start:start + 20]}}]})
                event({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
            event({**base, "choices": [], "usage": {"prompt_tokens": 321,
                                                    "completion_tokens": 45,
                                                    "total_tokens": 366}})
            event("[DONE]")
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
            return None

    return Handler


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A client that gave up (timeout) is part of the tests, not an error."""


@contextmanager
def serve_openai(script: list[str] | None = None, **options: Any) -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI(script=script or ["ok"], **options)
    server = _QuietServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
