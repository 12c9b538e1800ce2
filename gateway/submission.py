"""Submitting an application at the window, from the checked request to the ledger's receipt.

In order: the clerk may submit here; the request is checked field by field (validation); an
applicant whose hukou another bureau serves is accepted here and held for forwarding;
otherwise the registry and every deciding department check it against their records; intake
stores it (idempotent by request id). A forwarded case a peer sends in enters at
``accept_forwarded`` and goes the same way from the checks on.
"""

from __future__ import annotations

import asyncio
import logging

import grpc

from gateway import permissions, views
from gateway.federation import sent_fields
from gateway.validation import check_application, serves
from gateway.window import Window
from onedoor.case.v1 import case_pb2
from onedoor.department.v1 import department_service_pb2 as dpb
from onedoor.gateway.v1 import gateway_service_pb2 as pb
from onedoor.intake.v1 import intake_service_pb2
from onedoor.registry.v1 import registry_service_pb2 as rpb
from services.common import catalog, divisions, identity, metric_catalog, telemetry
from services.common.auth import Principal
from services.common.errors import ApiError, FieldViolation, request_id_reused
from services.common.keyed_hash import request_fingerprint
from services.common.receipt import receipt_for

log = logging.getLogger(__name__)

_ACCEPTED = metric_catalog.counter(metric_catalog.APPLICATIONS_ACCEPTED)
_REFUSED = metric_catalog.counter(metric_catalog.APPLICATIONS_REFUSED)

# Every reason the window's acceptance refuses an application with (ErrorInfo.reason), from
# the window's checks, the departments' and the registry's records, and the ledger. The
# refused counter's reason label is one of these or a status code's name, never free text,
# whatever a backend answers.
REFUSAL_REASONS = frozenset(
    {
        "INVALID_APPLICATION",
        "INVALID_REQUEST",
        "OUTSIDE_JURISDICTION",
        "MISSING_MATERIALS",
        "NO_PEER_FOR_DIVISION",
        "PERSON_DECEASED",
        "REFUSED_BY_RECORDS",
        "DUPLICATE_APPLICATION",
        "REQUEST_ID_REUSED",
    }
)
# Errors that decide nothing about the application: the window could not ask (a service
# behind it down, the call cancelled) or failed. They show in the RPC metrics, not as refusals.
_UNDECIDED = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.CANCELLED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.PERMISSION_DENIED,
    }
)
# The matter label of an application whose matter code is not the catalog's: the code as
# typed is the clerk's input and must not become a label.
UNKNOWN_MATTER = "unknown"


def matter_label(matter_code: str) -> str:
    return matter_code if catalog.load().latest(matter_code) is not None else UNKNOWN_MATTER


def refusal_reason(error: ApiError) -> str | None:
    """The refused counter's reason for an error the window answered a submission with, or
    None when the error is no refusal (see ``_UNDECIDED``)."""
    if error.code in _UNDECIDED:
        return None
    return error.reason if error.reason in REFUSAL_REASONS else error.code.name


async def submit(
    window: Window, caller: Principal, request: pb.SubmitApplicationRequest
) -> pb.SubmitApplicationResponse:
    permissions.clerk_at(caller, window.jurisdiction)
    matter = matter_label(request.matter_code)
    try:
        accepted, route = await _submit(window, request, _staff(caller))
    except ApiError as error:
        reason = refusal_reason(error)
        if reason is not None:
            _REFUSED.add(1, {"matter": matter, "reason": reason})
            # The reason and the fields' names only: the values may be personal data.
            log.info(
                "application refused: matter %s, reason %s, fields %s",
                matter,
                reason,
                ", ".join(v.field for v in error.violations) or "-",
            )
        raise
    if accepted.created:
        _ACCEPTED.add(1, {"matter": matter})
        log.info(
            "application accepted: matter %s, receipt %s, route %s", matter, accepted.receipt, route
        )
    else:
        log.info(
            "application resent: matter %s, answered with receipt %s", matter, accepted.receipt
        )
    return accepted


def _staff(caller: Principal) -> case_pb2.StaffMember:
    """The clerk accepting the application, as the case records (and the receipt prints) them."""
    return case_pb2.StaffMember(subject=caller.subject, display_name=caller.display_name)


