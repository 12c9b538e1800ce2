"""A death pushed for a person who holds benefits or a senior card: a prompt to registry to
start the joint "after-death, one thing" settlement (身后一件事). An officer confirms; nothing
is stopped on a push alone, since a pushed record may be wrong or name the wrong person."""

from __future__ import annotations

from services.ingest.judging.household import Person
from services.ingest.judging.outcomes import (
    Action,
    Day,
    DedupScope,
    Departments,
    Kind,
    Matter,
    Outcome,
    Reason,
    ReasonCode,
)
from services.ingest.judging.records import Death

DEPARTMENT = "registry"
MATTER = "registry.death"
# Registry leads the joint matter whatever the person held (the funeral subsidy).
_LEADING = ("registry",)


def dedup_key(death: Death) -> str:
    # One open prompt per person, whichever agencies report the death. Not one ever: a prompt
    # dismissed because the record named the wrong person must not silence the real death
    # later; once a prompt is confirmed the platform knows the death and judge() says None.
    return f"after_death:{death.person.hex()}"


def judge(death: Death, person: Person) -> Outcome | None:
    """The prompt, or None when the person holds nothing the settlement would stop, or when
    the platform already knows of the death (a window registration settles it)."""
    if death.person != person.key:
        raise ValueError("person: not the person the death names")
    if person.died_on is not None or not person.benefits:
        return None
    held = sorted(person.benefits)
    departments = tuple(dict.fromkeys([*_LEADING, *(b.department for b in held)]))
    reason = Reason.of(
        ReasonCode.DEATH_OF_BENEFICIARY,
        *(Reason.of(ReasonCode.HELD_MATTER, matter=Matter(b.value)) for b in held),
        died_on=Day(death.died_on),
        departments=Departments(departments),
    )
    return Outcome(
        kind=Kind.AFTER_DEATH_SETTLEMENT,
        action=Action.WARNING,
        department=DEPARTMENT,
        matter=MATTER,
        division=person.division,
        reason=reason,
        dedup_key=dedup_key(death),
        dedup_scope=DedupScope.WHILE_OPEN,
        household_file=person.household_file,
        person=person.key,
        caused_by=(death.source,),
    )
