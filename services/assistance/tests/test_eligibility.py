import datetime as dt

from google.protobuf.timestamp_pb2 import Timestamp

from gateway.rendering import Renderer
from onedoor.case.v1 import case_pb2
from onedoor.department.v1 import department_service_pb2 as dpb
from services.assistance import eligibility
from services.assistance.economic_check import FakeBank, consent_gap
from services.assistance.standards import Standard
from services.common.identity import compose

SUZHOU = Standard(94500, "3205")
CHECKED = dpb.EconomicCheck(performed=True, assets_fen=0, limit_fen=10**9, within_limit=True)
A = compose("320585", dt.date(1960, 1, 1), 11)
B = compose("320585", dt.date(1962, 1, 1), 22)
NOW = dt.datetime(2026, 11, 24, tzinfo=dt.UTC)

EN = Renderer("en")


def household_case(consent_for=(A, B), by=A, when=NOW - dt.timedelta(days=1)) -> case_pb2.Case:
    stamp = Timestamp()
    stamp.FromDatetime(when)
    return case_pb2.Case(
        household_members=[
            case_pb2.HouseholdMember(id_number=A),
            case_pb2.HouseholdMember(id_number=B),
        ],
        details=case_pb2.MatterDetails(
            economic_check_consent=case_pb2.EconomicCheckConsent(
                consenting_id_number=by, consent_time=stamp, member_id_numbers=list(consent_for)
            )
        ),
    )


def test_consent_covering_every_member_allows_the_check():
    assert consent_gap(household_case(), NOW) is None


def test_consent_for_one_of_two_members_does_not():
    assert "1 of 2" in EN.text(consent_gap(household_case(consent_for=(A,)), NOW))


def test_consent_from_outside_the_household_or_from_the_future_does_not():
    outsider = compose("320585", dt.date(1970, 1, 1), 33)
    assert EN.text(consent_gap(household_case(by=outsider), NOW)) == (
        "the consent was not given by a member of the household"
    )
    assert "future" in EN.text(consent_gap(household_case(when=NOW + dt.timedelta(hours=1)), NOW))
    assert "no consent" in EN.text(consent_gap(case_pb2.Case(), NOW))


def test_dibao_needs_the_check_and_assets_within_the_limit():
    assert eligibility.assess_dibao([50000], SUZHOU, CHECKED).eligible
    not_run = eligibility.assess_dibao(
        [50000],
        SUZHOU,
        dpb.EconomicCheck(performed=False, message=consent_gap(case_pb2.Case(), NOW)),
    )
    assert not not_run.eligible and "not run" in EN.clauses(not_run.findings)
    rich = dpb.EconomicCheck(performed=True, assets_fen=10**9, limit_fen=100, within_limit=False)
    assert not eligibility.assess_dibao([50000], SUZHOU, rich).eligible


def test_dibao_household_exactly_at_the_standard_is_not_eligible():
    assert not eligibility.assess_dibao([94500, 94500], SUZHOU, CHECKED).eligible


def test_hardship_needs_no_supporter_and_incapacity():
    facts = case_pb2.HardshipFacts(has_legal_supporter=False, unable_to_work=True)
    assert eligibility.assess_hardship([0], SUZHOU, facts, CHECKED).eligible
    supported = case_pb2.HardshipFacts(has_legal_supporter=True, unable_to_work=True)
    assert not eligibility.assess_hardship([0], SUZHOU, supported, CHECKED).eligible
    able = case_pb2.HardshipFacts(has_legal_supporter=False, unable_to_work=False)
    assert not eligibility.assess_hardship([0], SUZHOU, able, CHECKED).eligible


def test_low_income_line_is_one_and_a_half_standards():
    assert eligibility.assess_low_income([140000], SUZHOU, CHECKED).eligible  # 1,400 < 1,417.50
    assert not eligibility.assess_low_income([141750], SUZHOU, CHECKED).eligible


def test_temporary_assistance_is_capped_at_three_months_of_the_standard():
    assessed = eligibility.assess_temporary(10_000_000, 2, SUZHOU)
    assert assessed.amount_fen == 94500 * 3 * 2
    assert "capped" in EN.clauses(assessed.findings)
    assert eligibility.assess_temporary(100_000, 2, SUZHOU).amount_fen == 100_000


def test_disability_subsidies():
    living, care = Standard(20000, "3205"), Standard(20000, "3205")
    assert eligibility.assess_disability(1, False, living, care).amount_fen == 20000
    assert eligibility.assess_disability(3, True, living, care).amount_fen == 20000
    assert eligibility.assess_disability(2, True, living, care).amount_fen == 40000
    assert not eligibility.assess_disability(3, False, living, care).eligible


def test_fake_bank_reads_its_file_on_every_check(tmp_path):
    holdings = tmp_path / "bank.json"
    bank = FakeBank(holdings)
    assert bank.assets_fen([A]) == 0
    holdings.write_text(f'{{"{A}": 1234}}')
    assert bank.assets_fen([A, B]) == 1234
