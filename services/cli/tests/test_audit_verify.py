"""`onedoor audit verify` over a chain built the way the intake service builds it, shown the way
the gateway shows it (the proto JSON mapping), then tampered with."""

import datetime as dt
import json
from typing import Any

import pytest
from google.protobuf import json_format

from onedoor.gateway.v1 import gateway_service_pb2 as pb
from services.cli import chain, gateway_client
from services.cli.__main__ import main
from services.cli.outcome import ExitCode
from services.cli.tests.fake_gateway import FakeGateway
from services.common import audit, auth
from services.common.timestamps import to_timestamp

START = dt.datetime(2026, 11, 24, 12, 32, 51, tzinfo=dt.UTC)


def crafted_chain(count: int, skip: frozenset[int] = frozenset()) -> list[dict[str, Any]]:
    """``count`` entries as GET /v1/audit returns them; sequence numbers in ``skip`` are
    missing, as after a rolled-back insert."""
    entries = []
    previous = audit.GENESIS
    for sequence in (s for s in range(1, count + len(skip) + 1) if s not in skip):
        # Whole seconds, milliseconds and microseconds: protobuf's JSON writes 0, 3 or 6
        # fractional digits, isoformat() 0 or 6.
        created = START + dt.timedelta(
            seconds=sequence, microseconds=[0, 410000, 123457][sequence % 3]
        )
        entry = audit.Entry(
            sequence,
            created.isoformat(),
            "window_clerk:clerk-7",
            "case.read",
            f"320585-AAAAA-{sequence:05d}",
            ("applicant.id_number", "applicant.name"),
            f"{sequence:032x}",
            "看过 detail" if sequence % 2 else "",
        )
        stored = audit.chain_hash(previous, entry)
        previous = stored
        proto = pb.AuditEntry(
            sequence=sequence,
            create_time=to_timestamp(created),
            actor=entry.actor,
            action=entry.action,
            receipt=entry.receipt,
            fields=entry.fields,
            trace_id=entry.trace_id,
            detail=entry.detail,
            hash=stored,
        )
        entries.append(json_format.MessageToDict(proto, always_print_fields_with_no_presence=True))
    return entries


def serve_chain(monkeypatch, entries: list[dict[str, Any]]) -> FakeGateway:
    def answer(method, path, query, body):
        assert (method, path) == ("GET", "/v1/audit")
        size = int(query["pageSize"])
        start = int(query.get("pageToken", "0"))
        page = entries[start : start + size]
        following = str(start + size) if start + size < len(entries) else ""
        return 200, {"entries": page, "nextPageToken": following}

    fake = FakeGateway(answer)
    monkeypatch.setattr(gateway_client, "default_opener", fake)
    monkeypatch.setenv("ONEDOOR_TOKEN", auth.issue("auditor", "320585"))
    return fake


def test_created_at_is_rebuilt_exactly_as_the_chain_hashed_it():
    assert chain.created_at("2026-11-24T12:32:51Z") == "2026-11-24T12:32:51+00:00"
    assert chain.created_at("2026-11-24T12:32:51.410Z") == "2026-11-24T12:32:51.410000+00:00"
    assert chain.created_at("2026-11-24T12:32:51.123457Z") == "2026-11-24T12:32:51.123457+00:00"
    assert chain.created_at("2026-11-24T12:32:51.123457000Z") == "2026-11-24T12:32:51.123457+00:00"
    assert chain.created_at("2026-11-24T20:32:51+08:00") == "2026-11-24T12:32:51+00:00"
    with pytest.raises(ValueError):
        chain.created_at("yesterday")


def test_an_intact_chain_over_several_pages(monkeypatch, capsys):
    fake = serve_chain(monkeypatch, crafted_chain(450))
    assert main(["audit", "verify"]) == ExitCode.OK
    assert capsys.readouterr().out == "audit log intact: 450 entries\n"
    # The whole chain, the largest pages: no receipt filter.
    assert len(fake.requests) == 3
    assert all("pageSize=200" in r.full_url and "receipt" not in r.full_url for r in fake.requests)


def test_gaps_in_the_sequence_are_not_a_break(monkeypatch, capsys):
    serve_chain(monkeypatch, crafted_chain(30, skip=frozenset({7, 8, 20})))
    assert main(["audit", "verify"]) == ExitCode.OK
    assert "intact: 30 entries" in capsys.readouterr().out


def test_a_changed_entry_is_reported_by_its_sequence_number(monkeypatch, capsys):
    entries = crafted_chain(450)
    assert entries[299]["sequence"] == "300"
    entries[299]["actor"] = "nobody"
    fake = serve_chain(monkeypatch, entries)
    assert main(["audit", "verify"]) == ExitCode.FAILED
    captured = capsys.readouterr()
    assert captured.out == "audit log BROKEN at sequence 300\n"
    assert "changed, inserted or removed" in captured.err
    # It stopped at the break: the third page was never fetched.
    assert len(fake.requests) == 2


def test_a_changed_time_breaks_the_chain_too(monkeypatch, capsys):
    entries = crafted_chain(10)
    entries[4]["createTime"] = entries[4]["createTime"].replace("12:32", "12:33")
    serve_chain(monkeypatch, entries)
    assert main(["audit", "verify"]) == ExitCode.FAILED
    assert "sequence 5" in capsys.readouterr().out


def test_a_removed_entry_breaks_the_chain_at_the_next(monkeypatch, capsys):
    entries = crafted_chain(250)
    del entries[119]  # sequence 120
    serve_chain(monkeypatch, entries)
    assert main(["audit", "verify", "--json"]) == ExitCode.FAILED
    verdict = json.loads(capsys.readouterr().out)
    assert verdict == {"intact": False, "entries": 120, "lastSequence": 121, "firstBreak": 121}


def test_an_empty_log_is_intact(monkeypatch, capsys):
    serve_chain(monkeypatch, [])
    assert main(["audit", "verify"]) == ExitCode.OK
    assert capsys.readouterr().out == "audit log intact: 0 entries\n"


def test_progress_is_reported_per_page():
    seen: list[tuple[int, int]] = []
    entries = crafted_chain(5)
    verdict = chain.verify([entries[:2], entries[2:]], lambda n, last: seen.append((n, last)))
    assert verdict.intact and verdict.checked == 5
    assert seen == [(2, 2), (5, 5)]
