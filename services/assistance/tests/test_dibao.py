import pytest

from gateway.rendering import Renderer
from services.assistance import dibao, standards
from services.assistance.standards import Standard

EN = Renderer("en")

SUZHOU = Standard(94500, "3205")


def test_household_below_the_standard_is_eligible():
    result = dibao.assess([80000, 60000], SUZHOU)
    assert result.eligible
    assert result.per_capita_income_fen == 70000
    assert "below the 苏州市 standard of 945.00 yuan" in EN.text(result.finding)
    assert "低于苏州市标准945.00元" in Renderer("zh-CN").text(result.finding)


def test_household_exactly_at_the_standard_is_not_eligible():
    result = dibao.assess([94500, 94500, 94500], SUZHOU)
    assert not result.eligible
    assert result.per_capita_income_fen == 94500
    assert "not below" in EN.text(result.finding)


def test_one_fen_below_the_standard_in_total_is_eligible():
    # 283,499 fen over 3 people is 94,499.67 per person: below, though it rounds to 94,500.
    result = dibao.assess([94500, 94500, 94499], SUZHOU)
    assert result.eligible
    assert result.per_capita_income_fen == 94500


def test_no_income_at_all_is_eligible():
    assert dibao.assess([0], SUZHOU).eligible


def test_empty_household_and_negative_income_are_programming_errors():
    with pytest.raises(ValueError):
        dibao.assess([], SUZHOU)
    with pytest.raises(ValueError):
        dibao.assess([-1], SUZHOU)


def test_standards_take_the_longest_matching_prefix():
    table = standards.parse(
        """
        [default]
        dibao = 700
        disability_living = 100
        disability_care = 100
        ["32"]
        dibao = 800
        ["3205"]
        dibao = 945
        ["320585"]
        dibao = 1000.5
        """
    )
    assert table.for_division("320585") == Standard(100050, "320585")
    assert table.for_division("320583") == Standard(94500, "3205")
    assert table.for_division("320100") == Standard(80000, "32")
    assert table.for_division("110101") == Standard(70000, "")


def test_shipped_standards_load_and_cover_suzhou():
    table = standards.load()
    assert table.for_division("320585").fen_per_person == 94500


DEFAULTS = "[default]\ndibao = 700\ndisability_living = 100\ndisability_care = 100\n"


@pytest.mark.parametrize(
    "text",
    [
        DEFAULTS + '["3"]\ndibao = 1',
        DEFAULTS.replace("700", "0"),
        DEFAULTS + '["32"]\ntypo = 5',
        "[default]\ndibao = 700\n",
    ],
)
def test_malformed_standards_are_refused(text):
    with pytest.raises(ValueError):
        standards.parse(text)
