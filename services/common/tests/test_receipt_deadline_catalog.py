import datetime as dt

import pytest

from services.common import catalog
from services.common.catalog import TimeLimit
from services.common.clock import BureauClock
from services.common.deadlines import decision_deadline
from services.common.legal_calendar import LegalCalendar, Unit
from services.common.receipt import is_receipt, is_request_id, receipt_for


def test_receipt_is_stable_per_request_and_distinct_across_requests():
    first = receipt_for("320585", "3f1c2d9e-aaaa-4bbb-8ccc-000000000001")
    assert first == receipt_for("320585", "3f1c2d9e-aaaa-4bbb-8ccc-000000000001")
    assert first != receipt_for("320585", "3f1c2d9e-aaaa-4bbb-8ccc-000000000002")
    assert first != receipt_for("320583", "3f1c2d9e-aaaa-4bbb-8ccc-000000000001")
    assert first.startswith("320585-")
    assert is_receipt(first)


def test_receipts_avoid_letters_clerks_misread():
    receipts = [receipt_for("320585", f"request-{i:06d}") for i in range(2000)]
    assert all(is_receipt(r) for r in receipts)
    assert not any(c in r[7:] for r in receipts for c in "ILOU")
    assert len(set(receipts)) == len(receipts)


@pytest.mark.parametrize("text", ["", "short", "has space in it", "x" * 65, "-leading-dash"])
def test_bad_request_ids(text):
    assert not is_request_id(text)


def test_deadline_is_end_of_day_in_china_whatever_the_clock_zone():
    # 20:00 UTC on 1 March is already 2 March (a Monday) in China: 30 calendar days from the
    # day after end on 1 April, a Wednesday.
    accepted = dt.datetime(2026, 3, 1, 20, 0, tzinfo=dt.UTC)
    limit = TimeLimit((30,), Unit.CALENDAR_DAYS, "test")
    deadline = decision_deadline(accepted, limit, BureauClock(), LegalCalendar.with_schedules())
    assert deadline.at == dt.datetime(2026, 4, 1, 15, 59, 59, tzinfo=dt.UTC)  # 23:59:59 CST
    assert deadline.last_day == dt.date(2026, 4, 1) and not deadline.provisional


def test_deadline_needs_an_aware_time():
    limit = TimeLimit((30,), Unit.CALENDAR_DAYS, "test")
    with pytest.raises(ValueError):
        decision_deadline(
            dt.datetime(2026, 3, 1), limit, BureauClock(), LegalCalendar.with_schedules()
        )


def test_shipped_catalog_has_dibao_with_its_materials():
    dibao = catalog.load().latest("assistance.dibao")
    assert dibao is not None
    assert dibao.departments == ("assistance",)
    assert {m.code for m in dibao.required_materials} >= {"id_card", "hukou_booklet"}


def test_catalog_keeps_every_version_and_serves_the_latest():
    text = """
    [[matter]]
    code = "x.y"
    version = 1
    title_zh = "甲"
    title_en = "A"
    departments = ["assistance"]
    time_limit = { days = 10, unit = "working", source = "s" }
    cross_jurisdiction = false
    required_materials = ["m"]
    [[matter]]
    code = "x.y"
    version = 2
    title_zh = "甲"
    title_en = "A"
    departments = ["assistance"]
    time_limit = { days = 20, unit = "calendar", source = "s" }
    cross_jurisdiction = false
    required_materials = []
    [material.m]
    title_zh = "材料"
    title_en = "M"
    """
    parsed = catalog.parse(text)
    assert parsed.latest("x.y").time_limit == TimeLimit((20,), Unit.CALENDAR_DAYS, "s")
    assert parsed.version("x.y", 1).time_limit == TimeLimit((10,), Unit.WORKING_DAYS, "s")
    assert [m.version for m in parsed.current()] == [2]


