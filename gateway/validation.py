"""What the window refuses, field by field, before anything is stored. Pure: no I/O.

Descriptions say what is wrong and never quote the value: it may be an identity number.
Every "now" and "today" is the bureau's (a ``BureauClock``), never the host's: hosts run in
UTC, and from 00:00 to 08:00 China time their date is still yesterday's.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

import grpc
from google.protobuf.message import Message
from stdnum.cn import uscc

from onedoor.case.v1 import case_pb2
from onedoor.gateway.v1 import gateway_service_pb2 as pb
from services.common import catalog, divisions, identity
from services.common.catalog import DEPARTMENTS, Catalog, Matter
from services.common.clock import BureauClock
from services.common.errors import ApiError, FieldViolation, invalid_argument
from services.common.receipt import REQUEST_ID_PATTERN, is_receipt

MAX_NAME = 50
MAX_RELATION = 20
MAX_MEMBERS = 30
MAX_MATERIALS = 50
# A monthly income above ten million yuan is a typing error, not an applicant.
MAX_MONTHLY_INCOME_FEN = 1_000_000_000
# ASCII digits only, matched whole: "\d" also takes other scripts' digits, and "$" a trailing
# newline.
PHONE = re.compile(r"1[0-9]{10}|0[0-9]{2,3}-?[0-9]{7,8}")
# Free text no rule bounds (a certificate number, a care service) is short on any form.
MAX_TEXT = 200
# A consent recorded on a clerk's machine whose clock runs a little ahead is still valid.
CLOCK_SKEW_SECONDS = 600
# "Near" a deadline, for the overdue list, unless the caller says otherwise.
DEFAULT_DUE_WITHIN_DAYS = 3
# Ten years ahead covers every legal time limit; beyond it a date overflows behind the window.
MAX_DUE_WITHIN_DAYS = 3650
# Nobody the bureau serves was born earlier; any four-digit year parses (0001 too), and would
# be assessed as an age of centuries.
EARLIEST_BIRTH = dt.date(1900, 1, 1)
# Exactly an ISO 8601 calendar date: date.fromisoformat (3.11) also takes "20261120",
# "2026-W47-5" and more, which would be stored as typed. ASCII digits only (see PHONE).
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
DATE_FORMAT = "must be a date written YYYY-MM-DD, like 2026-11-20"


NOTICE_LANGUAGES = ("", "zh-CN", "en")


def _name_problem(name: str) -> str | None:
    if not name.strip():
        return "is required"
    if len(name) > MAX_NAME:
        return f"must be at most {MAX_NAME} characters"
    if any(unicodedata.category(c).startswith("C") for c in name):
        return "must not contain control characters"
    return None


def _id_problem(number: str, today: dt.date) -> str | None:
    if not number:
        return "is required"
    try:
        identity.validate(number, today=today)
    except identity.IdentityError as error:
        return str(error)
    if identity.birth_date(number) < EARLIEST_BIRTH:
        return f"birth date is before {EARLIEST_BIRTH:%Y-%m-%d}"
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


def check_department(department: str) -> None:
    """A department named in a path or request; refused without being quoted, since a name
    that is not a department may be anything (control characters included)."""
    if department not in DEPARTMENTS:
        raise invalid_argument(
            [FieldViolation("department", f"must be one of {', '.join(DEPARTMENTS)}")],
            reason="UNKNOWN_DEPARTMENT",
        )


def check_listing(request: pb.ListApplicationsRequest) -> None:
    problems = []
    if request.page_size < 0:
        problems.append(FieldViolation("page_size", "must not be negative"))
    if not 0 <= request.due_within_days <= MAX_DUE_WITHIN_DAYS:
        problems.append(
            FieldViolation("due_within_days", f"must be 0 to {MAX_DUE_WITHIN_DAYS} days")
        )
    if request.department and request.department not in DEPARTMENTS:
        problems.append(FieldViolation("department", f"must be one of {', '.join(DEPARTMENTS)}"))
    if request.work_list and request.overdue:
        problems.append(FieldViolation("overdue", "must not be set with work_list"))
    if request.matter_code and catalog.load().latest(request.matter_code) is None:
        problems.append(FieldViolation("matter_code", "is not a matter of the catalog"))
    if request.work_list not in pb.WorkList.values():
        problems.append(FieldViolation("work_list", "is not a work list"))
    if request.status not in case_pb2.CaseStatus.values():
        problems.append(FieldViolation("status", "is not a case status"))
    if problems:
        raise invalid_argument(problems)


def check_receipt(receipt: str) -> None:
    if not is_receipt(receipt):
        raise invalid_argument(
            [FieldViolation("receipt", "must look like 320585-7K3F9-QX2MA")],
            reason="INVALID_RECEIPT",
        )


def check_supply(request: pb.SupplyMaterialsRequest) -> None:
    """Whether the materials are this matter's is checked against the case, once it is read."""
    check_receipt(request.receipt)
    if not request.materials:
        raise invalid_argument([FieldViolation("materials", "must name what was handed in")])


