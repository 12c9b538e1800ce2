"""The development provider writes each message once per idempotency key, across restarts and
beside another process writing the same file."""

from __future__ import annotations

import json
from pathlib import Path

from services.notifier.provider import FileProvider, Message, Verdict


def _lines(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_key_is_written_once_and_a_restarted_provider_remembers_it(tmp_path: Path) -> None:
    path = tmp_path / "outbox" / "sms.jsonl"
    first = FileProvider(path)
    sent = first.send(Message("k-1", "13800000000", "您的申请已受理"))
    again = first.send(Message("k-1", "13800000000", "您的申请已受理"))
    other = first.send(Message("k-2", "13900000000", "请补正材料"))

    restarted = FileProvider(path)
    after_restart = restarted.send(Message("k-1", "13800000000", "您的申请已受理"))
    new_after_restart = restarted.send(Message("k-3", "13700000000", "已办结"))

    assert [o.cause for o in (sent, again, other, after_restart, new_after_restart)] == [
        "accepted",
        "duplicate",
        "accepted",
        "duplicate",
        "accepted",
    ]
    assert all(o.verdict is Verdict.SENT for o in (sent, again, after_restart))
    assert [line["key"] for line in _lines(path)] == ["k-1", "k-2", "k-3"]


def test_a_key_another_process_wrote_meanwhile_is_not_written_again(tmp_path: Path) -> None:
    path = tmp_path / "sms.jsonl"
    mine, theirs = FileProvider(path), FileProvider(path)
    assert mine.send(Message("k-1", "13800000000", "您的申请已受理")).cause == "accepted"
    assert theirs.send(Message("k-2", "13900000000", "请补正材料")).cause == "accepted"
    assert mine.send(Message("k-2", "13900000000", "请补正材料")).cause == "duplicate"
    assert theirs.send(Message("k-1", "13800000000", "您的申请已受理")).cause == "duplicate"
    assert [line["key"] for line in _lines(path)] == ["k-1", "k-2"]
    path.write_text("", encoding="utf-8")
    assert mine.send(Message("k-1", "13800000000", "您的申请已受理")).cause == "accepted"
    assert [line["key"] for line in _lines(path)] == ["k-1"]
