"""The dibao rule: a household qualifies when its monthly income per member is below the
local standard. Pure: the officer confirms or overrides the recommendation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from onedoor.case.v1 import case_pb2
from services.assistance.standards import Standard
from services.common.texts import Code, amount, count, division, text


@dataclass(frozen=True)
class Assessment:
    eligible: bool
    per_capita_income_fen: int
    standard_fen: int
    standard_division: str
    finding: case_pb2.Text


def assess(monthly_incomes_fen: Sequence[int], standard: Standard) -> Assessment:
    if not monthly_incomes_fen:
        raise ValueError("a household has at least one member")
    if any(income < 0 for income in monthly_incomes_fen):
        raise ValueError("incomes are never negative")
    members = len(monthly_incomes_fen)
    total = sum(monthly_incomes_fen)
    # Compare totals, not a rounded average: "below the standard" must be exact at the edge.
    eligible = total < standard.fen_per_person * members
    per_capita = (total + members // 2) // members
    said = {
        (True, True): Code.TEXT_CODE_INCOME_BELOW_STANDARD,
        (False, True): Code.TEXT_CODE_INCOME_NOT_BELOW_STANDARD,
        (True, False): Code.TEXT_CODE_INCOME_BELOW_DEFAULT_STANDARD,
        (False, False): Code.TEXT_CODE_INCOME_NOT_BELOW_DEFAULT_STANDARD,
    }[eligible, bool(standard.division)]
    where = {"division": division(standard.division)} if standard.division else {}
    finding = text(
        said,
        members=count(members),
        income_per_member=amount(per_capita),
        standard=amount(standard.fen_per_person),
        **where,
    )
    return Assessment(eligible, per_capita, standard.fen_per_person, standard.division, finding)
