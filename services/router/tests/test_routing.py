import grpc
import pytest

from gateway.rendering import Renderer
from onedoor.case.v1 import case_pb2 as pb
from onedoor.department.v1 import department_service_pb2 as dpb
from onedoor.events.v1 import events_pb2
from services.common import events, texts
from services.common.timeline_writes import routed
from services.router.routing import (
    UnroutableEvent,
    decided,
    departments_of,
    is_transient,
    overdue,
    parse,
    recorded,
    reported,
)


def test_routed_entry_key_is_the_same_for_a_redelivered_event():
    first = routed("320585-AAAAA-BBBBB", "assistance", dpb.Assessment(reason="note"))
    again = routed("320585-AAAAA-BBBBB", "assistance", dpb.Assessment(reason="other note"))
    assert first.entry_key == again.entry_key
    assert first.entry.kind == pb.TIMELINE_ENTRY_KIND_ROUTED
    assert routed("320585-AAAAA-BBBBB", "elderly", dpb.Assessment()).entry_key != first.entry_key


def test_a_routed_entry_says_the_verdict_with_the_findings_as_codes():
    found = texts.text(texts.Code.TEXT_CODE_ASSETS_WITHIN_LIMIT)
    write = routed("r", "assistance", dpb.Assessment(eligible=True, findings=[found]))
    assert write.entry.note == ""
    assert write.entry.message.code == texts.Code.TEXT_CODE_ASSESSED_ELIGIBLE
    assert Renderer("zh-CN").text(write.entry.message) == "初审符合条件：家庭金融资产未超过限额"


def test_a_death_s_recording_is_the_recorder_s_one_routed_entry_without_a_verdict():
    found = texts.text(texts.Code.TEXT_CODE_ASSETS_WITHIN_LIMIT)
    write = recorded("r", "registry", dpb.Assessment(eligible=True, findings=[found]))
    assert write.entry_key == routed("r", "registry", dpb.Assessment()).entry_key
    assert write.entry.kind == pb.TIMELINE_ENTRY_KIND_ROUTED
    assert write.entry.message == found


def test_a_department_that_still_answers_prose_has_its_prose_kept():
    write = routed("r", "assistance", dpb.Assessment(eligible=False, reason="old words"))
    assert write.entry.note == "assessment: not eligible: old words"
    assert not write.entry.HasField("message")


@pytest.mark.parametrize(
    ("outcome", "kind"),
    [
        (events_pb2.OUTCOME_APPROVED, pb.TIMELINE_ENTRY_KIND_APPROVED),
        (events_pb2.OUTCOME_REJECTED, pb.TIMELINE_ENTRY_KIND_REJECTED),
        (events_pb2.OUTCOME_MATERIALS_REQUESTED, pb.TIMELINE_ENTRY_KIND_MATERIALS_REQUESTED),
        (events_pb2.OUTCOME_CONFIRMED, pb.TIMELINE_ENTRY_KIND_CONFIRMED),
        (events_pb2.OUTCOME_WITHDRAWN, pb.TIMELINE_ENTRY_KIND_WITHDRAWN),
        (events_pb2.OUTCOME_LAPSED, pb.TIMELINE_ENTRY_KIND_LAPSED),
    ],
)
def test_outcomes_map_to_timeline_entries_keyed_by_event(outcome, kind):
    sent = events.stamped(
        events_pb2.CaseDecided(receipt="r", department="assistance", outcome=outcome, reason="x")
    )
    # As it travels: the JSON body nameko hands the handler.
    write = decided(parse(events.to_body(sent), events_pb2.CaseDecided))
    assert write.entry.kind == kind
    assert write.entry_key == f"event:{sent.event_id}"
    assert write.entry.note == "x"


def test_a_decision_the_department_takes_itself_is_said_as_its_text_not_its_prose():
    sent = events.stamped(
        events_pb2.CaseDecided(
            receipt="r",
            department="registry",
            outcome=events_pb2.OUTCOME_WITHDRAWN,
            reason="withdrawn by a party",
            message=texts.text(texts.Code.TEXT_CODE_DIVORCE_WITHDRAWN),
        )
    )
    write = decided(parse(events.to_body(sent), events_pb2.CaseDecided))
    assert write.entry.note == ""
    assert Renderer("zh-CN").text(write.entry.message) == "一方已撤回离婚申请"