async def _submit(
    window: Window, request: pb.SubmitApplicationRequest, clerk: case_pb2.StaffMember
) -> tuple[pb.SubmitApplicationResponse, str]:
    """The window's decision on an application, and where it goes (for the log)."""
    matter = check_application(request, catalog.load(), window.jurisdiction, clock=window.clock)
    hukou = request.applicant.hukou_division
    if serves(window.jurisdiction, hukou):
        accepted = await _accept(
            window,
            request,
            request.request_id,
            matter.departments,
            checked_by=matter.checked_by,
            accepted_by=clerk,
        )
        return accepted, "local"
    # check_application let it through: the matter may be accepted here and decided at home.
    peer = window.peers.route(hukou) if window.peers else None
    if peer is None:
        raise _no_peer(hukou)
    forwarding = case_pb2.Forwarding(home_division=hukou, peer=peer.name)
    accepted = await _accept(
        window, request, request.request_id, (), forwarding=forwarding, accepted_by=clerk
    )
    if window.federation is not None:
        window.federation.wake()
    return accepted, f"forwarded to {peer.name}"


async def accept_forwarded(
    window: Window,
    request: pb.SubmitApplicationRequest,
    origin: case_pb2.Origin,
    receipt_sent: str,
) -> pb.SubmitApplicationResponse:
    """An application another jurisdiction accepted (``origin``), to be decided here: checked
    as at this window, idempotent by the accepting side's receipt, and its receipt audited.
    ``receipt_sent`` is the receipt the peer's call carried in its metadata."""
    hukou = request.applicant.hukou_division
    if not serves(window.jurisdiction, hukou):
        raise ApiError(
            grpc.StatusCode.FAILED_PRECONDITION,
            f"this bureau ({window.jurisdiction}) does not serve division {hukou}",
            reason="NOT_SERVED_HERE",
        )
    matter = check_application(request, catalog.load(), window.jurisdiction, clock=window.clock)
    accepted = await _accept(
        window,
        request,
        origin.accepting_receipt,
        matter.departments,
        checked_by=matter.checked_by,
        origin=origin,
    )
    if accepted.created:
        # Accepted at the peer's window (and counted there): here it is received.
        log.info(
            "forwarded application received: matter %s, receipt %s, from %s (receipt %s)",
            matter.code,
            accepted.receipt,
            origin.peer,
            origin.accepting_receipt,
        )
    with telemetry.bound_receipt(accepted.receipt):
        await window.audit.record(
            f"peer:{origin.peer}",
            "forward.received",
            [accepted.receipt],
            sent_fields(request),
            f"from {origin.peer} (receipt {receipt_sent}, "
            f"clerk jurisdiction {origin.clerk_jurisdiction})",
        )
    return accepted


async def _accept(
    window: Window,
    request: pb.SubmitApplicationRequest,
    request_id: str,
    departments: tuple[str, ...] | list[str],
    forwarding: case_pb2.Forwarding | None = None,
    origin: case_pb2.Origin | None = None,
    accepted_by: case_pb2.StaffMember | None = None,
    checked_by: tuple[str, ...] = (),
) -> pb.SubmitApplicationResponse:
    receipt = receipt_for(window.jurisdiction, request_id)
    with telemetry.bound_receipt(receipt):
        case = case_pb2.Case(
            receipt=receipt,
            matter_code=request.matter_code,
            applicant=request.applicant,
            household_members=request.household_members,
            materials=request.materials,
            accepting_division=window.jurisdiction,
            details=request.details,
            departments=departments,
            forwarding=forwarding,
            origin=origin,
            accepted_by=accepted_by,
        )
        normalize_identity_numbers(case)
        # The home jurisdiction checks its own records when it receives the case.
        if forwarding is None:
            try:
                await _check_records(window, case, checked_by)
            except ApiError as refusal:
                retried = await _retried(window, case, refusal)
                if retried is None:
                    raise
                return views.as_submitted(retried, False, telemetry.current_trace_id())
        created = await window.backends.call(
            window.backends.intake.CreateCase,
            intake_service_pb2.CreateCaseRequest(request_id=request_id, case=case),
        )
        return views.as_submitted(created.case, created.created, telemetry.current_trace_id())


