"""Low-income dynamic monitoring (低收入人口动态监测): an identified household (low-income,
dibao, hardship) comes up for review when its interval since identification or the last review
has passed, and earlier when a pushed record changes its picture: a member registered
unemployed, a member's death, medical spending over an illness-poverty line."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from services.ingest.judging import months
from services.ingest.judging.household import Household, Identified
from services.ingest.judging.illness_poverty import Spending
from services.ingest.judging.outcomes import (
    Action,
    Amount,
    Count,
    Day,
    DedupScope,
    Kind,
    Matter,
    Outcome,
    Reason,
    ReasonCode,
    sources,
)
from services.ingest.judging.outreach_rules import EarlyTrigger, OutreachRules, ReviewRules
from services.ingest.judging.records import (
    Death,
    MedicalExpense,
    Record,
    RecordId,
    Unemployment,
)

DEPARTMENT = "assistance"


def due_on(identified: Identified, rules: ReviewRules) -> dt.date:
    """The day the next review is due: the interval in calendar months after the last review
    (or the identification), clamped to the month's end like every period in months."""
    interval = rules.interval_months(identified.kind, income_unstable=identified.income_unstable)
    return months.add_months(identified.reviewed_or_identified_on, interval)


def dedup_key(household: Household, identified: Identified) -> str:
    # One open review per household and identification: a schedule and an early trigger, or
    # two triggers, meeting while one is open make one review.
    return f"review:{household.file_id}:{identified.kind.value}"


def _outcome(
    household: Household,
    identified: Identified,
    reason: Reason,
    caused_by: tuple[RecordId, ...] = (),
) -> Outcome:
    return Outcome(
        kind=Kind.IDENTIFICATION_REVIEW,
        action=Action.WARNING,
        department=DEPARTMENT,
        matter=identified.kind.value,
        division=household.division,
        reason=reason,
        dedup_key=dedup_key(household, identified),
        dedup_scope=DedupScope.WHILE_OPEN,
        household_file=household.file_id,
        caused_by=caused_by,
    )


def scheduled(household: Household, today: dt.date, rules: OutreachRules) -> list[Outcome]:
    """Reviews due by ``today`` (on the due day or since): one per identification."""
    review = rules.for_division(household.division).review
    found = []
    for identified in household.identified:
        due = due_on(identified, review)
        if due <= today:
            reason = Reason.of(
                ReasonCode.REVIEW_DUE,
                matter=Matter(identified.kind.value),
                last=Day(identified.reviewed_or_identified_on),
                due=Day(due),
                interval_months=Count(
                    review.interval_months(
                        identified.kind, income_unstable=identified.income_unstable
                    )
                ),
            )
            found.append(_outcome(household, identified, reason))
    return found


def early(
    household: Household,
    pushed: Iterable[Record],
    rules: OutreachRules,
    spending: Spending | None = None,
) -> list[Outcome]:
    """Reviews brought forward by the records just pushed about the household's members.
    ``spending``: the household's illness-poverty assessment, when bills were among them; it
    triggers when it is above a line and a bill just pushed is one it counted."""
    triggers = rules.for_division(household.division).review.early_on
    causes: list[Record] = []
    clauses: list[Reason] = []
    pushed = list(pushed)
    for record in pushed:
        if record.person not in household.members:
            continue
        if isinstance(record, Unemployment) and EarlyTrigger.UNEMPLOYMENT in triggers:
            causes.append(record)
            clauses.append(
                Reason.of(ReasonCode.MEMBER_UNEMPLOYED, registered_on=Day(record.registered_on))
            )
        elif isinstance(record, Death) and EarlyTrigger.DEATH in triggers:
            causes.append(record)
            clauses.append(Reason.of(ReasonCode.MEMBER_DIED, died_on=Day(record.died_on)))
    if (
        spending is not None
        and spending.above
        and EarlyTrigger.MEDICAL_SPENDING in triggers
        and spending.household.file_id == household.file_id
    ):
        counted = {e.source for e in spending.expenses}
        new_bills = [r for r in pushed if isinstance(r, MedicalExpense) and r.source in counted]
        if new_bills:
            causes.extend(new_bills)
            clauses.append(
                Reason.of(
                    ReasonCode.LARGE_MEDICAL_SPENDING,
                    out_of_pocket=Amount(spending.out_of_pocket_fen),
                )
            )
    if not causes:
        return []
    caused_by = sources(causes)
    return [
        _outcome(
            household,
            identified,
            Reason.of(ReasonCode.REVIEW_EARLY, *clauses, matter=Matter(identified.kind.value)),
            caused_by,
        )
        for identified in household.identified
    ]
