import datetime as dt

from services.ingest.judging import judgement
from services.ingest.judging.household import Benefit, Identification, Identified, Person
from services.ingest.judging.outcomes import Kind

from .people import bill, death, grade, household, key, person, rules, unemployment

D = dt.date
TODAY = D(2027, 6, 15)
RULES = rules()


def known(*people: Person):
    return {p.key: p for p in people}


def test_a_batch_is_matched_judged_and_the_unknown_kept_aside():
    h = household(1, 2, identified=(Identified(Identification.LOW_INCOME, D(2026, 12, 1)),))
    persons = known(
        person(1, benefits=(Benefit.DIBAO,)),
        person(2, benefits=(Benefit.DISABILITY_SUBSIDY,)),
    )
    held = bill(1, D(2027, 1, 10), 4_000_000)
    pushed = [
        bill(2, D(2027, 6, 1), 1_000_001),
        grade(2, 1, D(2027, 6, 2)),
        death(1, D(2027, 6, 10)),
        unemployment(7, D(2027, 6, 3)),
    ]
    result = judgement.judge_batch(
        pushed, persons, {h.file_id: h}, {h.file_id: [held]}, TODAY, RULES
    )
    assert [o.kind for o in result.outcomes] == [
        Kind.DISABILITY_SUBSIDY_REVIEW,
        Kind.AFTER_DEATH_SETTLEMENT,
        Kind.ILLNESS_POVERTY_RISK,
        Kind.IDENTIFICATION_REVIEW,
    ]
    risk = result.outcomes[2]
    assert risk.caused_by == (held.source, pushed[0].source)
    review = result.outcomes[3]
    assert set(review.caused_by) == {pushed[0].source, pushed[2].source}
    assert result.matched == tuple((r.source, r.person) for r in pushed[:3])
    assert result.unmatched == (pushed[3],)


def test_old_bills_outside_the_window_raise_nothing_even_over_a_line_held_already():
    h = household(1)
    held = bill(1, D(2027, 1, 10), 6_000_000)
    stale = bill(1, D(2025, 1, 10), 100)
    result = judgement.judge_batch(
        [stale], known(person(1)), {h.file_id: h}, {h.file_id: [held]}, TODAY, RULES
    )
    assert result.outcomes == ()
    assert result.matched == ((stale.source, key(1)),)


def test_a_pushed_bill_already_stored_counts_once():
    h = household(1)
    new = bill(1, D(2027, 6, 1), 3_000_000)
    result = judgement.judge_batch(
        [new], known(person(1)), {h.file_id: h}, {h.file_id: [new, new]}, TODAY, RULES
    )
    assert result.outcomes == ()


def test_the_daily_sweep_brings_milestones_and_due_reviews():
    h = household(1, identified=(Identified(Identification.DIBAO, D(2026, 6, 15)),))
    eighty = person(1, born_on=D(1947, 6, 15))
    younger = person(2, born_on=D(1960, 6, 15))
    kinds = [o.kind for o in judgement.daily([eighty, younger], [h], TODAY, RULES)]
    assert kinds == [Kind.AGE_ALLOWANCE, Kind.IDENTIFICATION_REVIEW]
    assert judgement.daily([eighty], [h], D(2027, 6, 14), RULES) == ()
