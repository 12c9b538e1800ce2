"""`onedoor login`'s polling of the token endpoint (RFC 8628 §3.4-3.5), against a provider on
loopback that answers from a script (the real provider is in tests/test_cli_login.py)."""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from services.cli.login import DEVICE_GRANT, device_login
from services.cli.outcome import CliError, ExitCode


class ScriptedProvider:
    def __init__(self) -> None:
        self.answers: list[tuple[int, dict[str, Any]]] = []
        self.polls: list[dict[str, str]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._send(
                    200,
                    {
                        "issuer": provider.issuer,
                        "device_authorization_endpoint": f"{provider.issuer}/device/auth",
                        "token_endpoint": f"{provider.issuer}/token",
                    },
                )

            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                if self.path == "/device/auth":
                    self._send(
                        200,
                        {
                            "device_code": "device-1",
                            "user_code": "ABCD-EFGH",
                            "verification_uri": f"{provider.issuer}/device",
                            "verification_uri_complete": f"{provider.issuer}/device?user_code=ABCD-EFGH",
                            "expires_in": 600,
                            "interval": 2,
                        },
                    )
                    return
                provider.polls.append(form)
                self._send(*provider.answers.pop(0))

        return Handler


@pytest.fixture
def provider() -> Iterator[ScriptedProvider]:
    scripted = ScriptedProvider()
    thread = threading.Thread(target=scripted.server.serve_forever, daemon=True)
    thread.start()
    yield scripted
    scripted.server.shutdown()
    scripted.server.server_close()


def login(provider: ScriptedProvider) -> tuple[str, list[str], list[float]]:
    told: list[str] = []
    slept: list[float] = []
    token = device_login(provider.issuer, "onedoor-cli", 5, told.append, slept.append)
    return token, told, slept


def test_it_polls_until_signed_in_and_slows_down_when_told(provider: ScriptedProvider) -> None:
    provider.answers = [
        (400, {"error": "authorization_pending"}),
        (400, {"error": "slow_down"}),
        (400, {"error": "authorization_pending"}),
        (200, {"access_token": "the.access.token", "token_type": "Bearer"}),
    ]
    token, told, slept = login(provider)
    assert token == "the.access.token"
    assert "ABCD-EFGH" in told[0] and "/device?user_code=ABCD-EFGH" in told[0]
    # Every poll waits the interval; after slow_down, five seconds more.
    assert slept == [2, 2, 7, 7]
    assert {p["grant_type"] for p in provider.polls} == {DEVICE_GRANT}
    assert {p["device_code"] for p in provider.polls} == {"device-1"}


@pytest.mark.parametrize(
    ("error", "says"),
    [("access_denied", "declined"), ("expired_token", "expired"), ("invalid_grant", "invalid")],
)
def test_a_sign_in_that_ends_without_a_token_says_why(
    provider: ScriptedProvider, error: str, says: str
) -> None:
    provider.answers = [(400, {"error": "authorization_pending"}), (400, {"error": error})]
    with pytest.raises(CliError) as raised:
        login(provider)
    assert says in raised.value.message
    assert raised.value.code == ExitCode.FAILED
