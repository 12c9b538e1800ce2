import datetime as dt

from services.ingest.judging import disability
from services.ingest.judging.household import Benefit
from services.ingest.judging.outcomes import (
    Action,
    Count,
    Day,
    DedupScope,
    Kind,
    ReasonCode,
)

from .people import grade, person

D = dt.date
HOLDER = person(1, benefits=(Benefit.DISABILITY_SUBSIDY,))


def test_a_holders_new_grade_asks_assistance_to_review_the_two_subsidies():
    change = grade(1, 3, D(2027, 4, 1))
    review = disability.judge(change, HOLDER)
    assert review is not None
    assert review.kind is Kind.DISABILITY_SUBSIDY_REVIEW
    assert review.action is Action.WARNING
    assert (review.department, review.matter) == ("assistance", "assistance.disability_subsidy")
    assert review.caused_by == (change.source,)
    assert review.reason.code is ReasonCode.DISABILITY_GRADE_CHANGED
    assert review.reason.arg("grade") == Count(3)
    assert review.reason.arg("changed_on") == Day(D(2027, 4, 1))
    # Grade 3 is outside the care subsidy's grades 1 and 2: the review may stop it.
    assert review.reason.detail_codes() == (ReasonCode.OUTSIDE_CARE_SUBSIDY_GRADES,)


def test_grade_two_is_within_the_care_subsidy():
    review = disability.judge(grade(1, 2, D(2027, 4, 1)), HOLDER)
    assert review is not None
    assert review.reason.detail_codes() == (ReasonCode.WITHIN_CARE_SUBSIDY_GRADES,)


def test_no_subsidy_held_no_review():
    assert disability.judge(grade(1, 1, D(2027, 4, 1)), person(1)) is None
    other = person(1, benefits=(Benefit.DIBAO, Benefit.SENIOR_CARD))
    assert disability.judge(grade(1, 1, D(2027, 4, 1)), other) is None


def test_one_review_per_assessment_a_later_one_is_another():
    a = disability.judge(grade(1, 3, D(2027, 4, 1)), HOLDER)
    again = disability.judge(grade(1, 3, D(2027, 4, 1)), HOLDER)
    later = disability.judge(grade(1, 2, D(2028, 4, 1)), HOLDER)
    assert a is not None and again is not None and later is not None
    assert a.dedup_key == again.dedup_key
    assert later.dedup_key != a.dedup_key
    assert a.dedup_scope is DedupScope.EVER
