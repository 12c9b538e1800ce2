"""Nothing lost: a steady stream of dibao applications at the Taicang window while the router,
the outbox relay, intake and the assistance department are killed with SIGKILL in turn, and
the RabbitMQ node crashes; each comes back. Afterwards every application that got a receipt
has reached assistance and its timeline exactly once, and no application refused at the
window was stored.

The clerk's client behaves as AIP-155 asks: an ambiguous failure (5xx, a dropped connection, a
timeout) is retried with the same request id; a refusal (4xx) is final.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import asyncpg
import pytest

from services.common.receipt import receipt_for
from services.launcher.platform import Platform
from tests.conftest import bearer
from tests.factories import ALL_MATERIALS, dibao_json
from tests.faults.rabbitmq_node import RabbitMQNode

pytestmark = [pytest.mark.faults, pytest.mark.timeout(480)]

JURISDICTION = "320585"
DEPARTMENT = "assistance"
ROUTED = "TIMELINE_ENTRY_KIND_ROUTED"
ACCEPTED = "TIMELINE_ENTRY_KIND_ACCEPTED"
RATE_PER_SECOND = float(os.environ.get("FAULTS_RATE", "15"))
# Every so many applications lack a required material: the window must refuse them, and
# nothing of them may be stored, whatever is down at the time.
REFUSED_EVERY = 20
WARM_UP_SECONDS = 4.0
# How long each killed process (and the broker) stays down: work piles up behind it.
DOWN_SECONDS = 2.0
# Load between one fault's recovery and the next fault.
SETTLE_SECONDS = 4.0
DRAIN_TIMEOUT_SECONDS = 90.0
# Retries of one request id: long enough to outlast any single restart.
ATTEMPTS = 10
RETRY_PAUSE_CAP_SECONDS = 4.0
REQUEST_TIMEOUT_SECONDS = 20.0
# 4xx answers are final (AIP-194); 409 (ABORTED), 429 and 499 say "try again".
FINAL_CLIENT_ERRORS = frozenset({400, 401, 403, 404, 413, 422})


@dataclass
class Submission:
    request_id: str
    meant_to_be_refused: bool
    # receipted, refused, or unresolved (ambiguous failures until the client gave up)
    outcome: str = "pending"
    receipt: str = ""
    status: int = 0
    attempts: int = 0
    # Receipts answered for this request id over its attempts: must never be two.
    receipts_seen: set[str] = field(default_factory=set)


class WindowLoad:
    """Submits applications at a steady rate, each retried on ambiguous failures."""

    def __init__(self, session: aiohttp.ClientSession, rate: float) -> None:
        self.session = session
        self.rate = rate
        self.submissions: list[Submission] = []
        self.ambiguous: collections.Counter[str] = collections.Counter()
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        began = time.monotonic()
        sent = 0
        while not self._stopping.is_set():
            # Paced against the clock, not per sleep: a slow loop catches up instead of drifting.
            due = began + sent / self.rate
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            body = dibao_json()
            refused = sent % REFUSED_EVERY == REFUSED_EVERY - 1
            if refused:
                body["materials"] = [m for m in ALL_MATERIALS if m != "income_proof"]
            submission = Submission(body["requestId"], refused)
            self.submissions.append(submission)
            task = asyncio.create_task(self._submit(submission, body))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            sent += 1

    def stop_sending(self) -> None:
        self._stopping.set()

    async def finish(self) -> None:
        """Waits for every submission to reach its final outcome."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks))

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    async def _submit(self, submission: Submission, body: dict[str, Any]) -> None:
        for attempt in range(ATTEMPTS):
            submission.attempts = attempt + 1
            try:
                async with self.session.post(
                    "/v1/applications",
                    json=body,
                    timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS),
                ) as response:
                    submission.status = response.status
                    answer = await response.json(content_type=None)
                if response.status == 200:
                    submission.receipts_seen.add(answer["receipt"])
                    submission.receipt = answer["receipt"]
                    submission.outcome = "receipted"
                    return
                if response.status in FINAL_CLIENT_ERRORS:
                    submission.outcome = "refused"
                    return
                self.ambiguous[f"http {response.status}"] += 1
            except (aiohttp.ClientError, TimeoutError, ValueError) as error:
                self.ambiguous[type(error).__name__] += 1
            await asyncio.sleep(min(0.25 * 2**attempt, RETRY_PAUSE_CAP_SECONDS))
        submission.outcome = "unresolved"


@dataclass(frozen=True)
class Ledger:
    """What the databases hold, per receipt."""

    cases: dict[str, str]  # receipt -> request id
    accepted: collections.Counter[str]
    routed: collections.Counter[str]
    department_cases: collections.Counter[str]
    unpublished: int


