"""The assistance matters' rules. Pure: each takes the facts and returns the assessment an
officer confirms or overrides."""

from __future__ import annotations

from collections.abc import Sequence

from onedoor.case.v1 import case_pb2
from onedoor.case.v1.case_pb2 import Text
from onedoor.department.v1 import department_service_pb2 as pb
from services.assistance import dibao
from services.assistance.standards import Standard
from services.common.department.rules import fact
from services.common.texts import Code, amount, count, decimal, division, text

# Low-income households: income per member up to 1.5 times the dibao standard.
LOW_INCOME_FACTOR = 1.5
# Temporary assistance: up to three months of the dibao standard per member, at once.
TEMPORARY_CAP_MONTHS = 3


def _yuan(fen: int) -> str:
    return f"{fen / 100:.2f}"


def _with_check(income: dibao.Assessment, check: pb.EconomicCheck) -> tuple[bool, list[Text]]:
    if not check.performed:
        return False, [income.finding, text(Code.TEXT_CODE_ECONOMIC_CHECK_NOT_RUN, check.message)]
    if not check.within_limit:
        return False, [
            income.finding,
            text(
                Code.TEXT_CODE_ASSETS_EXCEED_LIMIT,
                assets=amount(check.assets_fen),
                limit=amount(check.limit_fen),
            ),
        ]
    return income.eligible, [income.finding, text(Code.TEXT_CODE_ASSETS_WITHIN_LIMIT)]


def _income_facts(income: dibao.Assessment) -> list[pb.Fact]:
    return [
        fact(
            "per_capita_income_yuan",
            _yuan(income.per_capita_income_fen),
            amount(income.per_capita_income_fen),
        ),
        fact("standard_yuan", _yuan(income.standard_fen), amount(income.standard_fen)),
        fact(
            "standard_division",
            income.standard_division or "default",
            division(income.standard_division),
        ),
    ]


def assess_dibao(
    incomes: Sequence[int], standard: Standard, check: pb.EconomicCheck
) -> pb.Assessment:
    income = dibao.assess(incomes, standard)
    eligible, findings = _with_check(income, check)
    return pb.Assessment(
        eligible=eligible,
        findings=findings,
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
    eligible, findings = _with_check(income, check)
    if facts.has_legal_supporter:
        eligible, findings = False, [text(Code.TEXT_CODE_HAS_LEGAL_SUPPORTER), *findings]
    elif not facts.unable_to_work:
        eligible, findings = False, [text(Code.TEXT_CODE_ABLE_TO_WORK), *findings]
    return pb.Assessment(
        eligible=eligible,
        findings=findings,
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
    eligible, findings = _with_check(income, check)
    return pb.Assessment(
        eligible=eligible,
        findings=[
            text(Code.TEXT_CODE_LOW_INCOME_LINE, factor=decimal(LOW_INCOME_FACTOR)),
            *findings,
        ],
        facts=_income_facts(income),
        economic_check=check,
    )


def assess_temporary(requested_fen: int, members: int, standard: Standard) -> pb.Assessment:
    cap = standard.fen_per_person * TEMPORARY_CAP_MONTHS * members
    granted = min(requested_fen, cap)
    findings = [text(Code.TEXT_CODE_ONE_OFF_GRANT, amount=amount(granted), members=count(members))]
    if requested_fen > cap:
        findings.append(text(Code.TEXT_CODE_GRANT_CAPPED, cap=amount(cap)))
    return pb.Assessment(
        eligible=requested_fen > 0,
        findings=findings,
        facts=[
            fact("requested_yuan", _yuan(requested_fen), amount(requested_fen)),
            fact("cap_yuan", _yuan(cap), amount(cap)),
        ],
        amount_fen=granted,
    )


def assess_disability(
    grade: int, household_on_dibao: bool, living: Standard, care: Standard
) -> pb.Assessment:
    """Care subsidy for grades 1 and 2; living subsidy for a household receiving dibao."""
    total = 0
    granted = []
    if grade in (1, 2):
        total += care.fen_per_person
        granted.append(
            text(
                Code.TEXT_CODE_CARE_SUBSIDY, amount=amount(care.fen_per_person), grade=count(grade)
            )
        )
    if household_on_dibao:
        total += living.fen_per_person
        granted.append(text(Code.TEXT_CODE_LIVING_SUBSIDY, amount=amount(living.fen_per_person)))
    findings = granted or [text(Code.TEXT_CODE_NO_DISABILITY_SUBSIDY, grade=count(grade))]
    return pb.Assessment(
        eligible=bool(granted),
        findings=findings,
        facts=[
            fact("disability_grade", grade, count(grade)),
            fact("household_on_dibao", household_on_dibao),
        ],
        amount_fen=total,
    )
