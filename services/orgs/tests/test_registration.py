import pytest
from stdnum.cn import uscc

from onedoor.case.v1 import case_pb2 as pb
from services.orgs import registration


def org(**changes) -> pb.Organisation:
    base = {
        "name": "太仓市志愿者协会",
        "kind": pb.ORGANISATION_KIND_SOCIAL_GROUP,
        "registered_capital_fen": 5_000_000,
    }
    return pb.Organisation(**{**base, **changes})


def test_a_sound_social_group_passes():
    assert registration.problems(org()) == []


def test_a_foundation_needs_two_million_yuan_and_its_name():
    found = registration.problems(
        org(
            name="太仓市助学会",
            kind=pb.ORGANISATION_KIND_FOUNDATION,
            registered_capital_fen=100_000_000,
        )
    )
    assert {p.field for p in found} == {
        "details.organisation.name",
        "details.organisation.registered_capital_fen",
    }
    assert (
        registration.problems(
            org(
                name="太仓市助学基金会",
                kind=pb.ORGANISATION_KIND_FOUNDATION,
                registered_capital_fen=200_000_000,
            )
        )
        == []
    )


def test_names_differing_only_in_spaces_or_case_are_the_same():
    assert registration.normalized_name("太仓 ABC 协会") == registration.normalized_name(
        "太仓abc协会"
    )


@pytest.mark.parametrize(
    "kind",
    [
        pb.ORGANISATION_KIND_SOCIAL_GROUP,
        pb.ORGANISATION_KIND_PRIVATE_NON_ENTERPRISE,
        pb.ORGANISATION_KIND_FOUNDATION,
    ],
)
def test_assigned_credit_codes_pass_stdnum_and_say_who_issued_them(kind):
    code = registration.assign_credit_code(kind, "320585", "320585-AAAAA-BBBBB")
    assert uscc.is_valid(code)
    assert code.startswith("5" + registration.KIND_CODE[kind] + "320585")
    assert code != registration.assign_credit_code(kind, "320585", "320585-AAAAA-CCCCC")
