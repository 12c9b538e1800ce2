"""The gateway's HTTP API as the command line calls it: where it is, the bearer token, and every
failure turned into a :class:`CliError` with the right exit code.

urllib rather than an HTTP library: the command line should start fast and need nothing the
platform does not already ship.
"""

from __future__ import annotations

import argparse
import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

from services.cli import credentials, settings
from services.cli.outcome import CliError, ExitCode, from_error_body

DEFAULT_GATEWAY = settings.DEFAULT_GATEWAY
DEFAULT_TIMEOUT_SECONDS = 30.0
# The languages the gateway renders its texts in (timeline, assessments); the bureau's first.
LANGUAGES = ("zh-CN", "en")


class Response(Protocol):
    status: int

    def read(self) -> bytes: ...


# Takes a request and a timeout, returns a response; urllib's opener, or a fake in the tests.
Opener = Callable[[urllib.request.Request, float], Response]


def _urllib_open(request: urllib.request.Request, timeout: float) -> Response:
    response: Response = urllib.request.urlopen(request, timeout=timeout)
    return response


def segment(value: str) -> str:
    """A value as one path segment: a receipt such as "../audit" must not reach another route."""
    return urllib.parse.quote(value, safe="")


class GatewayClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        opener: Opener = _urllib_open,
        language: str = LANGUAGES[0],
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.opener = opener
        self.language = language

    def get(self, path: str, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        query = {k: v for k, v in (params or {}).items() if v}
        url = f"{self.base_url}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
        return self._call(urllib.request.Request(url, method="GET", headers=self._headers()))

    def post(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        data = json.dumps(body, ensure_ascii=False).encode()
        headers = {**self._headers(), "Content-Type": "application/json"}
        request = urllib.request.Request(
            f"{self.base_url}{path}", data=data, method="POST", headers=headers
        )
        return self._call(request)

    def pages(
        self, path: str, params: Mapping[str, str], page_token: str = ""
    ) -> Iterator[dict[str, Any]]:
        """Every page of an AIP-158 list from ``page_token`` on, one response at a time."""
        token = page_token
        while True:
            page = self.get(path, {**params, "pageToken": token})
            yield page
            token = str(page.get("nextPageToken", ""))
            if not token:
                return

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.token}",
            "Accept": "application/json",
            "Accept-Language": self.language,
        }

    def _call(self, request: urllib.request.Request) -> dict[str, Any]:
        try:
            response = self.opener(request, self.timeout)
            status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            raise from_error_body(error.code, _json_or_none(error.read())) from None
        except (
            urllib.error.URLError,
            ConnectionError,
            TimeoutError,
            http.client.HTTPException,
        ) as error:
            reason = getattr(error, "reason", error)
            raise CliError(
                f"cannot reach the gateway at {self.base_url} ({reason})",
                code=ExitCode.UNAVAILABLE,
                hint="start it (`make run` serves http://127.0.0.1:8080) or point "
                "ONEDOOR_GATEWAY / --gateway at it; a retry with the same request id is safe",
            ) from None
        body = _json_or_none(raw)
        if not isinstance(body, dict):
            raise CliError(
                f"the gateway answered {status} without a JSON object",
                code=ExitCode.UNAVAILABLE,
                hint=f"is {self.base_url} the onedoor gateway?",
            )
        return body


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None


def gateway_url(option: str | None) -> str:
    """--gateway, which ``main`` fills from ONEDOOR_GATEWAY when it is not given."""
    return option or DEFAULT_GATEWAY


# Looked up at each call, so the unit tests can put a fake gateway in its place.
default_opener: Opener = _urllib_open


def from_args(args: argparse.Namespace) -> GatewayClient:
    """The client the global options describe (--gateway, --token, --timeout, --lang)."""
    return GatewayClient(
        gateway_url(args.gateway),
        credentials.bearer_token(args.token),
        timeout=args.timeout,
        opener=default_opener,
        language=getattr(args, "lang", LANGUAGES[0]),
    )
