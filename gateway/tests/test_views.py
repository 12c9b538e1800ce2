"""The gateway's own messages carry everything the internal ones it is made from do."""

from __future__ import annotations

from google.protobuf import json_format

from gateway import views
from onedoor.department.v1 import department_service_pb2 as dpb
from onedoor.gateway.v1 import gateway_service_pb2 as pb
from onedoor.intake.v1 import intake_service_pb2
from onedoor.registry.v1 import registry_service_pb2 as rpb


def _json(message):
    return json_format.MessageToDict(message, always_print_fields_with_no_presence=True)


def test_a_department_case_shows_as_the_department_wrote_it():
    case = dpb.DepartmentCase(
        receipt="320585-7K3F9-QX2MA",
        department="assistance",
        matter_code="assistance.dibao",
        matter_version=2,
        state=dpb.CASE_STATE_AWAITING_MATERIALS,
        assessment=dpb.Assessment(
            eligible=True,
            reason="income below the line",
            facts=[dpb.Fact(name="income", value="800")],
            economic_check=dpb.EconomicCheck(
                performed=True,
                assets_fen=1,
                limit_fen=2,
                within_limit=True,
                source="bank",
                note="n",
            ),
            amount_fen=3,
        ),
        decision_reason="r",
        hukou_division="320585",
        accepting_division="320585",
        household_file="h",
    )
    case.create_time.FromSeconds(1)
    case.update_time.FromSeconds(2)
    case.decision_deadline.FromSeconds(3)
    case.assessment.economic_check.check_time.FromSeconds(4)
    shown = _json(views.as_department_case(case))
    # The gateway's facts also carry their label and text in the caller's language, filled
    # when the answer is rendered.
    for found in shown["assessment"]["facts"]:
        assert (found.pop("label"), found.pop("text")) == ("", "")
    assert shown == _json(case)
    # Unset parts stay unset.
    bare = dpb.DepartmentCase(receipt="320585-7K3F9-QX2MA")
    assert _json(views.as_department_case(bare)) == _json(bare)


def test_every_department_case_field_has_a_public_counterpart():
    internal = {f.name for f in dpb.DepartmentCase.DESCRIPTOR.fields}
    assert internal == {f.name for f in pb.DepartmentCase.DESCRIPTOR.fields}
    assert set(dpb.CaseState.keys()) == set(pb.CaseState.keys())
    assert set(dpb.Decision.keys()) == set(pb.Decision.keys())
    assert set(rpb.DivorceState.keys()) == set(pb.DivorceState.keys())


def test_an_audit_entry_shows_as_intake_stored_it():
    entry = intake_service_pb2.AuditEntry(
        sequence=7,
        actor="officer:o-1",
        action="case.decided",
        receipt="320585-7K3F9-QX2MA",
        fields=["applicant.name"],
        trace_id="t",
        detail="d",
        hash="h",
    )
    entry.create_time.FromSeconds(5)
    assert _json(views.as_audit_entry(entry)) == _json(entry)


def test_divorce_states_keep_their_names():
    for name, number in rpb.DivorceState.items():
        assert pb.DivorceState.Name(views.as_divorce_state(number)) == name
