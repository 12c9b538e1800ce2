"""Illness-poverty risk (因病致贫风险预警): a household whose out-of-pocket medical spending over
the last months is large against its income, or large outright, is warned about to assistance.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from services.ingest.judging import months
from services.ingest.judging.household import Household
from services.ingest.judging.outcomes import (
    Action,
    Amount,
    Count,
    Day,
    DedupScope,
    Kind,
    Outcome,
    Percent,
    Reason,
    ReasonCode,
    sources,
)
from services.ingest.judging.outreach_rules import IllnessPovertyRules, OutreachRules
from services.ingest.judging.records import MedicalExpense, RecordId

DEPARTMENT = "assistance"
# The warning's case, if an officer opens one: temporary assistance meets a medical crisis.
MATTER = "assistance.temporary"


class Threshold(StrEnum):
    INCOME_SHARE = "income_share"
    ABSOLUTE = "absolute"


@dataclass(frozen=True)
class Spending:
    """A household's out-of-pocket spending in the window and which lines it is above."""

    household: Household
    # settled_on in (window_after, window_through]: window_after itself is outside.
    window_after: dt.date
    window_through: dt.date
    out_of_pocket_fen: int
    expenses: tuple[MedicalExpense, ...]
    above: tuple[Threshold, ...]
    rules: IllnessPovertyRules


def window(today: dt.date, rules: IllnessPovertyRules) -> tuple[dt.date, dt.date]:
    """(after, through): a bill counts when ``after < settled_on <= today``. ``after`` is
    ``window_months`` calendar months before today, clamped to the month's end (months.py)."""
    return months.add_months(today, -rules.window_months), today


def assess(
    household: Household,
    expenses: Iterable[MedicalExpense],
    today: dt.date,
    rules: OutreachRules,
) -> Spending:
    """Sums the members' bills in the window, each record once however often it came, and
    compares the sum with the lines of the household's division."""
    lines = rules.for_division(household.division).illness_poverty
    after, through = window(today, lines)
    counted: dict[RecordId, MedicalExpense] = {}
    for bill in expenses:
        if bill.person in household.members and after < bill.settled_on <= through:
            counted.setdefault(bill.source, bill)
    bills = tuple(sorted(counted.values(), key=lambda b: (b.settled_on, b.source.record_id)))
    total = sum(b.out_of_pocket_fen for b in bills)
    above: list[Threshold] = []
    income = household.annual_income_fen
    # Exact: fen times a decimal share, compared as fractions; "above" means strictly. An
    # income assessed at 0 is above its share with any spending; one never assessed is
    # judged by the absolute line alone.
    if income is not None and Fraction(total) > lines.income_share * income:
        above.append(Threshold.INCOME_SHARE)
    if total > lines.absolute_fen:
        above.append(Threshold.ABSOLUTE)
    return Spending(household, after, through, total, bills, tuple(above), lines)


def dedup_key(household: Household) -> str:
    # One open warning per household: while it is open, new bills add nothing.
    return f"illness_poverty:{household.file_id}"


def judge(
    household: Household,
    expenses: Iterable[MedicalExpense],
    today: dt.date,
    rules: OutreachRules,
) -> Outcome | None:
    """A risk warning to assistance when the spending is above either line; None otherwise.
    ``expenses``: the members' bills the platform holds, the ones just pushed included."""
    spending = assess(household, expenses, today, rules)
    return outcome(spending) if spending.above else None


def outcome(spending: Spending) -> Outcome:
    """The warning for a spending above a line (``assess(...).above``)."""
    if not spending.above:
        raise ValueError("spending: above no line, nothing to warn about")
    rules = spending.rules
    clauses: list[Reason] = []
    if Threshold.INCOME_SHARE in spending.above:
        income = spending.household.annual_income_fen or 0
        clauses.append(
            Reason.of(
                ReasonCode.SPENDING_ABOVE_INCOME_SHARE,
                percent=Percent(rules.income_share),
                annual_income=Amount(income),
                # The line in whole fen, rounded down: the comparison itself was exact.
                line=Amount(int(rules.income_share * income)),
            )
        )
    if Threshold.ABSOLUTE in spending.above:
        clauses.append(Reason.of(ReasonCode.SPENDING_ABOVE_AMOUNT, line=Amount(rules.absolute_fen)))
    reason = Reason.of(
        ReasonCode.ILLNESS_POVERTY_RISK,
        *clauses,
        out_of_pocket=Amount(spending.out_of_pocket_fen),
        bills=Count(len(spending.expenses)),
        # The first and last days counted, both inclusive, as people read a period.
        window_from=Day(spending.window_after + dt.timedelta(days=1)),
        window_to=Day(spending.window_through),
    )
    return Outcome(
        kind=Kind.ILLNESS_POVERTY_RISK,
        action=Action.WARNING,
        department=DEPARTMENT,
        matter=MATTER,
        division=spending.household.division,
        reason=reason,
        dedup_key=dedup_key(spending.household),
        dedup_scope=DedupScope.WHILE_OPEN,
        household_file=spending.household.file_id,
        caused_by=sources(spending.expenses),
    )