async def _retried(window: Window, case: case_pb2.Case, refusal: ApiError) -> case_pb2.Case | None:
    """The case a refused submission already created, if it is a retry.

    A retried submission is answered with its receipt even where the records would now refuse
    it (its own pending name counts as taken). Only refusals look for one: a new application,
    or a retry the records let through (CreateCase is idempotent by request id), costs no
    look-up."""
    if refusal.code != grpc.StatusCode.FAILED_PRECONDITION:
        return None
    try:
        existing = await window.case(case.receipt, intake_service_pb2.CASE_VIEW_BASIC)
    except ApiError as error:
        if error.code == grpc.StatusCode.NOT_FOUND:
            return None
        raise
    if existing.request_fingerprint and existing.request_fingerprint != request_fingerprint(case):
        raise request_id_reused() from None
    return existing


async def _check_records(window: Window, case: case_pb2.Case, checked_by: tuple[str, ...]) -> None:
    """Nobody the application names may be recorded as deceased, and each department the
    catalog says checks the matter (``checked_by``) checks the application against its own
    records (all at once; a department with nothing to check it against is not asked)."""
    people = _people(case)
    backends = window.backends
    deceased, *checks = await asyncio.gather(
        backends.call(
            backends.registry.FindDeceased,
            rpb.FindDeceasedRequest(id_numbers=[n for _, n in people]),
        ),
        *(
            backends.call(
                backends.department(d).CheckApplication, dpb.CheckApplicationRequest(case=case)
            )
            for d in checked_by
        ),
    )
    dead = [
        FieldViolation(people[i][0], "is recorded as deceased in the registry")
        for i in deceased.deceased_indexes
    ]
    if dead:
        raise _refused_by_records(dead, "PERSON_DECEASED")
    problems = [FieldViolation(p.field, p.description) for check in checks for p in check.problems]
    if problems:
        raise _refused_by_records(problems, "REFUSED_BY_RECORDS")


def _people(case: case_pb2.Case) -> list[tuple[str, str]]:
    """(field path, identity number) of everyone the application names who must be alive."""
    people = [("applicant.id_number", case.applicant.id_number)]
    people += [
        (f"household_members[{i}].id_number", m.id_number)
        for i, m in enumerate(case.household_members)
    ]
    if case.details.other_party.id_number:
        people.append(("details.other_party.id_number", case.details.other_party.id_number))
    return people


def normalize_identity_numbers(case: case_pb2.Case) -> None:
    """Stored as the registers write them (no spaces, upper-case X), so the keyed hashes that
    find a person match whichever way the clerk typed the number."""
    case.applicant.id_number = identity.normalize(case.applicant.id_number)
    for member in case.household_members:
        member.id_number = identity.normalize(member.id_number)
    details = case.details
    # Guarded: assigning into an unset sub-message would make it present.
    if details.other_party.id_number:
        details.other_party.id_number = identity.normalize(details.other_party.id_number)
    if details.death.deceased_id_number:
        details.death.deceased_id_number = identity.normalize(details.death.deceased_id_number)
    consent = details.economic_check_consent
    if consent.consenting_id_number:
        consent.consenting_id_number = identity.normalize(consent.consenting_id_number)
    if consent.member_id_numbers:
        consent.member_id_numbers[:] = [identity.normalize(n) for n in consent.member_id_numbers]


def _refused_by_records(violations: list[FieldViolation], reason: str) -> ApiError:
    return ApiError(
        grpc.StatusCode.FAILED_PRECONDITION,
        "the application conflicts with the bureau's records: "
        + ", ".join(v.field for v in violations),
        reason=reason,
        violations=tuple(violations),
        precondition_type="RECORDS",
    )


def _no_peer(hukou: str) -> ApiError:
    home = f"{divisions.full_name(hukou)} ({hukou})"
    return ApiError(
        grpc.StatusCode.FAILED_PRECONDITION,
        f"no peer bureau serves {home}: the application cannot be forwarded there",
        reason="NO_PEER_FOR_DIVISION",
        violations=(
            FieldViolation("applicant.hukou_division", f"{home} is served by no known peer"),
        ),
        precondition_type="JURISDICTION",
        metadata={"responsible_division": hukou},
    )
