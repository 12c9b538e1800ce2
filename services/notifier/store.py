"""The notifier's send records in its own database (migrations/), through pg8000: pure
Python, so its sockets are eventlet's and a query never blocks the nameko process (asyncpg
needs asyncio, which eventlet's hub does not run; STACK.md).

Every instant compared here comes from the notifier's BureauClock, never from the database's
``now()``, so that the quiet hours and the tests' clock are one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import queue
import urllib.parse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import pg8000.native

from services.notifier.notices import Notice


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

    @property
    def idempotency_key(self) -> str:
        return f"{self.receipt}/{self.notice_key}/{self.recipient}"


def _connect_args(url: str) -> dict[str, object]:
    parsed = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qs(parsed.query)
    args: dict[str, object] = {
        "user": urllib.parse.unquote(parsed.username or "postgres"),
        "host": parsed.hostname or "127.0.0.1",
        "port": parsed.port or 5432,
        "database": urllib.parse.unquote(parsed.path.lstrip("/")) or "postgres",
    }
    if parsed.password:
        args["password"] = urllib.parse.unquote(parsed.password)
    if query.get("sslmode", ["disable"])[0] not in ("disable", "allow", "prefer"):
        import ssl

        args["ssl_context"] = ssl.create_default_context()
    return args


class SendRecords:
    def __init__(self, url: str, lease_seconds: float = 60.0, pool_size: int = 10) -> None:
        self.args = _connect_args(url)
        self.lease_seconds = lease_seconds
        # Idle connections for reuse (a queue, which eventlet makes green in the service): a
        # connection per statement cost more than the statement.
        self.idle: queue.LifoQueue[pg8000.native.Connection] = queue.LifoQueue(pool_size)

    @contextmanager
    def _conn(self) -> Iterator[pg8000.native.Connection]:
        try:
            conn = self.idle.get_nowait()
        except queue.Empty:
            conn = pg8000.native.Connection(**self.args)  # type: ignore[arg-type]
        try:
            yield conn
        except BaseException:
            # Its state is unknown (a broken socket, a failed transaction): not reused.
            with contextlib.suppress(Exception):
                conn.close()
            raise
        try:
            self.idle.put_nowait(conn)
        except queue.Full:
            conn.close()

    def record(self, notices: Sequence[Notice], now: dt.datetime, due: dt.datetime) -> int:
        """Records each notice once (a second delivery of its event records nothing); a
        person who opted out gets a row that is never sent. Returns how many were new."""
        new = 0
        with self._conn() as conn:
            conn.run("BEGIN")
            try:
                for notice in notices:
                    rows = conn.run(
                        """INSERT INTO notices (receipt, notice_key, recipient, event,
                                                matter_code, language, sealed_phone, args,
                                                state, due_at, created_at)
                           VALUES (:receipt, :key, :recipient, :event, :matter, :language,
                                   :phone, CAST(:args AS jsonb), :state, :due, :now)
                           ON CONFLICT (receipt, notice_key, recipient) DO NOTHING
                           RETURNING id""",
                        receipt=notice.receipt,
                        key=notice.key,
                        recipient=notice.contact.recipient.value,
                        event=notice.event.value,
                        matter=notice.matter,
                        language=notice.contact.language,
                        phone=notice.contact.sealed_phone,
                        args=json.dumps(dict(notice.args), ensure_ascii=False),
                        state="opted_out" if notice.contact.opted_out else "pending",
                        due=max(notice.due, due) if notice.due else due,
                        now=now,
                    )
                    new += len(rows)
                conn.run("COMMIT")
            except BaseException:
                conn.run("ROLLBACK")
                raise
        return new

    def claim(self, now: dt.datetime, limit: int = 20) -> list[Claimed]:
        """Leases due messages to this sender: pending ones, and those a sender took and did
        not finish before its lease ran out (it died mid-send). Replicas skip each other's."""
        with self._conn() as conn:
            rows = conn.run(
                """UPDATE notices SET state = 'sending', lease_until = :lease,
                                      attempts = attempts + 1
                    WHERE id IN (SELECT id FROM notices
                                  WHERE due_at <= :now
                                    AND (state = 'pending'
                                         OR (state = 'sending' AND lease_until < :now))
                                  ORDER BY due_at, id
                                  LIMIT :limit
                                  FOR UPDATE SKIP LOCKED)
                RETURNING id, receipt, notice_key, recipient, event, matter_code, language,
                          sealed_phone, args, attempts""",
                now=now,
                lease=now + dt.timedelta(seconds=self.lease_seconds),
                limit=limit,
            )
        return [
            Claimed(
                id=r[0],
                receipt=r[1],
                notice_key=r[2],
                recipient=r[3],
                event=r[4],
                matter_code=r[5],
                language=r[6],
                sealed_phone=r[7],
                args=r[8] if isinstance(r[8], dict) else json.loads(r[8]),
                attempts=r[9],
            )
            for r in rows
        ]

    def sent(self, claimed: Claimed, now: dt.datetime, provider_id: str) -> None:
        with self._conn() as conn:
            conn.run(
                """UPDATE notices SET state = 'sent', sent_at = :now, provider_id = :pid,
                                      lease_until = NULL, last_cause = ''
                    WHERE id = :id""",
                now=now,
                pid=provider_id,
                id=claimed.id,
            )

    def retry(self, claimed: Claimed, at: dt.datetime, cause: str) -> None:
        with self._conn() as conn:
            conn.run(
                """UPDATE notices SET state = 'pending', due_at = :at, lease_until = NULL,
                                      last_cause = :cause
                    WHERE id = :id""",
                at=at,
                cause=cause,
                id=claimed.id,
            )

    def failed(self, claimed: Claimed, cause: str) -> None:
        with self._conn() as conn:
            conn.run(
                """UPDATE notices SET state = 'failed', lease_until = NULL, last_cause = :cause
                    WHERE id = :id""",
                cause=cause,
                id=claimed.id,
            )

    def ping(self) -> None:
        with self._conn() as conn:
            conn.run("SELECT 1")
