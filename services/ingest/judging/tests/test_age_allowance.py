import datetime as dt

from services.common import identity
from services.common.clock import fixed
from services.ingest.judging import age_allowance, months
from services.ingest.judging.household import Benefit
from services.ingest.judging.outcomes import Action, Count, Day, DedupScope, Kind, ReasonCode

from .people import person, rules

D = dt.date
RULES = rules()
BORN = D(1947, 12, 2)


def test_on_the_80th_birthday_an_age_allowance_case_opens_for_the_person_to_confirm():
    case = age_allowance.judge(person(1, born_on=BORN), D(2027, 12, 2), RULES)
    assert case is not None
    assert case.kind is Kind.AGE_ALLOWANCE
    assert case.action is Action.PROACTIVE_CASE
    assert (case.department, case.matter) == ("elderly", "elderly.age_allowance")
    assert case.reason.code is ReasonCode.AGE_MILESTONE
    assert case.reason.arg("age") == Count(80)
    assert case.reason.arg("birthday") == Day(D(2027, 12, 2))
    assert case.caused_by == ()


def test_the_day_before_nothing():
    assert age_allowance.judge(person(1, born_on=BORN), D(2027, 12, 1), RULES) is None


def test_ninety_and_a_hundred_and_nothing_at_eighty_five():
    for age in (90, 100):
        case = age_allowance.judge(person(1, born_on=BORN), months.anniversary(BORN, age), RULES)
        assert case is not None
        assert case.reason.arg("age") == Count(age)
    assert age_allowance.judge(person(1, born_on=BORN), D(2032, 12, 2), RULES) is None


def test_already_paid_at_eighty_ninety_raises_the_band():
    paid = person(1, born_on=D(1937, 12, 2), benefits=(Benefit.AGE_ALLOWANCE,))
    case = age_allowance.judge(paid, D(2027, 12, 2), RULES)
    assert case is not None
    assert case.reason.code is ReasonCode.AGE_MILESTONE_BAND_RAISE


def test_a_missed_day_still_opens_within_the_catch_up_and_not_after():
    p = person(1, born_on=BORN)
    assert age_allowance.judge(p, D(2027, 12, 31), RULES) is not None  # day 30 (29 after)
    assert age_allowance.judge(p, D(2028, 1, 1), RULES) is None  # 30 days after: too late


def test_one_case_per_person_and_age_whatever_day_it_is_judged():
    p = person(1, born_on=BORN)
    first = age_allowance.judge(p, D(2027, 12, 2), RULES)
    next_day = age_allowance.judge(p, D(2027, 12, 3), RULES)
    ninety = age_allowance.judge(p, D(2037, 12, 2), RULES)
    assert first is not None and next_day is not None and ninety is not None
    assert first.dedup_key == next_day.dedup_key == f"age_allowance:{p.key.hex()}:80"
    assert ninety.dedup_key != first.dedup_key
    assert first.dedup_scope is DedupScope.EVER


def test_born_on_29_february_turns_80_on_1_march_in_a_common_year():
    leapling = person(1, born_on=D(1948, 2, 29))
    # 2028 is a leap year: the birthday itself.
    assert age_allowance.judge(leapling, D(2028, 2, 28), RULES) is None
    assert age_allowance.judge(leapling, D(2028, 2, 29), RULES) is not None
    # 2038 is not: 28 February is still 89, 1 March is 90, as identity.age_on counts, so the
    # elderly department checking the age on the day the case opens agrees.
    assert age_allowance.judge(leapling, D(2038, 2, 28), RULES) is None
    case = age_allowance.judge(leapling, D(2038, 3, 1), RULES)
    assert case is not None
    assert case.reason.arg("birthday") == Day(D(2038, 3, 1))
    number = identity.compose("320585", D(1948, 2, 29), 123)
    assert identity.age_on(number, D(2038, 2, 28)) == 89
    assert identity.age_on(number, D(2038, 3, 1)) == 90


def test_on_the_bureaus_date_not_the_hosts():
    # 16:30 UTC on 1 December is 00:30 on 2 December in Shanghai: the birthday has come.
    clock = fixed(dt.datetime(2027, 12, 1, 16, 30, tzinfo=dt.UTC))
    assert age_allowance.judge(person(1, born_on=BORN), clock.today(), RULES) is not None
    # The host's UTC date (1 December) is still the day before: judged by it, nothing would
    # open yet.
    assert age_allowance.judge(person(1, born_on=BORN), D(2027, 12, 1), RULES) is None


def test_the_dead_get_no_case():
    assert (
        age_allowance.judge(person(1, born_on=BORN, died_on=D(2027, 11, 1)), D(2027, 12, 2), RULES)
        is None
    )


def test_a_jurisdictions_own_milestones():
    earlier = rules('["3205".age_allowance]\nmilestones = [70, 80]\n')
    seventy = person(1, born_on=D(1957, 12, 2))
    assert age_allowance.judge(seventy, D(2027, 12, 2), earlier) is not None
    assert (
        age_allowance.judge(
            person(1, born_on=D(1957, 12, 2), division="110101"), D(2027, 12, 2), earlier
        )
        is None
    )
    assert age_allowance.judge(person(1, born_on=D(1927, 12, 2)), D(2027, 12, 2), earlier) is None
