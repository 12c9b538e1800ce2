"""The gateway's audit trail batches entries that arrive while an append is on its way, and
answers each caller only once its own entries are stored, or with the append's error."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import grpc
import pytest

from gateway.audit_trail import AuditTrail
from services.common.errors import ApiError


class SlowIntake:
    """Holds each AppendAudit until the test lets it through."""

    def __init__(self) -> None:
        self.appends: list[list[str]] = []
        self.release = asyncio.Event()
        self.fail_next = False
        self.intake = SimpleNamespace(AppendAudit=object())

    async def call(self, method: Any, request: Any) -> None:
        self.appends.append([e.receipt for e in request.entries])
        await self.release.wait()
        self.release.clear()
        if self.fail_next:
            self.fail_next = False
            raise ApiError(grpc.StatusCode.UNAVAILABLE, "intake is away")


async def _until(condition: Any) -> None:
    while not condition():
        await asyncio.sleep(0)


async def test_entries_that_queue_behind_an_append_go_together_in_the_next():
    intake = SlowIntake()
    trail = AuditTrail(intake)  # type: ignore[arg-type]
    first = asyncio.create_task(trail.record("clerk:a", "case.read", ["R1"]))
    await _until(lambda: len(intake.appends) == 1)
    queued = [
        asyncio.create_task(trail.record("clerk:b", "case.read", ["R2"])),
        asyncio.create_task(trail.record("clerk:c", "case.listed", ["R3", "R4"])),
    ]
    await asyncio.sleep(0)
    assert not first.done() and not any(q.done() for q in queued)

    intake.release.set()
    await first
    await _until(lambda: len(intake.appends) == 2)
    assert not any(q.done() for q in queued), "answered before its entries were stored"
    intake.release.set()
    await asyncio.gather(*queued)
    assert intake.appends == [["R1"], ["R2", "R3", "R4"]]


async def test_a_failed_append_fails_every_caller_in_it_and_the_trail_recovers():
    intake = SlowIntake()
    trail = AuditTrail(intake)  # type: ignore[arg-type]
    intake.fail_next = True
    reads = [asyncio.create_task(trail.record("clerk:a", "case.read", [r])) for r in ("R1", "R2")]
    await _until(lambda: len(intake.appends) == 1)
    intake.release.set()
    for read in reads:
        with pytest.raises(ApiError):
            await read
    later = asyncio.create_task(trail.record("clerk:a", "case.read", ["R3"]))
    await _until(lambda: len(intake.appends) >= 2)
    intake.release.set()
    await later
    assert intake.appends[-1] == ["R3"]


async def test_nothing_to_record_appends_nothing():
    intake = SlowIntake()
    await AuditTrail(intake).record("clerk:a", "case.listed", [])  # type: ignore[arg-type]
    assert intake.appends == []
