"""Every rule at once, as the ingest service calls them: on a batch of pushed records, and once
a day over the persons and households the platform knows. Still pure: the caller reads what the
platform knows, and stores the outcomes under their dedup keys."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from services.ingest.judging import (
    after_death,
    age_allowance,
    disability,
    illness_poverty,
    monitoring,
)
from services.ingest.judging.household import Household, Person
from services.ingest.judging.outcomes import Outcome
from services.ingest.judging.outreach_rules import OutreachRules
from services.ingest.judging.records import (
    Death,
    DisabilityGrade,
    MedicalExpense,
    PersonKey,
    Record,
    RecordId,
)


@dataclass(frozen=True)
class Judgement:
    outcomes: tuple[Outcome, ...]
    # (record, person) for each record that named a known person: each match is audited.
    matched: tuple[tuple[RecordId, PersonKey], ...]
    # Records naming nobody the platform knows: kept for the retention period.
    unmatched: tuple[Record, ...]


def judge_batch(
    pushed: Sequence[Record],
    persons: Mapping[PersonKey, Person],
    households: Mapping[str, Household],
    bills_held: Mapping[str, Iterable[MedicalExpense]],
    today: dt.date,
    rules: OutreachRules,
) -> Judgement:
    """The outcomes of ``pushed`` (the records just accepted, in order). ``persons``: the known
    persons the records name; ``households``: their files by id; ``bills_held``: per file, the
    members' bills already stored for the illness window (the pushed ones may be among them:
    each record counts once). ``today``: the bureau's local date."""
    outcomes: list[Outcome] = []
    matched: list[tuple[RecordId, PersonKey]] = []
    unmatched: list[Record] = []
    by_household: dict[str, list[Record]] = {}
    for record in pushed:
        person = persons.get(record.person)
        if person is None:
            unmatched.append(record)
            continue
        matched.append((record.source, person.key))
        if isinstance(record, Death):
            found = after_death.judge(record, person)
        elif isinstance(record, DisabilityGrade):
            found = disability.judge(record, person)
        else:
            found = None
        if found is not None:
            outcomes.append(found)
        if person.household_file is not None and person.household_file in households:
            by_household.setdefault(person.household_file, []).append(record)
    for file_id, records in by_household.items():
        household = households[file_id]
        bills = [r for r in records if isinstance(r, MedicalExpense)]
        spending = None
        if bills:
            spending = illness_poverty.assess(
                household, [*bills_held.get(file_id, ()), *bills], today, rules
            )
            # A warning only when a bill just pushed is among those counted: a batch of old
            # bills outside the window says nothing new.
            counted = {e.source for e in spending.expenses}
            if spending.above and any(b.source in counted for b in bills):
                outcomes.append(illness_poverty.outcome(spending))
        outcomes.extend(monitoring.early(household, records, rules, spending))
    return Judgement(tuple(outcomes), tuple(matched), tuple(unmatched))


def daily(
    persons: Iterable[Person], households: Iterable[Household], today: dt.date, rules: OutreachRules
) -> tuple[Outcome, ...]:
    """What the calendar brings on ``today``: age milestones and reviews due. Run once a day
    (or more: the dedup keys make a repeat add nothing)."""
    outcomes = [o for p in persons if (o := age_allowance.judge(p, today, rules)) is not None]
    for household in households:
        outcomes.extend(monitoring.scheduled(household, today, rules))
    return tuple(outcomes)
