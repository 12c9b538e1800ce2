"""Every reason the rules give is a case.v1 TextCode and reads in zh-CN and en from the
gateway's catalogs (gateway/texts/*.toml), its placeholders filled by the arguments the rule
gives, rendered by the gateway's own Renderer."""

import datetime as dt
import re

import pytest

from gateway.rendering import Renderer, load, placeholders
from onedoor.case.v1 import case_pb2
from services.ingest.judging import (
    after_death,
    age_allowance,
    disability,
    illness_poverty,
    monitoring,
)
from services.ingest.judging.household import Benefit, Identification, Identified
from services.ingest.judging.outcomes import Reason, ReasonCode

from .people import bill, death, grade, household, person, rules, unemployment

D = dt.date
LANGUAGES = ("zh-CN", "en")


def template(language: str, code: ReasonCode) -> str:
    return load(language).entry("texts", code.value)


def every_reason() -> list[Reason]:
    r = rules()
    today = D(2027, 6, 15)
    h = household(1, 2, identified=(Identified(Identification.DIBAO, D(2026, 6, 15)),))
    big = [bill(1, D(2027, 1, 10), 6_000_000)]
    spending = illness_poverty.assess(h, big, today, r)
    outcomes = [
        illness_poverty.outcome(spending),
        after_death.judge(death(1, D(2027, 6, 1)), person(1, benefits=tuple(Benefit))),
        disability.judge(grade(1, 2, today), person(1, benefits=(Benefit.DISABILITY_SUBSIDY,))),
        disability.judge(grade(1, 4, today), person(1, benefits=(Benefit.DISABILITY_SUBSIDY,))),
        *monitoring.scheduled(h, today, r),
        *monitoring.early(h, [unemployment(1, today), death(2, today), *big], r, spending),
        age_allowance.judge(person(1, born_on=D(1947, 6, 15)), today, r),
        age_allowance.judge(
            person(1, born_on=D(1937, 6, 15), benefits=(Benefit.AGE_ALLOWANCE,)), today, r
        ),
    ]
    found: list[Reason] = []

    def walk(reason: Reason) -> None:
        found.append(reason)
        for detail in reason.details:
            walk(detail)

    for outcome in outcomes:
        assert outcome is not None
        walk(outcome.reason)
    return found


def render(reason: Reason, language: str) -> str:
    return Renderer(language).text(reason.text())


def test_every_code_is_a_text_code_in_both_languages_with_the_same_placeholders():
    for code in ReasonCode:
        assert case_pb2.TextCode.Name(code.text_code) == code.text_code_name
        assert placeholders(template("zh-CN", code)) == placeholders(template("en", code)), code


def test_the_scenario_gives_every_code():
    assert {r.code for r in every_reason()} == set(ReasonCode)


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_each_reason_fills_exactly_its_placeholders(language):
    for reason in every_reason():
        said = template(language, reason.code)
        assert placeholders(said) == {name for name, _ in reason.args}, reason.code


def test_the_chinese_reads_without_latin_words():
    for reason in every_reason():
        said = render(reason, "zh-CN")
        assert not re.search(r"[A-Za-z]", said), said


def test_an_illness_warning_reads_with_its_amounts_and_line():
    (reason, *_) = every_reason()
    assert render(reason, "zh-CN") == (
        "2026-06-16至2027-06-15家庭医疗费用个人自付60,000.00元（1笔结算），有因病致贫风险："
        "超过家庭年收入100,000.00元的50%（50,000.00元）；超过50,000.00元"
    )
    assert render(reason, "en").startswith(
        "out-of-pocket medical spending of 60,000.00 yuan from 2026-06-16 to 2027-06-15"
    )
