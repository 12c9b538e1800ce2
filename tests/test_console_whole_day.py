"""The people's whole day at the bureau, in one browser test against the real platform: staff
sign in at the bureau's identity provider with a user name and password; a clerk submits a
dibao, the officer asks for materials from the case file, the clerk supplies them from the
work list and the officer approves; a divorce is filed, confirmed by both parties after the
cooling-off, another withdrawn within it; a search by person; the auditor reads the dibao's
entries and sees the chain intact. Every screen is photographed in Chinese and in English
(tests/artifacts/console/day-*), and every Chinese one is held to speaking Chinese."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from playwright.async_api import Browser, Locator, Page, expect

from services.launcher.identity_provider import IdentityProvider
from services.launcher.platform import Platform
from tests import test_console
from tests.conftest import wait_for_entry
from tests.factories import Person, application, party, person
from tests.test_console import (
    HEIGHT,
    RECEIPT,
    TIMEOUT_MS,
    WIDTH,
    assert_no_horizontal_scroll,
    field,
    fill_applicant,
    find_in_queue,
    open_view,
    screenshot,
)
from tests.test_console_clerk_day import _age_divorce, find_row
from tests.test_console_sign_in import sign_in_at_provider
from tests.test_matters import _divorce_days, approved, routed

pytestmark = [pytest.mark.browser]

browser = test_console.browser
page = test_console.page

OFFICER = "救助科 李强"
CLERK = "窗口 张敏"
INCOME_TEMPLATE = "请补充家庭成员近六个月的收入证明。"


@asynccontextmanager
async def desk(browser: Browser, platform: Platform) -> AsyncIterator[Page]:
    """Another member of staff's own browser window (their own cookies and session)."""
    context = await browser.new_context(
        viewport={"width": WIDTH, "height": HEIGHT},
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        base_url=f"http://127.0.0.1:{platform.ports.gateway_http}",
    )
    context.set_default_timeout(TIMEOUT_MS)
    opened = await context.new_page()
    uncaught: list[str] = []
    opened.on("pageerror", lambda error: uncaught.append(str(error)))
    try:
        yield opened
    finally:
        await context.close()
    assert not uncaught, uncaught


async def both_languages(
    page: Page, name: str, english: tuple[Locator, str], full_page: bool = True
) -> None:
    """The screen in Chinese, then switched to English (and the words that say it has come,
    the server's texts fetched again included), then back."""
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    await assert_no_horizontal_scroll(page)
    await screenshot(page, f"{name}-zh", full_page=full_page)
    await page.locator("#language").click()
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(english[0]).to_contain_text(english[1])
    await assert_no_horizontal_scroll(page)
    await screenshot(page, f"{name}-en", full_page=full_page)
    await page.locator("#language").click()
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


async def submit_dibao(page: Page, applicant: Person, spouse: Person) -> str:
    await page.locator("button[data-matter='assistance.dibao']").click()
    await fill_applicant(page, applicant)
    await field(page, "household_members[0].monthly_income_fen").locator("input").fill("300")
    await page.get_by_role("button", name="添加家庭成员").click()
    await field(page, "household_members[1].name").locator("input").fill(spouse.name)
    await field(page, "household_members[1].id_number").locator("input").fill(spouse.id_number)
    await field(page, "household_members[1].relation").locator("input").fill("配偶")
    await field(page, "household_members[1].monthly_income_fen").locator("input").fill("200.50")
    await page.get_by_label("家庭全体成员已签署经济状况核对授权书").check()
    await page.get_by_role("button", name="全部已收").click()
    await expect(page.locator(".household-total")).to_contain_text("人均 250.25 元")
    await both_languages(
        page, "day-02-dibao-form", (field(page, "applicant.id_number").locator("label"), "Identity")
    )
    await page.get_by_role("button", name="提交受理").click()
    number = page.locator(".receipt-number")
    await expect(number).to_be_visible()
    receipt = (await number.text_content() or "").strip()
    assert RECEIPT.match(receipt), receipt
    await expect(page.locator(".receipt-slip .clerk")).not_to_be_empty()
    await both_languages(page, "day-03-receipt", (page.locator(".receipt-slip"), "Social"))
    # Each language lists and brackets in its own way: no "、" or "（）" on the English slip.
    slip = page.locator(".receipt-slip")
    await expect(slip.locator(".materials-received")).to_contain_text("、")
    await expect(slip.locator(".contact")).to_contain_text("0512-00000000（示例）")
    await page.locator("#language").click()
    await expect(slip.locator(".materials-received")).to_contain_text(", and ")
    await expect(slip.locator(".materials-received")).not_to_contain_text("、")
    await expect(slip.locator(".contact")).to_have_text("Enquiries: 0512-00000000 (sample)")
    await page.locator("#language").click()
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    return receipt


