"""The case file's view of a warning: the gateway's own message, its enums agreeing with
ingest's by name and number, and nothing of the person or the records that caused it."""

from __future__ import annotations

from gateway.warnings import as_household_warning
from onedoor.case.v1 import case_pb2
from onedoor.gateway.v1 import gateway_service_pb2 as gpb
from onedoor.ingest.v1 import warnings_service_pb2 as wpb


def test_the_enums_agree_with_ingests() -> None:
    for ours, theirs in ((gpb.WarningKind, wpb.WarningKind), (gpb.WarningState, wpb.WarningState)):
        assert dict(ours.items()) == dict(theirs.items())


def test_a_warning_shows_what_the_case_file_needs_and_no_more() -> None:
    warning = wpb.Warning(
        warning_id="w-1",
        matter_code="assistance.temporary",
        kind=wpb.WARNING_KIND_ILLNESS_POVERTY_RISK,
        state=wpb.WARNING_STATE_CASE_OPENED,
        reason=case_pb2.Text(code=case_pb2.TEXT_CODE_ILLNESS_POVERTY_RISK),
        household_file="HF-1",
        person_key="ab" * 32,
        caused_by=[wpb.RecordRef(agency="medical_insurance", record_id="MI-1")],
        receipt="320585-ABCDE-FGHJK",
    )
    shown = as_household_warning(warning)
    assert shown.kind == gpb.WARNING_KIND_ILLNESS_POVERTY_RISK
    assert shown.state == gpb.WARNING_STATE_CASE_OPENED
    assert shown.receipt == "320585-ABCDE-FGHJK"
    assert shown.reason.code == case_pb2.TEXT_CODE_ILLNESS_POVERTY_RISK
    assert "person_key" not in gpb.HouseholdWarning.DESCRIPTOR.fields_by_name
    assert "caused_by" not in gpb.HouseholdWarning.DESCRIPTOR.fields_by_name
