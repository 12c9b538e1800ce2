"""A decision's outcome label: the events.v1 Outcome's name in lower case."""

from __future__ import annotations

from onedoor.events.v1 import events_pb2
from services.common.department.decisions import OUTCOME
from services.common.department.store import outcome_label


def test_each_decision_is_counted_under_its_events_outcome():
    assert {outcome_label(o) for o in OUTCOME.values()} == {
        "approved",
        "rejected",
        "materials_requested",
    }
    assert outcome_label(events_pb2.OUTCOME_LAPSED) == "lapsed"