async def open_case_file(officer: Page, receipt: str) -> Locator:
    row = await find_in_queue(officer, receipt)
    await expect(row).to_contain_text("符合条件")
    await both_languages(officer, "day-04-queue", (officer.locator("h1"), "Social assistance"))
    await row.locator("[data-action='file']").click()
    view = officer.locator(".view-case-file")
    await expect(view.get_by_role("heading", level=1)).to_contain_text(receipt)
    await expect(view.locator("table.members tbody tr")).to_have_count(2)
    return view


async def test_the_whole_day(
    page: Page, browser: Browser, http, platform: Platform, identity_provider: IdentityProvider
) -> None:
    clerk = page
    applicant, spouse = person(age=62), person(age=60)

    # The clerk signs in at the provider and submits a dibao.
    await sign_in_at_provider(clerk, "clerk", shot="day-01-provider-login")
    await expect(clerk.locator("#who [data-role='window_clerk']")).to_contain_text(CLERK)
    receipt = await submit_dibao(clerk, applicant, spouse)
    await wait_for_entry(http, receipt, "ROUTED")

    async with desk(browser, platform) as officer:
        # The officer reads the case file and asks for materials, with the matter's template.
        await sign_in_at_provider(officer, "officer-assistance")
        await expect(officer.locator("#who [data-role='officer']")).to_contain_text(OFFICER)
        view = await open_case_file(officer, receipt)
        # Every fact of the assessment under its name, in the console's language.
        per_capita = view.locator(".facts-list dt[data-fact='per_capita_income_yuan']")
        await expect(per_capita).to_have_text("人均月收入")
        labels = await view.locator(".facts-list dt").all_inner_texts()
        assert labels and not [label for label in labels if re.search(r"[A-Za-z_]", label)], labels
        await both_languages(officer, "day-05-case-file", (per_capita, "income"))

        await view.get_by_role("button", name="补正材料").click()
        dialog = officer.get_by_role("dialog")
        await dialog.get_by_label("常用理由").select_option(label=INCOME_TEMPLATE)
        await dialog.locator("input[value='income_proof']").check()
        await dialog.get_by_role("textbox").fill("含配偶的工资单")
        # The dialog has its own language switch (the page's is behind it); switching
        # re-renders the dialog, the server's words included, and keeps what was typed.
        await dialog.get_by_role("button", name="切换语言：English").click()
        await expect(dialog.get_by_role("heading")).to_have_text(f"Request materials for {receipt}")
        await expect(dialog.locator(".decision-summary")).to_contain_text("Assessment")
        await expect(
            dialog.locator(".facts-list dt[data-fact='per_capita_income_yuan']")
        ).to_contain_text("income")
        await expect(dialog.get_by_role("textbox")).to_have_value("含配偶的工资单")
        await expect(dialog.locator("input[value='income_proof']")).to_be_checked()
        await expect(dialog.get_by_label("Standard reason")).to_have_value(INCOME_TEMPLATE)
        await screenshot(officer, "day-06-materials-dialog-en", full_page=False)
        await dialog.get_by_role("button", name="Switch language: 中文").click()
        await expect(dialog.get_by_role("heading")).to_have_text(f"要求补正材料 {receipt}")
        # The server's words come back in Chinese after the heading (a second fetch): the
        # screen is photographed, and held to Chinese, once they have.
        await expect(
            dialog.locator(".facts-list dt[data-fact='per_capita_income_yuan']")
        ).to_have_text("人均月收入")
        await expect(dialog.locator(".decision-summary")).not_to_contain_text("Assessment")
        await expect(dialog.get_by_role("textbox")).to_have_value("含配偶的工资单")
        await screenshot(officer, "day-06-materials-dialog-zh", full_page=False)
        await dialog.get_by_role("button", name="发出补正通知").click()
        await expect(officer.get_by_role("status")).to_contain_text(receipt)
        await wait_for_entry(http, receipt, "MATERIALS_REQUESTED")

        # The clerk finds the case on the work list and records the materials handed in.
        await clerk.get_by_role("link", name="工作清单").click()
        await clerk.get_by_role("tab", name="待补正材料").click()
        await clerk.get_by_label("事项").select_option("assistance.dibao")
        await find_row(clerk, receipt)
        row = clerk.locator(f"tr[data-receipt='{receipt}']")
        await expect(row).to_contain_text("已暂停计时")
        await both_languages(clerk, "day-07-worklist", (clerk.locator("h1"), "work list"))
        await row.locator("[data-action='supply']").click()
        supply = clerk.locator(".view-supply")
        await expect(supply.locator("[data-material='income_proof'] input")).to_be_checked()
        await both_languages(clerk, "day-08-supply", (supply.locator("h1"), "materials"))
        await supply.get_by_role("button", name="登记并恢复计时").click()
        await expect(supply.locator(".resumed")).to_contain_text("办理时限已恢复计算")
        await both_languages(clerk, "day-09-supplied", (supply.locator(".resumed"), "clock"))
        await wait_for_entry(http, receipt, "MATERIALS_SUPPLIED")

        # The officer approves from the case file; the timeline names the officer.
        await officer.reload()
        await expect(view.locator(".state").first).to_have_attribute(
            "data-state", "CASE_STATE_OPEN"
        )
        await view.get_by_role("button", name="批准", exact=True).click()
        await dialog.get_by_role("textbox").fill("收入核实无误")
        await dialog.get_by_role("button", name="确认批准").click()
        await wait_for_entry(http, receipt, "APPROVED")
        await officer.reload()
        timeline = view.locator(".timeline")
        await expect(timeline.locator("li[data-kind='APPROVED']")).to_contain_text(OFFICER)
        # The materials handed in by their titles, and the clerk who recorded them.
        supplied = timeline.locator("li[data-kind='MATERIALS_SUPPLIED']")
        await expect(supplied.locator(".note")).to_have_text("已补交材料：家庭成员收入证明")
        await expect(supplied.locator(".actor")).to_contain_text(CLERK)
        asked = timeline.locator("li[data-kind='MATERIALS_REQUESTED'] .note")
        await expect(asked).to_contain_text("含配偶的工资单")
        # The officer's note is there in full: wrapped, never cut at the edge of its column.
        assert await asked.evaluate(
            "(note) => note.scrollWidth <= note.clientWidth + 1"
            " && note.getBoundingClientRect().right <= note.closest('li').getBoundingClientRect().right + 1"
        ), "the timeline's note is clipped"
        await both_languages(officer, "day-10-case-file-decided", (timeline, "Approved"))

    # A divorce filed at the window, confirmed by both after the cooling-off.
    husband, wife = person(age=36, sex="male"), person(age=34, sex="female")
    await approved(
        http, "registry", application("registry.marriage", husband, otherParty=party(wife))
    )
    await clerk.get_by_role("link", name="新建申请").click()
    await clerk.get_by_label("申请事项").select_option("registry.divorce")
    await fill_applicant(clerk, husband)
    await field(clerk, "details.other_party.name").locator("input").fill(wife.name)
    await field(clerk, "details.other_party.id_number").locator("input").fill(wife.id_number)
    await clerk.get_by_role("button", name="全部已收").click()
    await both_languages(
        clerk, "day-11-divorce-form", (field(clerk, "details.other_party.name"), "Other")
    )
    await clerk.get_by_role("button", name="提交受理").click()
    number = clerk.locator(".receipt-number")
    await expect(number).to_be_visible()
    divorce = (await number.text_content() or "").strip()
    await wait_for_entry(http, divorce, "ROUTED")

    work_list = await open_view(clerk, "工作清单", "worklist")
    await work_list.get_by_label("事项").select_option("registry.divorce")
    await find_row(clerk, divorce)
    await clerk.locator(f"tr[data-receipt='{divorce}'] [data-action='divorce']").click()
    form = clerk.locator(".divorce-form")
    await expect(form.get_by_label("受理编号")).to_have_value(divorce)
    # Within the cooling-off a confirmation is refused, and the page says so.
    await form.get_by_label("当事人身份证号码").fill(husband.id_number)
    await form.locator("button[data-step='confirm']").click()
    # Until when, in the bureau's local days.
    days = await _divorce_days(platform, divorce)
    await expect(form.locator(".error")).to_contain_text(
        f"离婚冷静期至{days['cooling_off_last_day']}（含当日）届满"
    )
    await expect(form.locator(".error")).to_contain_text(
        f"双方须在{days['confirmation_first_day']}至{days['confirmation_last_day']}期间"
    )
    if "provisional_years" in days:
        # Reckoned into a year whose holidays are not loaded: the page says so.
        await expect(form.locator(".error")).to_contain_text("暂定")
    await both_languages(
        clerk,
        "day-12-divorce-too-early",
        (form.locator(".error"), f"runs until {days['cooling_off_last_day']} (its last day)"),
    )

    await _age_divorce(platform, divorce, 45)
    await form.locator("input[value='applicant']").check()
    await form.get_by_label("当事人身份证号码").fill(husband.id_number)
    await form.locator("button[data-step='confirm']").click()
    outcome = clerk.locator(".divorce-outcome [data-state]")
    await expect(outcome).to_have_attribute("data-state", "DIVORCE_STATE_AWAITING_CONFIRMATION")
    await both_languages(clerk, "day-13-divorce-confirmed-once", (outcome, "waiting"))
    await form.locator("input[value='other']").check()
    await form.get_by_label("当事人身份证号码").fill(wife.id_number)
    await form.locator("button[data-step='confirm']").click()
    await expect(outcome).to_have_attribute("data-state", "DIVORCE_STATE_CONFIRMED")
    await both_languages(clerk, "day-14-divorce-confirmed", (outcome, "both confirmed"))
    confirmed = (await wait_for_entry(http, divorce, "APPROVED"))["timeline"]
    # Each party's step names the clerk who recorded it.
    steps = [e for e in confirmed if e["kind"].endswith(("_CONFIRMED", "_APPROVED"))]
    assert [e.get("actorName") for e in steps] == [CLERK, CLERK], steps

    # Another couple's divorce, withdrawn by one of them within the cooling-off.
    other_husband, other_wife = person(age=41, sex="male"), person(age=39, sex="female")
    await approved(
        http,
        "registry",
        application("registry.marriage", other_husband, otherParty=party(other_wife)),
    )
    withdrawn = await routed(
        http, application("registry.divorce", other_husband, otherParty=party(other_wife))
    )
    await clerk.goto(f"/console/#/divorce/{withdrawn}")
    await form.locator("input[value='other']").check()
    await form.get_by_label("当事人身份证号码").fill(other_wife.id_number)
    await form.locator("button[data-step='withdraw']").click()
    await expect(outcome).to_have_attribute("data-state", "DIVORCE_STATE_WITHDRAWN")
    await both_languages(clerk, "day-15-divorce-withdrawn", (outcome, "withdrawn"))
    await wait_for_entry(http, withdrawn, "WITHDRAWN")

    # A search by person: the husband's marriage and divorce, masked.
    search = await open_view(clerk, "按人查找", "search")
    await search.get_by_label("身份证号码").fill(husband.id_number)
    await clerk.get_by_role("button", name="查找").click()
    found = clerk.locator(".search-result")
    await expect(found.locator(f"tr[data-receipt='{divorce}']")).to_contain_text("离婚登记")
    await expect(found.locator("tbody tr")).to_have_count(2)
    await expect(clerk.locator(".view-search")).not_to_contain_text(husband.id_number)
    await both_languages(clerk, "day-16-search", (found.locator(".banner"), "application"))

    # The dibao's case as the window follows it: the timeline names the officer.
    await clerk.goto(f"/console/#/lookup/{receipt}")
    case = clerk.locator(f"article.case[data-receipt='{receipt}']")
    await expect(case.locator(".timeline li[data-kind='APPROVED']")).to_contain_text(OFFICER)
    await both_languages(
        clerk, "day-17-look-up", (case.locator(".case-heading .badge"), "Approved")
    )

    async with desk(browser, platform) as auditor:
        # The auditor reads the dibao's entries and sees the chain intact.
        await sign_in_at_provider(auditor, "auditor")
        view = auditor.locator(".view-audit")
        verdict = view.locator(".chain-verdict")
        await expect(verdict).to_have_attribute("data-intact", "true")
        await expect(verdict).to_contain_text("哈希链完整")
        await view.get_by_label("受理编号").fill(receipt)
        await view.get_by_role("button", name="查询").click()
        rows = view.locator("table.audit tbody tr")
        await expect(rows.filter(has_text="查阅案卷").first).to_contain_text(OFFICER)
        # The clerk's supply, under the clerk's account at the provider.
        await expect(rows.filter(has_text="补交材料").first).to_contain_text("window_clerk:clerk")
        await expect(rows.filter(has_text="作出决定")).to_have_count(2)
        for each in await rows.all():
            await expect(each).to_contain_text(receipt)
        await both_languages(auditor, "day-18-audit", (verdict, "intact"))