def test_an_event_written_before_the_schema_version_is_still_routed():
    body = {
        "event_id": "e-1",
        "receipt": "r",
        "department": "registry",
        "outcome": "lapsed",
        "reason": "x",
    }
    write = decided(parse(body, events_pb2.CaseDecided))
    assert write.entry.kind == pb.TIMELINE_ENTRY_KIND_LAPSED
    assert write.entry_key == "event:e-1"


def test_case_accepted_travels_as_proto_json_with_its_field_names():
    sent = events.stamped(
        events_pb2.CaseAccepted(receipt="r", matter_code="assistance.dibao", departments=["a"])
    )
    body = events.to_body(sent)
    assert body["receipt"] == "r" and body["departments"] == ["a"]
    assert body["schema_version"] == events.SCHEMA_VERSION and body["event_id"]
    assert parse(body, events_pb2.CaseAccepted) == sent


def test_malformed_events_are_unroutable_not_retried():
    def case_decided(**fields):
        return parse(fields, events_pb2.CaseDecided)

    with pytest.raises(UnroutableEvent):
        decided(case_decided(event_id="e-1", receipt="r", department="assistance", outcome="maybe"))
    with pytest.raises(UnroutableEvent):
        decided(case_decided(receipt="r", department="assistance", outcome="OUTCOME_APPROVED"))
    with pytest.raises(UnroutableEvent):
        parse({"receipt": ["not", "a", "string"]}, events_pb2.CaseDecided)
    with pytest.raises(UnroutableEvent):
        departments_of(events_pb2.CaseAccepted(departments=["assistance", "space"]), {"assistance"})
    with pytest.raises(UnroutableEvent):
        departments_of(events_pb2.CaseAccepted(), {"assistance"})
    accepted = events_pb2.CaseAccepted(departments=["assistance"])
    assert departments_of(accepted, {"assistance"}) == ["assistance"]


def test_overdue_is_once_per_case_and_names_the_departments():
    first = overdue("320585-AAAAA-BBBBB", ["registry", "assistance"], "2026-01-01")
    again = overdue("320585-AAAAA-BBBBB", ["registry", "assistance"], "2026-01-02")
    assert first.entry_key == again.entry_key
    assert "supervisors of registry, social assistance" in Renderer("en").text(first.entry.message)
    assert "已报社会事务、社会救助主管人员" in Renderer("zh-CN").text(first.entry.message)


def test_reports_are_keyed_per_department():
    said = dpb.SettleDeathResponse(outcome_message=[texts.text(texts.Code.TEXT_CODE_NOTHING_TO_DO)])
    assert reported("r", "elderly", said).entry_key != reported("r", "assistance", said).entry_key
    assert reported("r", "elderly", said).entry.kind == pb.TIMELINE_ENTRY_KIND_REPORTED
    assert reported("r", "elderly", said).entry.message.code == texts.Code.TEXT_CODE_NOTHING_TO_DO


def test_calls_cut_off_by_a_stopping_router_are_retried_not_dropped():
    assert is_transient(grpc.StatusCode.CANCELLED)
    assert is_transient(grpc.StatusCode.UNAVAILABLE)
    assert not is_transient(grpc.StatusCode.INVALID_ARGUMENT)
    assert not is_transient(grpc.StatusCode.NOT_FOUND)


def test_the_router_leaves_an_acceptance_s_contacts_unparsed():
    sent = events_pb2.CaseAccepted(receipt="320585-288FB-8RAEW", matter_code="assistance.dibao")
    sent.contacts.applicant.phone = "sealed:v1:applicant"
    parsed = parse(events.to_body(sent), events_pb2.CaseAccepted)
    assert parsed.receipt == "320585-288FB-8RAEW"
    assert not parsed.HasField("contacts")
