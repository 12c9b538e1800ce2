import datetime as dt
from fractions import Fraction

from gateway.rendering import Renderer
from services.ingest.judging import illness_poverty
from services.ingest.judging.illness_poverty import Threshold
from services.ingest.judging.outcomes import (
    Action,
    Amount,
    Count,
    Day,
    DedupScope,
    Kind,
    Percent,
    ReasonCode,
)

from .people import bill, household, rules, source

D = dt.date
TODAY = D(2027, 6, 15)
# Income 100,000 yuan, share 0.5: the share line is 50,000.00 yuan; the absolute line is
# raised out of the way so that each test looks at one line.
SHARE_ONLY = '["32".illness_poverty]\nabsolute_yuan = 1000000\n'
AMOUNT_ONLY = '["32".illness_poverty]\nincome_share = 1\n'


def judge(bills, *, extra=SHARE_ONLY, today=TODAY, **kw):
    return illness_poverty.judge(household(1, 2, **kw), bills, today, rules(extra))


def test_exactly_at_the_share_is_not_above_it():
    assert judge([bill(1, D(2027, 1, 10), 3_000_000), bill(2, D(2027, 5, 1), 2_000_000)]) is None


def test_one_fen_below_the_share_raises_nothing():
    assert judge([bill(1, D(2027, 1, 10), 4_999_999)]) is None


def test_one_fen_above_the_share_warns_assistance_saying_which_line():
    bills = [bill(1, D(2027, 1, 10), 3_000_000), bill(2, D(2027, 5, 1), 2_000_001)]
    warning = judge(bills)
    assert warning is not None
    assert warning.kind is Kind.ILLNESS_POVERTY_RISK
    assert warning.action is Action.WARNING
    assert (warning.department, warning.matter) == ("assistance", "assistance.temporary")
    assert warning.household_file == "HF-0000000001"
    assert warning.division == "320585"
    assert warning.caused_by == tuple(b.source for b in bills)
    reason = warning.reason
    assert reason.code is ReasonCode.ILLNESS_POVERTY_RISK
    assert reason.arg("out_of_pocket") == Amount(5_000_001)
    assert reason.arg("bills") == Count(2)
    assert reason.arg("window_from") == Day(D(2026, 6, 16))
    assert reason.arg("window_to") == Day(TODAY)
    assert reason.detail_codes() == (ReasonCode.SPENDING_ABOVE_INCOME_SHARE,)
    (share,) = reason.details
    assert share.arg("percent") == Percent(Fraction(1, 2))
    assert share.arg("annual_income") == Amount(10_000_000)
    assert share.arg("line") == Amount(5_000_000)


def test_the_share_comparison_is_exact_where_the_line_is_not_whole_fen():
    # 0.3 of 333.33 yuan is 99.999 yuan: 9,999 fen is below it, 10,000 fen above.
    extra = '["32".illness_poverty]\nincome_share = 0.3\nabsolute_yuan = 1000000\n'
    assert judge([bill(1, D(2027, 1, 1), 9_999)], extra=extra, income_fen=33_333) is None
    above = judge([bill(1, D(2027, 1, 1), 10_000)], extra=extra, income_fen=33_333)
    assert above is not None
    assert above.reason.details[0].arg("line") == Amount(9_999)


def test_at_the_absolute_amount_nothing_one_fen_above_a_warning():
    at = [bill(1, D(2027, 1, 10), 5_000_000)]
    assert judge(at, extra=AMOUNT_ONLY) is None
    warning = judge([bill(1, D(2027, 1, 10), 5_000_001)], extra=AMOUNT_ONLY)
    assert warning is not None
    assert warning.reason.detail_codes() == (ReasonCode.SPENDING_ABOVE_AMOUNT,)
    assert warning.reason.details[0].arg("line") == Amount(5_000_000)


def test_both_lines_crossed_are_both_said():
    warning = judge([bill(1, D(2027, 1, 10), 6_000_000)], extra="")
    assert warning is not None
    assert warning.reason.detail_codes() == (
        ReasonCode.SPENDING_ABOVE_INCOME_SHARE,
        ReasonCode.SPENDING_ABOVE_AMOUNT,
    )


def test_without_an_assessed_income_only_the_absolute_amount_counts():
    spending = illness_poverty.assess(
        household(1, income_yuan=None),
        [bill(1, D(2027, 1, 10), 4_000_000)],
        TODAY,
        rules(""),
    )
    assert spending.above == ()
    over = illness_poverty.assess(
        household(1, income_yuan=None),
        [bill(1, D(2027, 1, 10), 5_000_001)],
        TODAY,
        rules(""),
    )
    assert over.above == (Threshold.ABSOLUTE,)