def check_divorce_party(receipt: str, id_number: str, today: dt.date) -> None:
    """The party confirming or withdrawing a divorce, as on the identity card presented."""
    try:
        identity.validate(id_number, today=today)
    except identity.IdentityError as error:
        raise invalid_argument([FieldViolation("id_number", str(error))]) from None
    check_receipt(receipt)


def serves(jurisdiction: str, division: str) -> bool:
    """Whether a bureau for ``jurisdiction`` is the hukou jurisdiction of ``division``."""
    return divisions.within(jurisdiction, division)


def _party_problems(
    path: str, party: case_pb2.Party, today: dt.date
) -> list[tuple[str, str | None]]:
    found = [
        (f"{path}.name", _name_problem(party.name)),
        (f"{path}.id_number", _id_problem(party.id_number, today)),
    ]
    if party.phone and not PHONE.fullmatch(party.phone):
        found.append(
            (f"{path}.phone", "must be an 11-digit mobile or a landline like 0512-53521234")
        )
    return found


def _date_problem(text: str, today: dt.date, not_before: dt.date | None = None) -> str | None:
    """A calendar date of a person's life: from EARLIEST_BIRTH (or ``not_before``, the
    person's birth) to the bureau's ``today``, both included."""
    if not text:
        return "is required"
    # Checked before parsing: fromisoformat's other forms (and surrounding spaces) never pass.
    if not ISO_DATE.fullmatch(text):
        return DATE_FORMAT
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return "is not a real date (YYYY-MM-DD, like 2026-11-20)"
    if day > today:
        return "must not be in the future"
    if day < EARLIEST_BIRTH:
        return f"must not be before {EARLIEST_BIRTH:%Y-%m-%d}"
    if not_before and day < not_before:
        return "is before the person's birth"
    return None


def _details_problems(
    matter: Matter, details: case_pb2.MatterDetails, clock: BureauClock
) -> list[tuple[str, str | None]]:
    """Shape of the matter's own fields; the deciding department checks them against its
    records when the window asks it (CheckApplication)."""
    found: list[tuple[str, str | None]] = []
    fields = set(matter.fields)
    today = clock.today()
    if "details.other_party" in fields:
        found += _party_problems("details.other_party", details.other_party, today)
    if "details.organisation" in fields:
        organisation = details.organisation
        if matter.code == "orgs.register":
            found.append(("details.organisation.name", _name_problem(organisation.name)))
            if organisation.kind == case_pb2.ORGANISATION_KIND_UNSPECIFIED:
                found.append(("details.organisation.kind", "is required"))
            elif organisation.kind not in case_pb2.OrganisationKind.values():
                # proto3 enums are open: an unknown number parses, and no department knows it.
                found.append(("details.organisation.kind", "is not a kind of organisation"))
            if organisation.registered_capital_fen < 0:
                found.append(
                    ("details.organisation.registered_capital_fen", "must not be negative")
                )
        elif not uscc.is_valid(organisation.credit_code):
            found.append(
                (
                    "details.organisation.credit_code",
                    "is not a valid 18-character unified social credit code",
                )
            )
        if matter.code == "orgs.annual_report" and not organisation.report_year:
            found.append(("details.organisation.report_year", "is required"))
    if "details.death" in fields:
        death = details.death
        id_problem = _id_problem(death.deceased_id_number, today)
        found.append(("details.death.deceased_name", _name_problem(death.deceased_name)))
        found.append(("details.death.deceased_id_number", id_problem))
        born = identity.birth_date(death.deceased_id_number) if id_problem is None else None
        found.append(
            ("details.death.date_of_death", _date_problem(death.date_of_death, today, born))
        )
    if "details.care" in fields and not details.care.service:
        found.append(("details.care.service", "is required"))
    if "details.disability" in fields and not 1 <= details.disability.grade <= 4:
        found.append(("details.disability.grade", "must be 1 (most severe) to 4"))
    if "details.hardship" in fields and not details.HasField("hardship"):
        found.append(
            (
                "details.hardship",
                "is required: whether a legal supporter exists and ability to work",
            )
        )
    if "details.requested_amount_fen" in fields and details.requested_amount_fen <= 0:
        found.append(("details.requested_amount_fen", "must be a positive amount in fen"))
    consent = details.economic_check_consent
    if (
        consent.consenting_id_number
        or consent.member_id_numbers
        # A time alone is checked too: an invalid one cannot even be stored.
        or consent.HasField("consent_time")
    ):
        found.append(
            (
                "details.economic_check_consent.consenting_id_number",
                _id_problem(consent.consenting_id_number, today),
            )
        )
        for i, number in enumerate(consent.member_id_numbers):
            found.append(
                (
                    f"details.economic_check_consent.member_id_numbers[{i}]",
                    _id_problem(number, today),
                )
            )
        found.append(
            (
                "details.economic_check_consent.consent_time",
                _consent_time_problem(consent, clock.now()),
            )
        )
    return found


