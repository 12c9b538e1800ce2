"""The port to the SMS provider, and its adapters.

- :class:`FileProvider` (development, ``make run``): appends each message it would send to a
  file under the run's directory, one JSON line each.
- :class:`HttpProvider`: a provider's HTTP API. Each request is signed (HMAC-SHA256 over the
  method, path, timestamp and body with the account's secret), carries the message's
  idempotency key (so a message sent again after the notifier died mid-send is delivered
  once by a provider honouring it), and its answers are mapped to sent, retry later or give
  up (:func:`classify`).

Neither logs, raises or returns the phone or the text: errors carry a status and a cause.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import http.client
import json
import os
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Message:
    # The send record's key: the same message sent twice carries the same one.
    idempotency_key: str
    phone: str
    text: str


class Verdict(enum.Enum):
    SENT = "sent"
    RETRY = "retry"
    GIVE_UP = "give_up"


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    # A closed set, fit for a metric label and a log line: accepted, rate_limited,
    # provider_error, timeout, unreachable, refused, bad_number, ...
    cause: str
    provider_id: str = ""
    retry_after_seconds: float | None = None


class Provider(Protocol):
    """What sends a text message: never raises for the provider's trouble, says what it was."""

    name: str

    def send(self, message: Message) -> Outcome: ...


class FileProvider:
    """Writes what it would send to ``path`` (JSON lines), once per idempotency key."""

    name = "file"

    def __init__(self, path: Path, now: Callable[[], dt.datetime] | None = None) -> None:
        self.path = path
        # The notifier's clock, so that the file says when, on it, a message went.
        self.now = now or (lambda: dt.datetime.now(dt.UTC))
        # The keys in the file, and how far it has been read: each send reads only what was
        # appended since (by this provider or another process writing the same file). Reading
        # it whole for every message made each send cost as much as all the sends before it.
        self._sent: set[str] = set()
        self._read_to = 0

    def _sent_keys(self) -> set[str]:
        try:
            with self.path.open("rb") as file:
                if os.fstat(file.fileno()).st_size < self._read_to:
                    # Emptied or replaced under us: read from its start again.
                    self._sent, self._read_to = set(), 0
                file.seek(self._read_to)
                appended = file.read()
        except FileNotFoundError:
            return self._sent
        # Up to the last whole line: a line being written is read with the next send.
        whole = appended[: appended.rfind(b"\n") + 1]
        self._read_to += len(whole)
        for line in whole.decode("utf-8").splitlines():
            if line.strip():
                self._sent.add(json.loads(line)["key"])
        return self._sent

    def send(self, message: Message) -> Outcome:
        # A message written before the notifier died, and handed again after it restarted,
        # is not written twice: as a provider honouring the idempotency key does.
        sent = self._sent_keys()
        if message.idempotency_key in sent:
            return Outcome(Verdict.SENT, "duplicate", message.idempotency_key)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(
            {
                "key": message.idempotency_key,
                "to": message.phone,
                "text": message.text,
                "at": self.now().isoformat(),
            },
            ensure_ascii=False,
        )
        with self.path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")
            out.flush()
            os.fsync(out.fileno())
        sent.add(message.idempotency_key)
        return Outcome(Verdict.SENT, "accepted", message.idempotency_key)


# The provider's answers as this adapter reads them. 2xx: accepted; 409: it has the message
# already (the idempotency key), which is as good as sent; 429 and 5xx: its trouble, retried
# after Retry-After or the back-off; 400/422: the number or text is refused for good; 401/403:
# our credentials, which no retry mends (given up and counted, so an operator sees them).
def classify(status: int, retry_after: str | None = None, provider_id: str = "") -> Outcome:
    hint: float | None = None
    if retry_after:
        try:
            hint = max(0.0, float(retry_after))
        except ValueError:
            hint = None
    if 200 <= status < 300:
        return Outcome(Verdict.SENT, "accepted", provider_id)
    if status == 409:
        return Outcome(Verdict.SENT, "duplicate", provider_id)
    if status == 429:
        return Outcome(Verdict.RETRY, "rate_limited", retry_after_seconds=hint)
    if status >= 500:
        return Outcome(Verdict.RETRY, "provider_error", retry_after_seconds=hint)
    if status in (401, 403):
        return Outcome(Verdict.GIVE_UP, "credentials_refused")
    if status in (400, 404, 422):
        return Outcome(Verdict.GIVE_UP, "refused")
    return Outcome(Verdict.GIVE_UP, f"http_{status // 100}xx")


def signature(secret: str, method: str, path: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 of the request as the provider recomputes it, hex."""
    signed = b"\n".join([method.encode(), path.encode(), timestamp.encode(), body])
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


class HttpProvider:
    """A provider's JSON API: POST {url} with {"to", "text", "sender"}; headers
    X-Account (the account id), X-Timestamp (Unix seconds), X-Signature
    (:func:`signature`) and Idempotency-Key."""

    name = "http"

    def __init__(
        self, url: str, account: str, secret: str, sender: str, timeout_seconds: float = 10.0
    ) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError("NOTIFIER_PROVIDER_URL must be an http(s) URL")
        self.parsed = parsed
        self.account = account
        self.secret = secret
        self.sender = sender
        self.timeout = timeout_seconds

    def _connection(self) -> http.client.HTTPConnection:
        host = self.parsed.hostname or ""
        if self.parsed.scheme == "https":
            return http.client.HTTPSConnection(host, self.parsed.port, timeout=self.timeout)
        return http.client.HTTPConnection(host, self.parsed.port, timeout=self.timeout)

    def send(self, message: Message) -> Outcome:
        body = json.dumps(
            {"to": message.phone, "text": message.text, "sender": self.sender},
            ensure_ascii=False,
        ).encode()
        path = self.parsed.path or "/"
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Account": self.account,
            "X-Timestamp": timestamp,
            "X-Signature": signature(self.secret, "POST", path, timestamp, body),
            "Idempotency-Key": message.idempotency_key,
        }
        connection = self._connection()
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
        except TimeoutError:
            # Sent or not, nobody knows: retried with the same idempotency key.
            return Outcome(Verdict.RETRY, "timeout")
        except OSError:
            return Outcome(Verdict.RETRY, "unreachable")
        except http.client.HTTPException:
            return Outcome(Verdict.RETRY, "bad_answer")
        finally:
            connection.close()
        return classify(response.status, response.getheader("Retry-After"), _id_of(payload))


def _id_of(payload: bytes) -> str:
    try:
        answer = json.loads(payload or b"{}")
    except ValueError:
        return ""
    return str(answer.get("id", "")) if isinstance(answer, Mapping) else ""