def test_a_household_with_no_income_is_above_its_share_with_any_spending():
    assert judge([bill(1, D(2027, 1, 10), 1)], income_yuan=0) is not None
    assert judge([bill(1, D(2027, 1, 10), 0)], income_yuan=0) is None


def test_the_window_is_after_twelve_months_back_through_today():
    window = illness_poverty.window(TODAY, rules("").for_division("320585").illness_poverty)
    assert window == (D(2026, 6, 15), TODAY)
    big = 5_000_001
    assert judge([bill(1, D(2026, 6, 15), big)]) is None  # 12 months ago to the day: out
    assert judge([bill(1, D(2026, 6, 16), big)]) is not None  # the day after: in
    assert judge([bill(1, TODAY, big)]) is not None  # today: in
    assert judge([bill(1, TODAY + dt.timedelta(days=1), big)]) is None  # tomorrow: out


def test_on_29_february_the_window_starts_after_28_february():
    big = 5_000_001
    leap = D(2028, 2, 29)
    assert illness_poverty.window(leap, rules("").for_division("320585").illness_poverty)[0] == D(
        2027, 2, 28
    )
    assert judge([bill(1, D(2027, 2, 28), big)], today=leap) is None
    assert judge([bill(1, D(2027, 3, 1), big)], today=leap) is not None
    # A year on, 28 February 2029 looks back to 28 February 2028: the 29th is inside.
    assert judge([bill(1, D(2028, 2, 29), big)], today=D(2029, 2, 28)) is not None
    assert judge([bill(1, D(2028, 2, 28), big)], today=D(2029, 2, 28)) is None


def test_a_shorter_configured_window_clamps_month_ends():
    extra = SHARE_ONLY + "window_months = 6\n"
    big = 5_000_001
    assert judge([bill(1, D(2027, 2, 28), big)], extra=extra, today=D(2027, 8, 31)) is None
    assert judge([bill(1, D(2027, 3, 1), big)], extra=extra, today=D(2027, 8, 31)) is not None


def test_only_members_bills_count_and_a_record_pushed_twice_counts_once():
    again = source()
    first = bill(1, D(2027, 1, 10), 3_000_000, source=again)
    repeat = bill(1, D(2027, 1, 10), 3_000_000, source=again)
    stranger = bill(9, D(2027, 1, 10), 3_000_000)
    assert judge([first, repeat, stranger]) is None
    warning = judge([first, repeat, stranger, bill(2, D(2027, 2, 1), 2_000_001)])
    assert warning is not None
    assert warning.reason.arg("out_of_pocket") == Amount(5_000_001)
    assert len(warning.caused_by) == 2


def test_the_per_division_line_applies_to_the_households_division():
    extra = '["3205".illness_poverty]\nincome_share = 0.4\nabsolute_yuan = 1000000\n'
    bills = [bill(1, D(2027, 1, 10), 4_500_000)]
    assert judge(bills, extra=extra, division="320585") is not None  # 0.4: 40,000 yuan
    assert judge(bills, extra=extra + SHARE_ONLY.replace("32", "11"), division="110101") is None


def test_one_open_warning_per_household_whatever_the_bills():
    a = judge([bill(1, D(2027, 1, 10), 5_000_001)])
    b = judge([bill(1, D(2027, 1, 10), 5_000_001), bill(2, D(2027, 3, 1), 100)])
    c = judge([bill(1, D(2027, 1, 10), 5_000_001)], file_id="HF-0000000002")
    assert a is not None and b is not None and c is not None
    assert a.dedup_key == b.dedup_key == "illness_poverty:HF-0000000001"
    assert c.dedup_key != a.dedup_key
    assert a.dedup_scope is DedupScope.WHILE_OPEN


def test_the_reasons_arguments_are_case_v1_text_args():
    warning = judge([bill(1, D(2027, 1, 10), 5_000_001)])
    assert warning is not None
    args = warning.reason.text_args()
    assert args["out_of_pocket"].amount_fen == 5_000_001
    assert args["window_from"].date == "2026-06-16"
    assert warning.reason.details[0].text_args()["percent"].decimal == "50"
    assert warning.reason.code.text_code_name == "TEXT_CODE_ILLNESS_POVERTY_RISK"
    # Each argument renders the gateway's way in both languages, as the clause will.
    assert Renderer("zh-CN").value(args["out_of_pocket"]) == "50,000.01元"
    assert Renderer("en").value(args["out_of_pocket"]) == "50,000.01 yuan"
