"""A disability grade assessed anew for a person holding the disabled persons' two subsidies
(残疾人两项补贴): a review of the subsidies by assistance. The care subsidy follows the grade
(grades 1 and 2, 国发〔2015〕52号), so a new grade may start or stop it."""

from __future__ import annotations

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
from services.ingest.judging.records import DisabilityGrade

DEPARTMENT = "assistance"
MATTER = Benefit.DISABILITY_SUBSIDY.value
CARE_SUBSIDY_GRADES = frozenset({1, 2})


def dedup_key(change: DisabilityGrade) -> str:
    # One review per assessment (person, day, grade), however many agencies report it; a
    # later assessment is a new review.
    return f"disability_review:{change.person.hex()}:{change.changed_on}:{change.grade}"


def judge(change: DisabilityGrade, person: Person) -> Outcome | None:
    if change.person != person.key:
        raise ValueError("person: not the person the grade names")
    if Benefit.DISABILITY_SUBSIDY not in person.benefits or person.died_on is not None:
        return None
    # The category stays on the record (caused_by): case.v1 has no argument kind that names
    # it in the reader's language, and a code shown as it is would be English on a Chinese
    # screen.
    care = (
        ReasonCode.WITHIN_CARE_SUBSIDY_GRADES
        if change.grade in CARE_SUBSIDY_GRADES
        else ReasonCode.OUTSIDE_CARE_SUBSIDY_GRADES
    )
    reason = Reason.of(
        ReasonCode.DISABILITY_GRADE_CHANGED,
        Reason.of(care),
        grade=Count(change.grade),
        changed_on=Day(change.changed_on),
    )
    return Outcome(
        kind=Kind.DISABILITY_SUBSIDY_REVIEW,
        action=Action.WARNING,
        department=DEPARTMENT,
        matter=MATTER,
        division=person.division,
        reason=reason,
        dedup_key=dedup_key(change),
        dedup_scope=DedupScope.EVER,
        household_file=person.household_file,
        person=person.key,
        caused_by=(change.source,),
    )
