"""Turning 80, 90, 100 (the configured milestones): an age-allowance case opened for the
person to confirm (免申即享), on the day by the bureau's calendar, never twice for one age."""

from __future__ import annotations

import datetime as dt

from services.ingest.judging import months
from services.ingest.judging.household import Benefit, Person
from services.ingest.judging.outcomes import (
    Action,
    Count,
    Day,
    DedupScope,
    Kind,
    Outcome,
    Reason,
    ReasonCode,
)
from services.ingest.judging.outreach_rules import OutreachRules

DEPARTMENT = "elderly"
MATTER = Benefit.AGE_ALLOWANCE.value


def dedup_key(person: Person, milestone: int) -> str:
    # Each age is reached once: one case ever per person and milestone.
    return f"age_allowance:{person.key.hex()}:{milestone}"


def milestone_due(person: Person, today: dt.date, rules: OutreachRules) -> int | None:
    """The milestone whose day is today, or passed less than catch_up_days ago; else None.
    ``today`` is the bureau's local date (BureauClock.today()), never the host's."""
    if person.born_on is None:
        return None
    ages = rules.for_division(person.division).age_allowance
    catch_up = dt.timedelta(days=ages.catch_up_days)
    for milestone in ages.milestones:
        day = months.anniversary(person.born_on, milestone)
        if day <= today < day + catch_up:
            return milestone
    return None


def judge(person: Person, today: dt.date, rules: OutreachRules) -> Outcome | None:
    if person.died_on is not None and person.died_on <= today:
        return None
    milestone = milestone_due(person, today, rules)
    if milestone is None or person.born_on is None:
        return None
    # Already paid at a lower band: the case raises the band rather than starting it.
    code = (
        ReasonCode.AGE_MILESTONE_BAND_RAISE
        if Benefit.AGE_ALLOWANCE in person.benefits
        else ReasonCode.AGE_MILESTONE
    )
    reason = Reason.of(
        code,
        age=Count(milestone),
        birthday=Day(months.anniversary(person.born_on, milestone)),
    )
    return Outcome(
        kind=Kind.AGE_ALLOWANCE,
        action=Action.PROACTIVE_CASE,
        department=DEPARTMENT,
        matter=MATTER,
        division=person.division,
        reason=reason,
        dedup_key=dedup_key(person, milestone),
        dedup_scope=DedupScope.EVER,
        household_file=person.household_file,
        person=person.key,
    )
