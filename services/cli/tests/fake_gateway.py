"""A gateway in memory: answers the command line's requests from a function, as urllib would
(an HTTPError for an error status), so commands run end to end without a server."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

Route = Callable[[str, str, dict[str, str], Any], tuple[int, Any]]


@dataclass
class FakeResponse:
    status: int
    body: bytes

    def read(self) -> bytes:
        return self.body


@dataclass
class FakeGateway:
    """``answer(method, path, query, body)`` gives (HTTP status, JSON body)."""

    answer: Route
    requests: list[urllib.request.Request] = field(default_factory=list)

    def __call__(self, request: urllib.request.Request, timeout: float) -> FakeResponse:
        self.requests.append(request)
        url = urllib.parse.urlsplit(request.full_url)
        query = dict(urllib.parse.parse_qsl(url.query))
        sent = json.loads(request.data) if isinstance(request.data, bytes) else None
        status, body = self.answer(request.get_method(), url.path, query, sent)
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        if status >= 400:
            raise urllib.error.HTTPError(
                request.full_url, status, "error", Message(), io.BytesIO(raw)
            )
        return FakeResponse(status, raw)


def api_error(
    code: int, status: str, message: str, violations: Sequence[tuple[str, str]] = ()
) -> dict[str, Any]:
    """Google's JSON error shape, as the gateway writes it."""
    details: list[dict[str, Any]] = []
    if violations:
        details.append(
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"field": f, "description": d} for f, d in violations],
            }
        )
    details.append(
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "INVALID_APPLICATION",
            "domain": "onedoor.civil-affairs",
        }
    )
    return {
        "error": {"code": code, "status": status, "message": message, "details": details},
        "traceId": "eb5aa775f81e30a51c0b7071329c3d1e",
    }
