"""What the window refuses, field by field, before anything is stored. Pure: no I/O.

Descriptions say what is wrong and never quote the value: it may be an identity number.
"""

from __future__ import annotations

import re
import unicodedata

import grpc

from onedoor.gateway.v1 import gateway_service_pb2 as pb
from services.common import divisions, identity
from services.common.catalog import Catalog, Matter
from services.common.errors import ApiError, FieldViolation, invalid_argument
from services.common.receipt import is_request_id

MAX_NAME = 50
MAX_RELATION = 20
MAX_MEMBERS = 30
MAX_MATERIALS = 50
# A monthly income above ten million yuan is a typing error, not an applicant.
MAX_MONTHLY_INCOME_FEN = 1_000_000_000
PHONE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8})$")


def _name_problem(name: str) -> str | None:
    if not name.strip():
        return "is required"
    if len(name) > MAX_NAME:
        return f"must be at most {MAX_NAME} characters"
    if any(unicodedata.category(c).startswith("C") for c in name):
        return "must not contain control characters"
    return None


def _id_problem(number: str) -> str | None:
    if not number:
        return "is required"
    try:
        identity.validate(number)
    except identity.IdentityError as error:
        return str(error)
    return None


def _division_problem(code: str) -> str | None:
    if not code:
        return "is required"
    if not (len(code) == 6 and code.isdigit()):
        return "must be a 6-digit GB/T 2260 division code"
    if not divisions.is_known(code):
        return "is not a GB/T 2260 division code"
    if code.endswith("00"):
        return "must be a county-level division (the hukou's county or district)"
    return None


def check_application(request: pb.SubmitApplicationRequest, catalog: Catalog) -> Matter:
    """Returns the matter applied for, or raises the error listing every bad field.

    Missing materials alone are FAILED_PRECONDITION (the request is well-formed; the window
    needs more papers); together with bad fields, everything is INVALID_ARGUMENT at once so
    the clerk fixes the form in one go.
    """
    problems: list[FieldViolation] = []

    def check(field: str, problem: str | None) -> None:
        if problem:
            problems.append(FieldViolation(field, problem))

    if not is_request_id(request.request_id):
        check("request_id", "must be 8-64 letters, digits or ._:- (a UUID is best)")
    matter = catalog.latest(request.matter_code)
    if matter is None:
        check("matter_code", "is not a matter of the catalog (GET /v1/matters lists them)")

    applicant = request.applicant
    check("applicant.name", _name_problem(applicant.name))
    check("applicant.id_number", _id_problem(applicant.id_number))
    if not applicant.phone:
        check("applicant.phone", "is required")
    elif not PHONE.match(applicant.phone):
        check("applicant.phone", "must be an 11-digit mobile or a landline like 0512-53521234")
    check("applicant.hukou_division", _division_problem(applicant.hukou_division))

    members = request.household_members
    if matter is not None and matter.needs_household:
        if not members:
            check(
                "household_members",
                "must list every member of the household, the applicant included",
            )
        elif len(members) > MAX_MEMBERS:
            check("household_members", f"must have at most {MAX_MEMBERS} members")
    seen: set[str] = set()
    for i, member in enumerate(members[:MAX_MEMBERS]):
        path = f"household_members[{i}]"
        check(f"{path}.name", _name_problem(member.name))
        id_problem = _id_problem(member.id_number)
        check(f"{path}.id_number", id_problem)
        if id_problem is None:
            number = identity.normalize(member.id_number)
            if number in seen:
                check(f"{path}.id_number", "lists the same person twice")
            seen.add(number)
        if not member.relation.strip():
            check(f"{path}.relation", "is required (本人, 配偶, 子女, ...)")
        elif len(member.relation) > MAX_RELATION:
            check(f"{path}.relation", f"must be at most {MAX_RELATION} characters")
        if member.monthly_income_fen < 0:
            check(f"{path}.monthly_income_fen", "must not be negative")
        elif member.monthly_income_fen > MAX_MONTHLY_INCOME_FEN:
            check(
                f"{path}.monthly_income_fen", "is implausibly large (the unit is fen, 1/100 yuan)"
            )
    if (
        matter is not None
        and matter.needs_household
        and members
        and _id_problem(applicant.id_number) is None
        and identity.normalize(applicant.id_number) not in seen
    ):
        check("household_members", "must include the applicant")

    if len(request.materials) > MAX_MATERIALS:
        check("materials", f"must list at most {MAX_MATERIALS} materials")
    if matter is not None:
        known = {m.code for m in matter.required_materials}
        for i, code in enumerate(request.materials[:MAX_MATERIALS]):
            if code not in known:
                check(f"materials[{i}]", "is not a material of this matter")

    missing = (
        [m for m in matter.required_materials if m.code not in set(request.materials)]
        if matter is not None
        else []
    )
    missing_violations = [
        FieldViolation("materials", f"missing required material {m.code} ({m.title_zh})")
        for m in missing
    ]
    if problems or matter is None:
        raise invalid_argument([*problems, *missing_violations], reason="INVALID_APPLICATION")
    if missing_violations:
        raise ApiError(
            grpc.StatusCode.FAILED_PRECONDITION,
            "required materials are missing: " + ", ".join(m.code for m in missing),
            reason="MISSING_MATERIALS",
            violations=tuple(missing_violations),
            precondition_type="MATERIALS",
            metadata={"missing": ",".join(m.code for m in missing)},
        )
    return matter
