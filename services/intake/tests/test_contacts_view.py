"""The contacts view (GetCase CASE_VIEW_CONTACTS, and what case_accepted carries): the phones
and notice preferences as stored, the origin, and nothing else a person gave."""

from __future__ import annotations

from onedoor.case.v1 import case_pb2
from services.intake.store import contacts_view


def test_the_contacts_view_keeps_phones_sealed_and_leaves_the_rest_of_the_person_out() -> None:
    sealed = case_pb2.Case(
        receipt="320585-288FB-8RAEW",
        matter_code="registry.divorce",
        departments=["registry"],
        status=case_pb2.CASE_STATUS_ROUTED,
    )
    sealed.applicant.name = "sealed:v1:name"
    sealed.applicant.id_number = "sealed:v1:id"
    sealed.applicant.phone = "sealed:v1:applicant"
    sealed.applicant.notices.language = "en"
    sealed.details.other_party.id_number = "sealed:v1:party-id"
    sealed.details.other_party.phone = "sealed:v1:party"
    sealed.household_members.add(id_number="sealed:v1:member")
    sealed.origin.peer = "kunshan"
    sealed.origin.accepting_receipt = "320583-AAAAA-AAAAA"

    view = contacts_view(sealed)

    assert view.name == "cases/320585-288FB-8RAEW"
    assert (view.matter_code, list(view.departments), view.status) == (
        "registry.divorce",
        ["registry"],
        case_pb2.CASE_STATUS_ROUTED,
    )
    assert view.applicant.phone == "sealed:v1:applicant"
    assert view.applicant.notices.language == "en"
    assert view.details.other_party.phone == "sealed:v1:party"
    assert (view.origin.peer, view.origin.accepting_receipt) == ("kunshan", "320583-AAAAA-AAAAA")
    assert not view.applicant.name and not view.applicant.id_number
    assert not view.details.other_party.id_number
    assert not view.household_members


def test_a_case_without_origin_or_other_party_has_none_in_its_view() -> None:
    sealed = case_pb2.Case(receipt="320585-288FB-8RAEW", matter_code="assistance.dibao")
    sealed.applicant.phone = "sealed:v1:applicant"
    view = contacts_view(sealed)
    assert not view.HasField("origin")
    assert not view.details.HasField("other_party")
