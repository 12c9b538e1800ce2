import datetime as dt

import pytest

from services.ingest.judging import after_death
from services.ingest.judging.household import Benefit
from services.ingest.judging.outcomes import (
    Action,
    Day,
    DedupScope,
    Departments,
    Kind,
    Matter,
    ReasonCode,
)

from .people import death, person

D = dt.date


def test_a_beneficiarys_death_prompts_the_joint_settlement_to_registry():
    died = death(1, D(2027, 3, 4))
    prompt = after_death.judge(died, person(1, benefits=(Benefit.DIBAO, Benefit.AGE_ALLOWANCE)))
    assert prompt is not None
    assert prompt.kind is Kind.AFTER_DEATH_SETTLEMENT
    # A prompt for an officer to confirm, not a case: nothing stops on a push.
    assert prompt.action is Action.WARNING
    assert (prompt.department, prompt.matter) == ("registry", "registry.death")
    assert prompt.caused_by == (died.source,)
    assert prompt.person == died.person
    reason = prompt.reason
    assert reason.code is ReasonCode.DEATH_OF_BENEFICIARY
    assert reason.arg("died_on") == Day(D(2027, 3, 4))
    assert reason.arg("departments") == Departments(("registry", "assistance", "elderly"))
    assert [d.arg("matter") for d in reason.details] == [
        Matter("assistance.dibao"),
        Matter("elderly.age_allowance"),
    ]


def test_a_senior_card_alone_is_enough():
    prompt = after_death.judge(death(1, D(2027, 3, 4)), person(1, benefits=(Benefit.SENIOR_CARD,)))
    assert prompt is not None
    assert prompt.reason.arg("departments") == Departments(("registry", "elderly"))


def test_nothing_held_nothing_to_settle():
    assert after_death.judge(death(1, D(2027, 3, 4)), person(1)) is None


def test_a_death_the_platform_already_knows_is_not_prompted_again():
    known = person(1, benefits=(Benefit.DIBAO,), died_on=D(2027, 3, 4))
    assert after_death.judge(death(1, D(2027, 3, 4)), known) is None


def test_two_agencies_reporting_one_death_make_one_open_prompt():
    holder = person(1, benefits=(Benefit.DIBAO,))
    a = after_death.judge(death(1, D(2027, 3, 4)), holder)
    b = after_death.judge(death(1, D(2027, 3, 4)), holder)
    assert a is not None and b is not None
    assert a.caused_by != b.caused_by
    assert a.dedup_key == b.dedup_key == f"after_death:{holder.key.hex()}"
    assert a.dedup_scope is DedupScope.WHILE_OPEN


def test_the_record_must_name_the_person_given():
    with pytest.raises(ValueError, match="person"):
        after_death.judge(death(2, D(2027, 3, 4)), person(1, benefits=(Benefit.DIBAO,)))
