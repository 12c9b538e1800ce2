"""A proactive case as the ledger takes it, built from a warning and the case whose applicant
and household it names: the same request whether an officer opens it from the queue (the
gateway) or the bureau opens it at once (ingest, for 免申即享), so the two converge on one
case through the request id (AIP-155) and never open it twice."""

from __future__ import annotations

import grpc

from onedoor.case.v1 import case_pb2
from onedoor.ingest.v1 import warnings_service_pb2 as wpb
from onedoor.intake.v1 import intake_service_pb2
from services.common import catalog
from services.common.errors import ApiError
from services.common.keyed_hash import person_key

# Matters a person claims for themself: the case opened names the person the warning is about
# as its applicant, though the case it came from may name them only as a household member
# (an elder in a dibao household turning 80).
PERSONAL_MATTERS = frozenset({"elderly.age_allowance", "assistance.disability_subsidy"})


def request_id(warning_id: str) -> str:
    return f"proactive-{warning_id}"


def creation(
    warning: wpb.Warning, source: case_pb2.Case, jurisdiction: str
) -> intake_service_pb2.CreateCaseRequest:
    """The CreateCase request of the warning's matter, accepted in ``jurisdiction``, naming
    ``source``'s applicant and household members."""
    matter = catalog.load().latest(warning.matter_code)
    if matter is None:
        raise ApiError(
            grpc.StatusCode.FAILED_PRECONDITION,
            f"matter {warning.matter_code} is not in the catalog",
            reason="UNKNOWN_MATTER",
        )
    applicant, members = _named(warning, source)
    return intake_service_pb2.CreateCaseRequest(
        request_id=request_id(warning.warning_id),
        case=case_pb2.Case(
            matter_code=matter.code,
            applicant=applicant,
            household_members=members,
            accepting_division=jurisdiction,
            departments=matter.departments,
        ),
        proactive=intake_service_pb2.ProactiveOrigin(
            warning_id=warning.warning_id,
            department=warning.department,
            batch_trace_id=warning.trace_id,
            reason=warning.reason,
        ),
    )


def _named(
    warning: wpb.Warning, source: case_pb2.Case
) -> tuple[case_pb2.Applicant, list[case_pb2.HouseholdMember]]:
    """Whom the case names: the source's applicant and household, or, for a personal matter
    about one of its members, that member."""
    about = warning.person_key
    if (
        warning.matter_code not in PERSONAL_MATTERS
        or not about
        or person_key(source.applicant.id_number) == about
    ):
        return source.applicant, list(source.household_members)
    for member in source.household_members:
        if person_key(member.id_number) == about:
            # Reached through the household's contact line and its notice preference.
            applicant = case_pb2.Applicant(
                name=member.name,
                id_number=member.id_number,
                phone=source.applicant.phone,
                hukou_division=source.applicant.hukou_division,
                notices=source.applicant.notices,
            )
            return applicant, [
                case_pb2.HouseholdMember(
                    name=member.name,
                    id_number=member.id_number,
                    relation="本人",
                    monthly_income_fen=member.monthly_income_fen,
                )
            ]
    raise ApiError(
        grpc.StatusCode.FAILED_PRECONDITION,
        "the case the warning names does not name the person it is about: open the case at "
        "the window",
        reason="PERSON_NOT_IN_SOURCE",
    )
