"""A window clerk finds a person's applications by the identity number presented at the
counter. The number arrives in a request body, is checked and turned into its keyed hash
here, and goes no further: intake matches the hash against the people each case names. The
search is audited, found or not, before anything is answered."""

from __future__ import annotations

from gateway import permissions, views
from gateway.audit_trail import APPLICATION_VIEW_FIELDS, actor
from gateway.window import Window
from onedoor.gateway.v1 import gateway_service_pb2 as pb
from onedoor.intake.v1 import intake_service_pb2
from services.common import identity, pagination
from services.common.auth import Principal
from services.common.errors import FieldViolation, invalid_argument
from services.common.keyed_hash import person_key

ACTION = "person.searched"
# A search reads whom the number names: the applicant's fields of every case found.
SEARCH_FIELDS = ("search.id_number", *APPLICATION_VIEW_FIELDS)


def check_search(request: pb.SearchApplicationsRequest, window: Window) -> None:
    """The identity number as a clerk typed it; the error never quotes it."""
    problems = []
    if not request.id_number:
        problems.append(FieldViolation("id_number", "is required"))
    else:
        try:
            identity.validate(request.id_number, today=window.clock.today())
        except identity.IdentityError as error:
            problems.append(FieldViolation("id_number", str(error)))
    if request.page_size < 0:
        problems.append(FieldViolation("page_size", "must not be negative"))
    if problems:
        raise invalid_argument(problems)


async def search_applications(
    window: Window, caller: Principal, request: pb.SearchApplicationsRequest
) -> pb.SearchApplicationsResponse:
    permissions.require_role(caller, "window_clerk")
    permissions.require_jurisdiction(caller, window.jurisdiction)
    check_search(request, window)
    found = await window.backends.call(
        window.backends.intake.ListCases,
        intake_service_pb2.ListCasesRequest(
            page_size=pagination.page_size(request.page_size),
            page_token=request.page_token,
            person_key=person_key(request.id_number),
            accepting_division_prefix=window.jurisdiction,
        ),
    )
    receipts = [c.receipt for c in found.cases]
    # A search that finds nothing is still a search of a person: one entry without a case.
    await window.audit.record(
        actor(caller),
        ACTION,
        receipts or [""],
        SEARCH_FIELDS,
        f"{len(receipts)} found",
        actor_name=caller.display_name,
    )
    return pb.SearchApplicationsResponse(
        applications=[views.as_application(c, window.clock, window.calendar) for c in found.cases],
        next_page_token=found.next_page_token,
    )
