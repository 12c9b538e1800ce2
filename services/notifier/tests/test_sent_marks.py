"""A sender's round marks what it sent MARK_BATCH at a time and the rest at its end: one call
to the send records for many messages, each message's own time and provider id kept."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from services.notifier.store import MARK_BATCH, Claimed, SendRecords

NOW = dt.datetime(2026, 12, 4, 2, 0, tzinfo=dt.UTC)


def _claimed(i: int) -> Claimed:
    return Claimed(i, f"R-{i}", "accepted", "applicant", "accepted", "m", "zh-CN", "", {}, 1)


def test_marks_go_in_batches_and_the_rest_with_the_flush() -> None:
    calls: list[tuple[str, Any]] = []
    records = SendRecords(lambda method, request: calls.append((method, request)))
    total = 2 * MARK_BATCH + 3
    for i in range(1, total + 1):
        records.sent(_claimed(i), NOW + dt.timedelta(seconds=i), f"p-{i}")
    assert [len(r.requests) for _, r in calls] == [MARK_BATCH, MARK_BATCH]
    records.flush()
    records.flush()  # nothing left: no call
    assert [m for m, _ in calls] == ["BatchMarkSent"] * 3
    marks = [one for _, r in calls for one in r.requests]
    assert [(m.id, m.provider_id) for m in marks] == [(i, f"p-{i}") for i in range(1, total + 1)]
    assert marks[4].sent_time.ToDatetime(tzinfo=dt.UTC) == NOW + dt.timedelta(seconds=5)


def test_a_failed_flush_raises_and_does_not_mark_them_again() -> None:
    calls: list[str] = []

    def unavailable(method: str, request: Any) -> Any:
        calls.append(method)
        raise ConnectionError("send records away")

    records = SendRecords(unavailable)
    records.sent(_claimed(1), NOW, "p-1")
    with pytest.raises(ConnectionError):
        records.flush()
    records.flush()
    assert calls == ["BatchMarkSent"]
