import datetime as dt

from services.ingest.judging import illness_poverty, monitoring
from services.ingest.judging.household import Identification, Identified
from services.ingest.judging.outcomes import (
    Action,
    Count,
    Day,
    DedupScope,
    Kind,
    Matter,
    ReasonCode,
)

from .people import bill, death, household, rules, unemployment

D = dt.date
RULES = rules()
LOW_INCOME = Identified(Identification.LOW_INCOME, since=D(2026, 3, 10))
DIBAO = Identified(Identification.DIBAO, since=D(2025, 1, 5), last_reviewed_on=D(2026, 8, 31))
DIBAO_UNSTABLE = Identified(
    Identification.DIBAO, since=D(2025, 1, 5), last_reviewed_on=D(2026, 8, 31), income_unstable=True
)


def test_a_low_income_household_is_due_twelve_months_after_identification():
    h = household(1, 2, identified=(LOW_INCOME,))
    assert monitoring.scheduled(h, D(2027, 3, 9), RULES) == []
    (review,) = monitoring.scheduled(h, D(2027, 3, 10), RULES)
    assert review.kind is Kind.IDENTIFICATION_REVIEW
    assert review.action is Action.WARNING
    assert (review.department, review.matter) == ("assistance", "assistance.low_income")
    assert review.caused_by == ()
    assert review.reason.code is ReasonCode.REVIEW_DUE
    assert review.reason.arg("matter") == Matter("assistance.low_income")
    assert review.reason.arg("last") == Day(D(2026, 3, 10))
    assert review.reason.arg("due") == Day(D(2027, 3, 10))
    assert review.reason.arg("interval_months") == Count(12)
    # Still due after the day until it is done.
    assert len(monitoring.scheduled(h, D(2027, 5, 1), RULES)) == 1


def test_dibao_counts_from_the_last_review_and_unstable_income_every_six_months():
    stable = household(1, identified=(DIBAO,))
    assert monitoring.scheduled(stable, D(2027, 8, 30), RULES) == []
    assert len(monitoring.scheduled(stable, D(2027, 8, 31), RULES)) == 1
    unstable = household(1, identified=(DIBAO_UNSTABLE,))
    # Six months after 31 August is the last day of February.
    assert monitoring.due_on(DIBAO_UNSTABLE, RULES.for_division("320585").review) == D(2027, 2, 28)
    assert monitoring.scheduled(unstable, D(2027, 2, 27), RULES) == []
    (review,) = monitoring.scheduled(unstable, D(2027, 2, 28), RULES)
    assert review.reason.arg("interval_months") == Count(6)


def test_identified_on_29_february_is_due_on_28_february_a_year_on():
    leap = Identified(Identification.HARDSHIP, since=D(2028, 2, 29))
    h = household(1, identified=(leap,))
    assert monitoring.scheduled(h, D(2029, 2, 27), RULES) == []
    assert monitoring.scheduled(h, D(2029, 2, 28), RULES)[0].matter == "assistance.hardship"


def test_the_per_division_interval_applies():
    h = household(1, identified=(LOW_INCOME,), division="110101")
    longer = rules('["11".review]\nlow_income_months = 24\n')
    assert monitoring.scheduled(h, D(2027, 3, 10), longer) == []
    assert len(monitoring.scheduled(h, D(2028, 3, 10), longer)) == 1
    assert (
        len(monitoring.scheduled(household(1, identified=(LOW_INCOME,)), D(2027, 3, 10), longer))
        == 1
    )


def test_an_unidentified_household_is_never_scheduled():
    assert monitoring.scheduled(household(1), D(2040, 1, 1), RULES) == []


def test_a_members_unemployment_brings_every_identifications_review_forward():
    h = household(1, 2, identified=(LOW_INCOME, DIBAO))
    record = unemployment(2, D(2026, 5, 1))
    reviews = monitoring.early(h, [record], RULES)
    assert [r.matter for r in reviews] == ["assistance.low_income", "assistance.dibao"]
    for review in reviews:
        assert review.reason.code is ReasonCode.REVIEW_EARLY
        assert review.reason.detail_codes() == (ReasonCode.MEMBER_UNEMPLOYED,)
        assert review.reason.details[0].arg("registered_on") == Day(D(2026, 5, 1))
        assert review.caused_by == (record.source,)


def test_an_early_and_a_scheduled_review_are_one_open_review():
    h = household(1, 2, identified=(LOW_INCOME,))
    (early,) = monitoring.early(h, [death(1, D(2027, 3, 1))], RULES)
    (due,) = monitoring.scheduled(h, D(2027, 3, 10), RULES)
    assert early.reason.detail_codes() == (ReasonCode.MEMBER_DIED,)
    assert early.dedup_key == due.dedup_key == "review:HF-0000000001:assistance.low_income"
    assert early.dedup_scope is DedupScope.WHILE_OPEN


def test_records_about_others_or_for_households_not_identified_bring_nothing():
    identified = household(1, 2, identified=(LOW_INCOME,))
    assert monitoring.early(identified, [unemployment(9, D(2026, 5, 1))], RULES) == []
    assert monitoring.early(household(1, 2), [unemployment(1, D(2026, 5, 1))], RULES) == []


def test_large_medical_spending_brings_it_forward_only_with_a_new_bill_over_a_line():
    h = household(1, 2, identified=(LOW_INCOME,))
    today = D(2026, 12, 1)
    old = bill(1, D(2026, 3, 1), 5_000_001)
    new = bill(2, D(2026, 11, 30), 100)
    spending = illness_poverty.assess(h, [old, new], today, RULES)
    (review,) = monitoring.early(h, [new], RULES, spending)
    assert review.reason.detail_codes() == (ReasonCode.LARGE_MEDICAL_SPENDING,)
    assert review.caused_by == (new.source,)
    # The same spending with no bill just pushed (an old warning) brings nothing.
    assert monitoring.early(h, [], RULES, spending) == []
    below = illness_poverty.assess(h, [new], today, RULES)
    assert monitoring.early(h, [new], RULES, below) == []


def test_several_triggers_make_one_review_naming_each():
    h = household(1, 2, identified=(LOW_INCOME,))
    records = [unemployment(1, D(2026, 5, 1)), death(2, D(2026, 6, 1))]
    (review,) = monitoring.early(h, records, RULES)
    assert review.reason.detail_codes() == (ReasonCode.MEMBER_UNEMPLOYED, ReasonCode.MEMBER_DIED)
    assert review.caused_by == tuple(r.source for r in records)


def test_a_jurisdiction_can_switch_a_trigger_off():
    h = household(1, 2, identified=(LOW_INCOME,))
    only_deaths = rules('["3205".review]\nearly_on = ["death"]\n')
    assert monitoring.early(h, [unemployment(1, D(2026, 5, 1))], only_deaths) == []
    assert len(monitoring.early(h, [death(1, D(2026, 5, 1))], only_deaths)) == 1
