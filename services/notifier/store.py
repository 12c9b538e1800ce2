"""The notifier's send records, kept by the process beside it (services.notifier.records,
grpc.aio + asyncpg, which owns onedoor_notifier) and reached over gRPC: the notifier runs
under eventlet, where asyncpg cannot (STACK.md). The service hands in how a call is made
(nameko-grpc's proxy, inside a span, with the service credential), so this module needs no
nameko and the tests can call it with a plain stub.

Every instant sent comes from the notifier's BureauClock, never from the database's
``now()``, so that the quiet hours and the tests' clock are one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from onedoor.notifier.v1 import send_records_service_pb2 as pb
from services.common.timestamps import to_timestamp

# (method, request) -> response: one call to SendRecordsService.
Call = Callable[[str, Any], Any]


@dataclass(frozen=True)
class Claimed:
    id: int
    receipt: str
    notice_key: str
    recipient: str
    event: str
    matter_code: str
    language: str
    sealed_phone: str
    args: dict[str, str]
    attempts: int
    # Until when this sender holds it; after, another sender may take it again.
    lease_until: dt.datetime | None = None

    @property
    def idempotency_key(self) -> str:
        return f"{self.receipt}/{self.notice_key}/{self.recipient}"


# A sender's round marks what it sent this many at a time (and the rest at its end): one call
# instead of one a message. A sender that dies between sending and marking leaves at most these
# to be sent again, after their lease, with the same idempotency key.
MARK_BATCH = 20


class SendRecords:
    def __init__(self, call: Call, lease_seconds: float = 60.0) -> None:
        self.call = call
        self.lease_seconds = lease_seconds
        self._sent: list[pb.MarkSentRequest] = []

    def claim(self, now: dt.datetime, limit: int = 20) -> list[Claimed]:
        """Leases due messages to this sender: pending ones, and those a sender took and did
        not finish before its lease ran out (it died mid-send). Replicas skip each other's."""
        answer = self.call(
            "ClaimNotices",
            pb.ClaimNoticesRequest(
                now=to_timestamp(now), limit=limit, lease_seconds=self.lease_seconds
            ),
        )
        return [
            Claimed(
                id=r.id,
                receipt=r.receipt,
                notice_key=r.notice_key,
                recipient=r.recipient,
                event=r.event,
                matter_code=r.matter_code,
                language=r.language,
                sealed_phone=r.sealed_phone,
                args=dict(r.args),
                attempts=r.attempts,
                lease_until=r.lease_until.ToDatetime(tzinfo=dt.UTC),
            )
            for r in answer.notices
        ]

    def sent(self, claimed: Claimed, now: dt.datetime, provider_id: str) -> None:
        """Marked sent with the next MARK_BATCH, or by :meth:`flush`."""
        self._sent.append(
            pb.MarkSentRequest(id=claimed.id, sent_time=to_timestamp(now), provider_id=provider_id)
        )
        if len(self._sent) >= MARK_BATCH:
            self.flush()

    def flush(self) -> None:
        """Marks what :meth:`sent` holds; on failure it is dropped (sent again after the
        lease) and the error raised."""
        marks, self._sent = self._sent, []
        if marks:
            self.call("BatchMarkSent", pb.BatchMarkSentRequest(requests=marks))

    def retry(self, claimed: Claimed, at: dt.datetime, cause: str) -> None:
        self.call(
            "MarkRetry", pb.MarkRetryRequest(id=claimed.id, due_time=to_timestamp(at), cause=cause)
        )

    def failed(self, claimed: Claimed, cause: str) -> None:
        self.call("MarkFailed", pb.MarkFailedRequest(id=claimed.id, cause=cause))
