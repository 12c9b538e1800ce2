"""A local SMS provider for the tests: a real HTTP server on loopback that checks each
request's signature, keeps one message per idempotency key, and answers as scripted (accept,
429 with Retry-After, 5xx, or hang past the client's timeout)."""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from services.notifier.provider import signature

ACCOUNT = "onedoor-test"
SECRET = "provider-test-secret"


@dataclass
class Delivered:
    key: str
    to: str
    text: str


@dataclass
class LocalProvider:
    secret: str = SECRET
    # Answers still to give, one per request, before accepting: 429, 500, 503, "hang", 401...
    script: deque[int | str] = field(default_factory=deque)
    delivered: dict[str, Delivered] = field(default_factory=dict)
    requests: int = 0
    bad_signatures: int = 0
    hang_seconds: float = 1.0

    def start(self) -> None:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                provider.requests += 1
                expected = signature(
                    provider.secret, "POST", self.path, self.headers.get("X-Timestamp", ""), body
                )
                if not hmac.compare_digest(expected, self.headers.get("X-Signature", "")):
                    provider.bad_signatures += 1
                    return self._answer(401, {"error": "bad signature"})
                key = self.headers.get("Idempotency-Key", "")
                payload = json.loads(body)
                if provider.script:
                    scripted = provider.script.popleft()
                    if scripted == "accept-then-hang":
                        # Took it, and the answer never reaches the sender.
                        provider.delivered[key] = Delivered(key, payload["to"], payload["text"])
                        time.sleep(provider.hang_seconds)
                        return self._answer(200, {"id": "late"})
                    if scripted == "hang":
                        time.sleep(provider.hang_seconds)
                        return self._answer(200, {"id": "late"})
                    assert isinstance(scripted, int)
                    headers = {"Retry-After": "0"} if scripted == 429 else {}
                    return self._answer(scripted, {"error": "scripted"}, headers)
                if key in provider.delivered:
                    return self._answer(409, {"id": key, "error": "duplicate"})
                provider.delivered[key] = Delivered(key, payload["to"], payload["text"])
                return self._answer(200, {"id": f"msg-{len(provider.delivered)}"})

            def _answer(
                self, status: int, payload: dict[str, str], headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    # The client gave up waiting (a hang past its timeout).
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1/messages"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