def _consent_time_problem(consent: case_pb2.EconomicCheckConsent, now: dt.datetime) -> str | None:
    if not consent.HasField("consent_time"):
        return "is required"
    when = consent.consent_time
    # Over gRPC any seconds and nanos arrive; only a real moment can be stored and shown.
    if not 0 <= when.nanos < 1_000_000_000 or when.seconds < 0:
        return "is not a valid time"
    if when.seconds > now.timestamp() + CLOCK_SKEW_SECONDS:
        return "must not be in the future"
    return None


def _text_problems(message: Message, path: str = "") -> list[tuple[str, str]]:
    """Every string of the request, wherever it sits: no control characters (PostgreSQL
    refuses NUL in the case's JSON) and no more than MAX_TEXT characters, so free-text fields
    no rule looks at cannot carry junk into the ledger."""
    found: list[tuple[str, str]] = []
    for descriptor, value in message.ListFields():
        name = f"{path}{descriptor.name}"
        items = list(enumerate(value)) if descriptor.is_repeated else [(None, value)]
        for i, item in items:
            where = name if i is None else f"{name}[{i}]"
            if descriptor.type == descriptor.TYPE_MESSAGE:
                found += _text_problems(item, where + ".")
            elif descriptor.type == descriptor.TYPE_STRING:
                if len(item) > MAX_TEXT:
                    found.append((where, f"must be at most {MAX_TEXT} characters"))
                elif any(unicodedata.category(c) == "Cc" for c in item):
                    found.append((where, "must not contain control characters"))
    return found


def check_application(
    request: pb.SubmitApplicationRequest,
    catalog: Catalog,
    jurisdiction: str,
    *,
    clock: BureauClock,
) -> Matter:
    """Returns the matter applied for, or raises the error listing every bad field.

    Ages, birthdays and "not in the future" are judged on ``clock``'s date in the bureau's
    zone, the date the departments decide on.

    Missing materials alone are FAILED_PRECONDITION (the request is well-formed; the window
    needs more papers); together with bad fields, everything is INVALID_ARGUMENT at once so
    the clerk fixes the form in one go.
    """
    problems: list[FieldViolation] = []
    # One reading for the whole request, so no two rules straddle the bureau's midnight.
    now = clock.now()
    clock = BureauClock(clock.zone, lambda: now)
    today = clock.today()

    def check(field: str, problem: str | None) -> None:
        if problem:
            problems.append(FieldViolation(field, problem))

    # fullmatch: the pattern's "$" would also let a trailing newline through.
    if not REQUEST_ID_PATTERN.fullmatch(request.request_id):
        check("request_id", "must be 8-64 letters, digits or ._:- (a UUID is best)")
    matter = catalog.latest(request.matter_code)
    if matter is None:
        check("matter_code", "is not a matter of the catalog (GET /v1/matters lists them)")

    applicant = request.applicant
    check("applicant.name", _name_problem(applicant.name))
    applicant_id_problem = _id_problem(applicant.id_number, today)
    check("applicant.id_number", applicant_id_problem)
    if not applicant.phone:
        check("applicant.phone", "is required")
    elif not PHONE.fullmatch(applicant.phone):
        check("applicant.phone", "must be an 11-digit mobile or a landline like 0512-53521234")
    division_problem = _division_problem(applicant.hukou_division)
    check("applicant.hukou_division", division_problem)
    # The languages the notifier has messages in (services/notifier/templates/).
    for field, notices in (
        ("applicant.notices.language", applicant.notices),
        ("details.other_party.notices.language", request.details.other_party.notices),
    ):
        if notices.language not in NOTICE_LANGUAGES:
            check(field, "must be zh-CN or en (or left out for Chinese)")
    if matter is not None:
        for field, problem in _details_problems(matter, request.details, clock):
            check(field, problem)
        if matter.minimum_age and applicant_id_problem is None:
            age = identity.age_on(applicant.id_number, today)
            if age < matter.minimum_age:
                check(
                    "applicant.id_number",
                    f"the applicant is {age}; the matter is for people aged {matter.minimum_age} and over",
                )

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
        id_problem = _id_problem(member.id_number, today)
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
        and applicant_id_problem is None
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
    named = {p.field for p in problems}
    for field, problem in _text_problems(request):
        if field not in named:
            check(field, problem)

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
    if (
        division_problem is None
        and not matter.cross_jurisdiction
        and not serves(jurisdiction, applicant.hukou_division)
    ):
        home = f"{divisions.full_name(applicant.hukou_division)} ({applicant.hukou_division})"
        raise ApiError(
            grpc.StatusCode.FAILED_PRECONDITION,
            f"{matter.code} is decided where the applicant's hukou is: apply in {home}",
            reason="OUTSIDE_JURISDICTION",
            violations=(
                FieldViolation(
                    "applicant.hukou_division",
                    f"is outside this window's jurisdiction; {matter.code} is accepted only in {home}",
                ),
            ),
            precondition_type="JURISDICTION",
            metadata={"responsible_division": applicant.hukou_division},
        )
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
