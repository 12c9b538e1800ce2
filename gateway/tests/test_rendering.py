"""The message catalogs and the renderer: every code in every language with the same
placeholders, Accept-Language negotiation, amounts in yuan per locale."""

from __future__ import annotations

import pytest

from gateway import rendering
from gateway.rendering import CatalogError, Renderer, negotiate
from onedoor.case.v1 import case_pb2
from services.common import texts
from services.common.texts import Code, amount, count, division, text

CODES = [v.name.removeprefix("TEXT_CODE_") for v in Code.DESCRIPTOR.values if v.number != 0]


@pytest.mark.parametrize("language", rendering.LANGUAGES)
def test_every_code_is_in_every_catalog(language: str) -> None:
    catalog = rendering.load(language).sections["texts"]
    assert sorted(set(CODES) - catalog.keys()) == []
    assert sorted(catalog.keys() - set(CODES)) == [], "a catalog text no code says"


@pytest.mark.parametrize("section", ["texts", *rendering.NAMED_SECTIONS])
def test_the_catalogs_agree_on_keys_and_placeholders(section: str) -> None:
    default = rendering.load(rendering.DEFAULT_LANGUAGE).sections[section]
    for language in rendering.LANGUAGES[1:]:
        other = rendering.load(language).sections[section]
        assert sorted(default.keys() ^ other.keys()) == [], f"[{section}] differs in {language}"
        for key, template in default.items():
            assert rendering.placeholders(template) == rendering.placeholders(other[key]), (
                f"[{section}] {key}: placeholders differ between zh-CN and {language}"
            )


def test_every_fact_the_rules_name_has_a_label() -> None:
    from services.common.department.rules import FACT_NAMES

    for language in rendering.LANGUAGES:
        assert sorted(set(FACT_NAMES) - rendering.load(language).sections["facts"].keys()) == []


def test_a_text_missing_an_argument_is_refused_naming_it() -> None:
    with pytest.raises(CatalogError, match="income_per_member"):
        Renderer("en").text(
            text(Code.TEXT_CODE_INCOME_BELOW_STANDARD, members=count(1), standard=amount(1))
        )


def test_an_assessment_renders_with_its_findings_in_each_language() -> None:
    said = text(
        Code.TEXT_CODE_ASSESSED_ELIGIBLE,
        text(
            Code.TEXT_CODE_INCOME_BELOW_STANDARD,
            members=count(2),
            income_per_member=amount(123456),
            division=division("3205"),
            standard=amount(94500),
        ),
        text(Code.TEXT_CODE_ASSETS_WITHIN_LIMIT),
    )
    assert Renderer("zh-CN").text(said) == (
        "初审符合条件：家庭2人，人均月收入1,234.56元，低于苏州市标准945.00元；家庭金融资产未超过限额"
    )
    assert Renderer("en").text(said) == (
        "assessment: eligible: household of 2: income per member 1,234.56 yuan a month is below "
        "the 苏州市 standard of 945.00 yuan; assets within the limit"
    )


def test_fill_sets_the_text_of_each_clause() -> None:
    said = text(Code.TEXT_CODE_ECONOMIC_CHECK_NOT_RUN, text(Code.TEXT_CODE_NO_CONSENT))
    Renderer("zh-CN").fill(said)
    assert said.details[0].text == "案件中没有家庭经济状况核对授权"
    assert said.text.startswith("未进行家庭经济状况核对：")


def test_clauses_of_equal_weight_are_said_side_by_side() -> None:
    said = text(
        Code.TEXT_CODE_CLAUSES,
        text(Code.TEXT_CODE_SENIOR_CARD_CANCELLED),
        text(Code.TEXT_CODE_CARE_ORDERS_CANCELLED, orders=count(2)),
    )
    assert Renderer("zh-CN").text(said) == "尊老卡已注销；已取消2项居家养老服务"
    assert Renderer("en").text(said).count(";") == 1


def test_words_a_person_typed_are_shown_as_typed() -> None:
    assert Renderer("zh-CN").text(texts.as_typed("收入证明不清晰")) == "收入证明不清晰"


def test_statuses_departments_and_flags_render_by_name() -> None:
    zh = Renderer("zh-CN")
    assert zh.value(texts.status(case_pb2.CASE_STATUS_APPROVED)) == "批准"
    assert zh.value(texts.departments(["assistance", "elderly"])) == "社会救助、养老服务"
    assert zh.value(texts.flag(True)) == "是"
    assert zh.value(texts.matter("assistance.dibao")) == "最低生活保障"
    assert Renderer("en").value(texts.matter("assistance.dibao")) != "最低生活保障"


def test_the_payments_a_death_stopped_are_named_by_benefit() -> None:
    stopped = texts.text(
        texts.Code.TEXT_CODE_BENEFITS_STOPPED,
        payments=texts.count(2),
        benefits=texts.matters(["assistance.dibao", "assistance.disability_subsidy"]),
    )
    assert Renderer("zh-CN").text(stopped) == "已停发2项待遇：最低生活保障、残疾人两项补贴"
    assert Renderer("en").text(stopped) == (
        "stopped 2 payment(s): Minimum living allowance (dibao), "
        "Disabled persons' living and care subsidies"
    )


def test_the_materials_handed_in_are_named_by_their_catalog_titles() -> None:
    handed_in = texts.text(
        texts.Code.TEXT_CODE_MATERIALS_HANDED_IN,
        materials=texts.materials(["id_card", "income_proof"]),
    )
    assert Renderer("zh-CN").text(handed_in) == "已补交材料：居民身份证、家庭成员收入证明"
    assert Renderer("en").text(handed_in) == (
        "handed in: Resident identity card, Proof of the household members' incomes"
    )
    # One the catalog no longer names shows as its code, rather than nothing.
    gone = texts.text(texts.Code.TEXT_CODE_MATERIALS_HANDED_IN, materials=texts.materials(["x"]))
    assert Renderer("zh-CN").text(gone) == "已补交材料：x"


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "zh-CN"),
        ("", "zh-CN"),
        ("en", "en"),
        ("en-US,en;q=0.9", "en"),
        ("en-GB", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("zh", "zh-CN"),
        ("en;q=0.5, zh;q=0.8", "zh-CN"),
        ("fr-FR", "zh-CN"),
        ("*", "zh-CN"),
        ("en;q=0", "zh-CN"),
    ],
)
def test_the_language_is_negotiated_from_accept_language(header: str | None, language: str) -> None:
    assert negotiate(header) == language
