"""The assistance matters' rules. Pure: each takes the facts and returns the assessment an
officer confirms or overrides."""

from __future__ import annotations

from collections.abc import Sequence

from onedoor.case.v1 import case_pb2
from onedoor.department.v1 import department_service_pb2 as pb
from services.assistance import dibao
from services.assistance.standards import Standard
from services.common.department.rules import fact

# Low-income households: income per member up to 1.5 times the dibao standard.
LOW_INCOME_FACTOR = 1.5
# Temporary assistance: up to three months of the dibao standard per member, at once.
TEMPORARY_CAP_MONTHS = 3


def _yuan(fen: int) -> str:
    return f"{fen / 100:.2f}"


def _with_check(income: dibao.Assessment, check: pb.EconomicCheck) -> tuple[bool, str]:
    if not check.performed:
        return False, f"{income.reason}; economic-status check not run: {check.note}"
    if not check.within_limit:
        return False, (
            f"{income.reason}; household assets {_yuan(check.assets_fen)} yuan exceed the "
            f"limit of {_yuan(check.limit_fen)} yuan"
        )
    return income.eligible, f"{income.reason}; assets within the limit"


def _income_facts(income: dibao.Assessment) -> list[pb.Fact]:
    return [
        fact("per_capita_income_yuan", _yuan(income.per_capita_income_fen)),
        fact("standard_yuan", _yuan(income.standard_fen)),
        fact("standard_division", income.standard_division or "default"),
    ]


def assess_dibao(
    incomes: Sequence[int], standard: Standard, check: pb.EconomicCheck
) -> pb.Assessment:
    income = dibao.assess(incomes, standard)
    eligible, reason = _with_check(income, check)
    return pb.Assessment(
        eligible=eligible,
        reason=reason,
        facts=_income_facts(income),
        economic_check=check,
        amount_fen=max(0, standard.fen_per_person * len(incomes) - sum(incomes)) if eligible else 0,
    )


def assess_hardship(
    incomes: Sequence[int],
    standard: Standard,
    facts: case_pb2.HardshipFacts,
    check: pb.EconomicCheck,
) -> pb.Assessment:
    income = dibao.assess(incomes, standard)
    eligible, reason = _with_check(income, check)
    if facts.has_legal_supporter:
        eligible, reason = False, f"has a legal supporter able to support them; {reason}"
    elif not facts.unable_to_work:
        eligible, reason = False, f"has not lost the ability to work; {reason}"
    return pb.Assessment(
        eligible=eligible,
        reason=reason,
        facts=[
            *_income_facts(income),
            fact("has_legal_supporter", facts.has_legal_supporter),
            fact("unable_to_work", facts.unable_to_work),
        ],
        economic_check=check,
        amount_fen=standard.fen_per_person if eligible else 0,
    )


def assess_low_income(
    incomes: Sequence[int], standard: Standard, check: pb.EconomicCheck
) -> pb.Assessment:
    line = Standard(round(standard.fen_per_person * LOW_INCOME_FACTOR), standard.division)
    income = dibao.assess(incomes, line)
    eligible, reason = _with_check(income, check)
    return pb.Assessment(
        eligible=eligible,
        reason=f"low-income line is {LOW_INCOME_FACTOR} times the dibao standard: {reason}",
        facts=_income_facts(income),
        economic_check=check,
    )


def assess_temporary(requested_fen: int, members: int, standard: Standard) -> pb.Assessment:
    cap = standard.fen_per_person * TEMPORARY_CAP_MONTHS * members
    granted = min(requested_fen, cap)
    capped = f"; capped at {_yuan(cap)} yuan" if requested_fen > cap else ""
    return pb.Assessment(
        eligible=requested_fen > 0,
        reason=f"one-off grant of {_yuan(granted)} yuan for a household of {members}{capped}",
        facts=[fact("requested_yuan", _yuan(requested_fen)), fact("cap_yuan", _yuan(cap))],
        amount_fen=granted,
    )


def assess_disability(
    grade: int, household_on_dibao: bool, living: Standard, care: Standard
) -> pb.Assessment:
    """Care subsidy for grades 1 and 2; living subsidy for a household receiving dibao."""
    amount = 0
    granted = []
    if grade in (1, 2):
        amount += care.fen_per_person
        granted.append(f"care subsidy {_yuan(care.fen_per_person)} yuan (grade {grade})")
    if household_on_dibao:
        amount += living.fen_per_person
        granted.append(f"living subsidy {_yuan(living.fen_per_person)} yuan (household on dibao)")
    reason = (
        "; ".join(granted) + " per month"
        if granted
        else f"grade {grade} and a household not on dibao: neither subsidy applies"
    )
    return pb.Assessment(
        eligible=bool(granted),
        reason=reason,
        facts=[fact("disability_grade", grade), fact("household_on_dibao", household_on_dibao)],
        amount_fen=amount,
    )
