"""The dibao rule: a household qualifies when its monthly income per member is below the
local standard. Pure: the officer confirms or overrides the recommendation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.assistance.standards import Standard


@dataclass(frozen=True)
class Assessment:
    eligible: bool
    per_capita_income_fen: int
    standard_fen: int
    standard_division: str
    reason: str


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


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
    where = f"the {standard.division} standard" if standard.division else "the default standard"
    comparison = "below" if eligible else "not below"
    reason = (
        f"household of {members}: income per member {_yuan(per_capita)} yuan/month is "
        f"{comparison} {where} of {_yuan(standard.fen_per_person)} yuan"
    )
    return Assessment(eligible, per_capita, standard.fen_per_person, standard.division, reason)