@pytest.mark.parametrize(
    ("limit", "complaint"),
    [
        ("", "needs a time_limit"),
        ('time_limit = { days = 10, unit = "fortnights", source = "s" }', "unit"),
        ('time_limit = { days = 10, unit = "working" }', "source"),
        ('time_limit = { days = -1, unit = "working", source = "s" }', "whole days"),
        ('time_limit = { days = 10, unit = "working", source = "s", extendable_to = 5 }', "exceed"),
    ],
)
def test_catalog_refuses_a_time_limit_without_unit_or_source(limit, complaint):
    text = f"""
    [[matter]]
    code = "x.y"
    version = 1
    title_zh = "甲"
    title_en = "A"
    departments = ["assistance"]
    {limit}
    cross_jurisdiction = false
    required_materials = []
    """
    with pytest.raises(ValueError, match=complaint):
        catalog.parse(text)


def test_every_shipped_matter_says_its_unit_source_and_who_is_exclusive():
    for matter in catalog.load().current():
        assert matter.time_limit.source, matter.code
        assert matter.time_limit.unit in Unit
    by_code = {m.code: m for m in catalog.load().current()}
    assert by_code["assistance.dibao"].time_limit == TimeLimit(
        (30,), Unit.WORKING_DAYS, by_code["assistance.dibao"].time_limit.source, 45
    )
    assert by_code["registry.divorce"].time_limit.periods == (30, 30)
    assert by_code["assistance.temporary"].exclusive is catalog.Exclusive.NONE
    assert by_code["elderly.home_care"].exclusive is catalog.Exclusive.NONE
    assert by_code["registry.marriage"].exclusive is catalog.Exclusive.PARTIES


def test_catalog_refuses_unknown_materials():
    text = """
    [[matter]]
    code = "x.y"
    version = 1
    title_zh = "甲"
    title_en = "A"
    departments = ["assistance"]
    time_limit = { days = 10, unit = "working", source = "s" }
    cross_jurisdiction = false
    required_materials = ["nope"]
    """
    with pytest.raises(ValueError, match="unknown materials"):
        catalog.parse(text)


def test_the_audit_chain_finds_a_changed_or_removed_entry():
    from services.common.audit import GENESIS, Entry, chain_hash, first_break

    entries, previous = [], GENESIS
    for sequence in (1, 2, 4):  # a gap (a rolled-back insert) is not a break
        entry = Entry(
            sequence,
            "2026-11-24T00:00:00+00:00",
            "peer:kunshan",
            "forward.sent",
            "r",
            ("a",),
            "t",
            "",
        )
        previous = chain_hash(previous, entry)
        entries.append((entry, previous))
    assert first_break(entries) is None
    changed = entries[1][0].__class__(**{**entries[1][0].__dict__, "detail": "edited"})
    assert first_break([entries[0], (changed, entries[1][1]), entries[2]]) == 2
    assert first_break([entries[0], entries[2]]) == 4  # entry 2 removed


def test_jurisdictions_cover_their_counties():
    from services.common.divisions import within

    assert within("320585", "320585") and not within("320585", "320583")
    assert within("320500", "320583") and within("320000", "320583")
    assert not within("320500", "310115")


def test_the_catalog_lists_matters_by_department_and_in_the_order_of_a_life():
    codes = [m.code for m in catalog.load().current()]
    assert codes.index("orgs.register") < codes.index("orgs.annual_report")
    assert codes.index("orgs.annual_report") < codes.index("orgs.deregister")
    assert codes.index("registry.marriage") < codes.index("registry.divorce")
    assert codes.index("registry.divorce") < codes.index("registry.death")
    leading = [catalog.load().latest(c).departments[0] for c in codes]  # type: ignore[union-attr]
    # Each department's matters together, in the catalog's order of departments.
    assert list(dict.fromkeys(leading)) == list(catalog.load().departments)
    assert leading == sorted(leading, key=list(catalog.load().departments).index)
