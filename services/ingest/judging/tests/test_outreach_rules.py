from fractions import Fraction

import pytest

from services.ingest.judging import outreach_rules
from services.ingest.judging.household import Identification
from services.ingest.judging.outreach_rules import EarlyTrigger, RulesError

from .people import RULES_TOML


def test_the_shipped_file_loads_with_its_overrides():
    rules = outreach_rules.load()
    assert rules.for_division("110101").division == ""
    suzhou = rules.for_division("320506")
    assert suzhou.division == "3205"
    assert suzhou.illness_poverty.income_share == Fraction(2, 5)
    # Taicang sets only its retention and takes Suzhou's illness lines, not the default's.
    taicang = rules.for_division("320585")
    assert taicang.unmatched.retention_days == 365
    assert taicang.illness_poverty == suzhou.illness_poverty
    assert taicang.review == rules.for_division("110101").review


def test_the_longest_prefix_wins_and_each_table_sets_only_what_differs():
    rules = outreach_rules.parse(
        RULES_TOML
        + """
        ["32".illness_poverty]
        absolute_yuan = 30000
        ["3205".illness_poverty]
        income_share = "0.3"
        ["320585".review]
        dibao_months = 24
        early_on = []
        """
    )
    default, jiangsu, suzhou, taicang = (
        rules.for_division(d) for d in ("110101", "320102", "320506", "320585")
    )
    assert default.illness_poverty.absolute_fen == 5_000_000
    assert jiangsu.illness_poverty.absolute_fen == 3_000_000
    assert jiangsu.illness_poverty.income_share == Fraction(1, 2)
    assert suzhou.illness_poverty.absolute_fen == 3_000_000
    assert suzhou.illness_poverty.income_share == Fraction(3, 10)
    assert taicang.illness_poverty == suzhou.illness_poverty
    assert taicang.review.dibao_months == 24
    assert taicang.review.early_on == frozenset()
    assert taicang.review.hardship_months == 12
    assert suzhou.review.early_on == frozenset(EarlyTrigger)


def test_a_decimal_share_is_exact_not_the_nearest_float():
    rules = outreach_rules.parse(RULES_TOML.replace("income_share = 0.5", "income_share = 0.1"))
    assert rules.for_division("110101").illness_poverty.income_share == Fraction(1, 10)


def test_review_intervals_by_identification():
    review = outreach_rules.parse(RULES_TOML).for_division("110101").review
    assert review.interval_months(Identification.DIBAO, income_unstable=False) == 12
    assert review.interval_months(Identification.DIBAO, income_unstable=True) == 6
    assert review.interval_months(Identification.LOW_INCOME, income_unstable=True) == 12
    assert review.interval_months(Identification.HARDSHIP, income_unstable=False) == 12


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("income_share = 0.5", "income_share = 1.5"), "[default.illness_poverty] income_share"),
        (("income_share = 0.5", "income_share = 0"), "[default.illness_poverty] income_share"),
        (("income_share = 0.5", 'income_share = "half"'), "[default.illness_poverty] income_share"),
        (("income_share = 0.5", "income_share = true"), "[default.illness_poverty] income_share"),
        (
            ("absolute_yuan = 50000", "absolute_yuan = -1"),
            "[default.illness_poverty] absolute_yuan",
        ),
        (("absolute_yuan = 50000", "absolute_yuan = 0.001"), "whole fen"),
        (("window_months = 12", "window_months = 0"), "[default.illness_poverty] window_months"),
        (("window_months = 12", "window_months = 12.5"), "window_months"),
        (("dibao_months = 12", "dibao_months = 0"), "[default.review] dibao_months"),
        (('"death", ', '"funeral", '), "[default.review] early_on"),
        (("milestones = [80, 90, 100]", "milestones = [80, 80]"), "an age listed twice"),
        (("milestones = [80, 90, 100]", "milestones = []"), "[default.age_allowance] milestones"),
        (("milestones = [80, 90, 100]", "milestones = [8]"), "ages from 60"),
        (("catch_up_days = 30", "catch_up_days = 400"), "[default.age_allowance] catch_up_days"),
        (("retention_days = 180", "retention_days = 0"), "[default.unmatched] retention_days"),
        (("retention_days = 180", "retension_days = 180"), "retension_days: not a setting"),
        (("retention_days = 180\n", ""), "[default.unmatched] retention_days: missing"),
        (("[default.unmatched]", "[default.unmached]"), "[default.unmached]: not a section"),
        (("[default.unmatched]", "[default.unmatched"), "not valid TOML"),
    ],
)
def test_a_bad_default_is_refused_naming_the_key(change, message):
    old, new = change
    assert old in RULES_TOML
    with pytest.raises(RulesError) as refused:
        outreach_rules.parse(RULES_TOML.replace(old, new, 1), source="rules.toml")
    assert message in str(refused.value)
    assert str(refused.value).startswith("rules.toml: ")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ('["3205".illness_poverty]\nincome_share = 2', '["3205".illness_poverty] income_share'),
        ('["3205".review]\nlow_income_months = -3', '["3205".review] low_income_months'),
        ('["3205".age]\nmilestones = [80]', '["3205".age]: not a section'),
        ('["320".review]\ndibao_months = 6', "'320' must be default or a 2, 4 or 6-digit prefix"),
        ('["suzhou".review]\ndibao_months = 6', "'suzhou' must be default"),
        ('["3205"]\nreview = 6', '["3205".review]: must be a table'),
    ],
)
def test_a_bad_override_is_refused_naming_its_table(override, message):
    with pytest.raises(RulesError, match=None) as refused:
        outreach_rules.parse(RULES_TOML + override)
    assert message in str(refused.value)


def test_without_defaults_nothing_loads():
    with pytest.raises(RulesError, match=r"\[default\] tables are missing"):
        outreach_rules.parse('["3205".unmatched]\nretention_days = 30')