async def read_ledger(platform: Platform) -> Ledger:
    intake = await asyncpg.connect(platform.database_url("intake"))
    department = await asyncpg.connect(platform.database_url(DEPARTMENT))
    try:
        cases = {
            r["receipt"]: r["request_id"]
            for r in await intake.fetch("SELECT receipt, request_id FROM cases")
        }
        entries = await intake.fetch(
            """SELECT receipt, kind, count(*) AS n FROM timeline
                WHERE kind = $1 OR (kind = $2 AND department = $3)
                GROUP BY receipt, kind""",
            ACCEPTED,
            ROUTED,
            DEPARTMENT,
        )
        unpublished = await intake.fetchval(
            "SELECT count(*) FROM outbox WHERE published_at IS NULL"
        )
        opened = await department.fetch(
            "SELECT receipt, count(*) AS n FROM department_cases GROUP BY receipt"
        )
    finally:
        await intake.close()
        await department.close()
    return Ledger(
        cases=cases,
        accepted=collections.Counter(
            {r["receipt"]: r["n"] for r in entries if r["kind"] == ACCEPTED}
        ),
        routed=collections.Counter({r["receipt"]: r["n"] for r in entries if r["kind"] == ROUTED}),
        department_cases=collections.Counter({r["receipt"]: r["n"] for r in opened}),
        unpublished=int(unpublished),
    )


def arrived(ledger: Ledger, receipt: str) -> bool:
    return (
        receipt in ledger.cases
        and ledger.routed[receipt] >= 1
        and ledger.department_cases[receipt] >= 1
    )


async def load_for(seconds: float, load: WindowLoad, what: str) -> None:
    await asyncio.sleep(seconds)
    print(
        f"    {what}: {seconds:.0f}s of load, {len(load.submissions)} submitted so far", flush=True
    )


