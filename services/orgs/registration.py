"""Registration rules for social organisations, and the credit codes registration assigns.
Pure: no I/O."""

from __future__ import annotations

import hashlib
from typing import TypeAlias

from stdnum.cn import uscc

from onedoor.case.v1 import case_pb2
from services.common.department.rules import Problem

Kind: TypeAlias = case_pb2.OrganisationKind.ValueType

# Minimum registered capital or original fund, in fen: a local social group needs 30,000 yuan
# of activity funds (《社会团体登记管理条例》), a local foundation 2,000,000 yuan (《基金会管理条例》).
MINIMUM_CAPITAL_FEN: dict[Kind, int] = {
    case_pb2.ORGANISATION_KIND_SOCIAL_GROUP: 3_000_000,
    case_pb2.ORGANISATION_KIND_PRIVATE_NON_ENTERPRISE: 0,
    case_pb2.ORGANISATION_KIND_FOUNDATION: 200_000_000,
}
# The second character of a civil-affairs credit code: the kind of organisation.
KIND_CODE: dict[Kind, str] = {
    case_pb2.ORGANISATION_KIND_SOCIAL_GROUP: "1",
    case_pb2.ORGANISATION_KIND_PRIVATE_NON_ENTERPRISE: "2",
    case_pb2.ORGANISATION_KIND_FOUNDATION: "3",
}
# Credit codes issued by civil affairs start with 5 (GB 32100 registration authority code).
CIVIL_AFFAIRS = "5"
_ORG_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def normalized_name(name: str) -> str:
    """What counts as the same name: spaces and letter case do not make a new one."""
    return "".join(name.split()).upper()


def problems(organisation: case_pb2.Organisation) -> list[Problem]:
    found = []
    name = organisation.name.strip()
    if organisation.kind not in KIND_CODE:
        found.append(
            Problem(
                "details.organisation.kind",
                "must be a social group, private non-enterprise unit or foundation",
            )
        )
    if not 2 <= len(name) <= 50:
        found.append(Problem("details.organisation.name", "must be 2 to 50 characters"))
    elif organisation.kind == case_pb2.ORGANISATION_KIND_FOUNDATION and not name.endswith("基金会"):
        found.append(Problem("details.organisation.name", "a foundation's name ends with 基金会"))
    minimum = MINIMUM_CAPITAL_FEN.get(organisation.kind, 0)
    if organisation.registered_capital_fen < minimum:
        found.append(
            Problem(
                "details.organisation.registered_capital_fen",
                f"must be at least {minimum // 100:,} yuan for this kind of organisation",
            )
        )
    return found


def _org_code(seed: str) -> str:
    """A 9-character organisation code (GB 11714) with its check character."""
    digest = hashlib.sha256(seed.encode()).digest()
    body = "".join(_ORG_CODE_CHARS[b % 31] for b in digest[:8])
    values = [int(c, 36) for c in body]
    check = 11 - sum(v * w for v, w in zip(values, _ORG_CODE_WEIGHTS, strict=True)) % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def assign_credit_code(kind: Kind, division: str, receipt: str) -> str:
    """The unified social credit code for a newly registered organisation."""
    body = f"{CIVIL_AFFAIRS}{KIND_CODE[kind]}{division}{_org_code(receipt)}"
    code = body + uscc.calc_check_digit(body)
    return uscc.validate(code)
