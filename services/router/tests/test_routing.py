import pytest

from onedoor.intake.v1 import case_pb2 as pb
from services.router.routing import UnroutableEvent, decided, departments_of, routed


def test_routed_entry_key_is_the_same_for_a_redelivered_event():
    first = routed("320585-AAAAA-BBBBB", "assistance", "note")
    again = routed("320585-AAAAA-BBBBB", "assistance", "other note")
    assert first.entry_key == again.entry_key
    assert first.entry.kind == pb.TIMELINE_ENTRY_KIND_ROUTED
    assert routed("320585-AAAAA-BBBBB", "elderly", "").entry_key != first.entry_key


@pytest.mark.parametrize(
    ("decision", "kind"),
    [
        ("DECISION_APPROVE", pb.TIMELINE_ENTRY_KIND_APPROVED),
        ("DECISION_REJECT", pb.TIMELINE_ENTRY_KIND_REJECTED),
        ("DECISION_REQUEST_MATERIALS", pb.TIMELINE_ENTRY_KIND_MATERIALS_REQUESTED),
    ],
)
def test_decisions_map_to_timeline_entries_keyed_by_event(decision, kind):
    payload = {
        "event_id": "e-1",
        "receipt": "r",
        "department": "assistance",
        "decision": decision,
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
                "decision": "DECISION_MAYBE",
            }
        )
    with pytest.raises(UnroutableEvent):
        departments_of({"departments": ["assistance", "space"]}, {"assistance"})
    with pytest.raises(UnroutableEvent):
        departments_of({"departments": []}, {"assistance"})
    assert departments_of({"departments": ["assistance"]}, {"assistance"}) == ["assistance"]
