import grpc
import pytest

from onedoor.case.v1 import case_pb2 as pb
from services.router.routing import (
    UnroutableEvent,
    decided,
    departments_of,
    is_transient,
    overdue,
    reported,
    routed,
)


def test_routed_entry_key_is_the_same_for_a_redelivered_event():
    first = routed("320585-AAAAA-BBBBB", "assistance", "note")
    again = routed("320585-AAAAA-BBBBB", "assistance", "other note")
    assert first.entry_key == again.entry_key
    assert first.entry.kind == pb.TIMELINE_ENTRY_KIND_ROUTED
    assert routed("320585-AAAAA-BBBBB", "elderly", "").entry_key != first.entry_key


@pytest.mark.parametrize(
    ("outcome", "kind"),
    [
        ("approved", pb.TIMELINE_ENTRY_KIND_APPROVED),
        ("rejected", pb.TIMELINE_ENTRY_KIND_REJECTED),
        ("materials_requested", pb.TIMELINE_ENTRY_KIND_MATERIALS_REQUESTED),
        ("confirmed", pb.TIMELINE_ENTRY_KIND_CONFIRMED),
        ("withdrawn", pb.TIMELINE_ENTRY_KIND_WITHDRAWN),
        ("lapsed", pb.TIMELINE_ENTRY_KIND_LAPSED),
    ],
)
def test_outcomes_map_to_timeline_entries_keyed_by_event(outcome, kind):
    payload = {
        "event_id": "e-1",
        "receipt": "r",
        "department": "assistance",
        "outcome": outcome,
        "reason": "x",
    }
    write = decided(payload)
    assert write.entry.kind == kind
    assert write.entry_key == "event:e-1"
    assert write.entry.note == "x"


def test_malformed_events_are_unroutable_not_retried():
    with pytest.raises(UnroutableEvent):
        decided(
            {
                "event_id": "e-1",
                "receipt": "r",
                "department": "assistance",
                "outcome": "maybe",
            }
        )
    with pytest.raises(UnroutableEvent):
        departments_of({"departments": ["assistance", "space"]}, {"assistance"})
    with pytest.raises(UnroutableEvent):
        departments_of({"departments": []}, {"assistance"})
    assert departments_of({"departments": ["assistance"]}, {"assistance"}) == ["assistance"]


def test_overdue_is_once_per_case_and_names_the_departments():
    first = overdue("320585-AAAAA-BBBBB", ["registry", "assistance"], "2026-01-01")
    again = overdue("320585-AAAAA-BBBBB", ["registry", "assistance"], "2026-01-02")
    assert first.entry_key == again.entry_key
    assert "supervisors of registry, assistance" in first.entry.note


def test_reports_are_keyed_per_department():
    assert reported("r", "elderly", "x").entry_key != reported("r", "assistance", "x").entry_key
    assert reported("r", "elderly", "nothing to do").entry.kind == pb.TIMELINE_ENTRY_KIND_REPORTED


def test_calls_cut_off_by_a_stopping_router_are_retried_not_dropped():
    assert is_transient(grpc.StatusCode.CANCELLED)
    assert is_transient(grpc.StatusCode.UNAVAILABLE)
    assert not is_transient(grpc.StatusCode.INVALID_ARGUMENT)
    assert not is_transient(grpc.StatusCode.NOT_FOUND)