async def test_nothing_is_lost_or_doubled_while_processes_and_the_broker_crash(
    platform: Platform, rabbitmq_node: RabbitMQNode
) -> None:
    began = time.monotonic()

    def restart(name: str) -> Callable[[], Awaitable[None]]:
        return lambda: asyncio.to_thread(platform.restart, name, down=DOWN_SECONDS)

    faults = {
        **{
            name: restart(name)
            for name in ("router", "notifier", "notifier_records", "relay", "intake", DEPARTMENT)
        },
        "rabbitmq": lambda: asyncio.to_thread(_crash_and_restart, rabbitmq_node),
    }
    timings: dict[str, float] = {}
    async with aiohttp.ClientSession(
        f"http://127.0.0.1:{platform.ports.gateway_http}", headers=bearer()
    ) as session:
        load = WindowLoad(session, RATE_PER_SECOND)
        print(f"\n==> submitting {RATE_PER_SECOND:.0f} applications/s", flush=True)
        running = asyncio.create_task(load.run())
        try:
            await load_for(WARM_UP_SECONDS, load, "warm-up")
            for name, inflict in faults.items():
                print(f"==> {name}: SIGKILL, {DOWN_SECONDS:.0f}s down, start again", flush=True)
                started = time.monotonic()
                await inflict()
                timings[name] = time.monotonic() - started
                print(
                    f"    {name} serving again {timings[name]:.1f}s after the kill"
                    f" ({load.in_flight} submissions in flight)",
                    flush=True,
                )
                await load_for(SETTLE_SECONDS, load, f"after {name}")
        finally:
            load.stop_sending()
            await running
            print(f"==> load stopped; finishing {load.in_flight} submissions in flight", flush=True)
            await load.finish()
    assert not platform.exited(), f"processes down after the faults: {platform.exited()}"

    submissions = load.submissions
    receipted = [s for s in submissions if s.outcome == "receipted"]
    print(
        f"==> draining: waiting up to {DRAIN_TIMEOUT_SECONDS:.0f}s for every receipt to be routed"
    )
    drain_began = time.monotonic()
    last_report = 0.0
    while True:
        ledger = await read_ledger(platform)
        done = sum(arrived(ledger, s.receipt) for s in receipted)
        waited = time.monotonic() - drain_began
        if done == len(receipted) and ledger.unpublished == 0:
            break
        if waited > DRAIN_TIMEOUT_SECONDS:
            break
        if waited - last_report >= 5:
            last_report = waited
            print(
                f"    {done}/{len(receipted)} routed, {ledger.unpublished} events unpublished",
                flush=True,
            )
        await asyncio.sleep(1.0)
    timings["drain"] = time.monotonic() - drain_began

    refused = [s for s in submissions if s.outcome == "refused"]
    unresolved = [s for s in submissions if s.outcome == "unresolved"]
    receipts = {s.receipt for s in receipted}

    lost = [s.receipt for s in receipted if not arrived(ledger, s.receipt)]
    doubled = sorted(
        {s.receipt for s in receipted if ledger.routed[s.receipt] > 1}
        | {s.receipt for s in receipted if ledger.department_cases[s.receipt] > 1}
        | {s.receipt for s in receipted if ledger.accepted[s.receipt] > 1}
        | {s.request_id for s in submissions if len(s.receipts_seen) > 1}
    )
    wrong_receipts = [
        s.request_id for s in receipted if s.receipt != receipt_for(JURISDICTION, s.request_id)
    ]
    stored_refused = [
        s.request_id for s in refused if receipt_for(JURISDICTION, s.request_id) in ledger.cases
    ]
    # Stored without the client ever hearing of it: only a request the client gave up on may be.
    given_up = {s.request_id for s in unresolved}
    strays = [
        r
        for r, request_id in ledger.cases.items()
        if r not in receipts and request_id not in given_up
    ]
    opened_elsewhere = [r for r in ledger.department_cases if r not in ledger.cases]
    refused_unexpectedly = [s for s in refused if not s.meant_to_be_refused]
    receipted_unexpectedly = [s for s in receipted if s.meant_to_be_refused]
    retried = sum(1 for s in submissions if s.attempts > 1)

    print(
        f"==> submitted={len(submissions)} receipted={len(receipted)} refused={len(refused)}"
        f" unresolved={len(unresolved)} retried={retried}"
        f" routed={sum(arrived(ledger, r) for r in receipts)}"
        f" duplicates={len(doubled)} lost={len(lost)} stored_refused={len(stored_refused)}"
    )
    print(
        "    timings: "
        + " ".join(f"{name}={seconds:.1f}s" for name, seconds in timings.items())
        + f" total={time.monotonic() - began:.0f}s"
    )
    print(f"    ambiguous answers retried: {dict(load.ambiguous) or 'none'}")
    if refused_unexpectedly:
        statuses = collections.Counter(s.status for s in refused_unexpectedly)
        print(f"    complete applications refused (records): {dict(statuses)}")

    # The notifier and its send records, killed with the rest, recorded each acceptance's
    # message once (sent, or held for the morning when the test runs in the bureau's quiet
    # hours) and sent none twice.
    unnoticed = await _unnoticed(platform, receipts)
    sent_twice = _sent_twice(platform, receipts)
    print(
        f"    notifier: {len(receipts) - len(unnoticed)} acceptances recorded, {len(sent_twice)} sent twice"
    )
    assert unnoticed == [], (
        f"{len(unnoticed)} acceptances the notifier never recorded: {unnoticed[:10]}"
    )
    assert sent_twice == [], f"{len(sent_twice)} acceptances sent twice: {sent_twice[:10]}"
    assert lost == [], f"{len(lost)} receipted applications never routed: {lost[:10]}"
    assert doubled == [], f"{len(doubled)} applications doubled: {doubled[:10]}"
    assert stored_refused == [], f"{len(stored_refused)} refused applications stored"
    assert wrong_receipts == [], f"{len(wrong_receipts)} receipts not derived from the request id"
    assert strays == [], f"{len(strays)} cases stored that no client was told of: {strays[:10]}"
    assert opened_elsewhere == [], f"department cases without an intake case: {opened_elsewhere}"
    assert len(receipted_unexpectedly) == 0, "applications lacking a material were accepted"
    assert len(unresolved) == 0, f"{len(unresolved)} submissions never got a final answer"
    assert len(receipted) > 0.8 * len(submissions), "too few applications accepted to mean much"


def _crash_and_restart(node: RabbitMQNode) -> None:
    node.kill()
    time.sleep(DOWN_SECONDS)
    node.start()


async def _unnoticed(platform: Platform, receipts: set[str], timeout: float = 60.0) -> list[str]:
    """The receipts without an acceptance record in the notifier's database, once it has had
    ``timeout`` seconds to catch up."""
    deadline = time.monotonic() + timeout
    while True:
        conn = await asyncpg.connect(platform.database_url("notifier"))
        try:
            recorded = {
                r["receipt"]
                for r in await conn.fetch(
                    "SELECT receipt FROM notices WHERE notice_key = 'accepted'"
                )
            }
        finally:
            await conn.close()
        missing = sorted(receipts - recorded)
        if not missing or time.monotonic() > deadline:
            return missing
        await asyncio.sleep(1.0)


def _sent_twice(platform: Platform, receipts: set[str]) -> list[str]:
    """Receipts whose acceptance the file provider wrote more than once."""
    try:
        lines = platform.notifier_messages.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    counts = collections.Counter(json.loads(line)["key"] for line in lines if line.strip())
    return sorted(r for r in receipts if counts.get(f"{r}/accepted/applicant", 0) > 1)
