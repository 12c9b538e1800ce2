"""The window clerk's day in a real browser against the real platform: an officer asks for
materials and the clerk supplies them from the work list; a divorce confirmed by both parties
after its cooling-off, another withdrawn within it; a search by person. Every new screen is
photographed in both languages."""

from __future__ import annotations

import asyncio
import re

import asyncpg
import pytest
from playwright.async_api import Page, Route, expect

from tests import test_console
from tests.conftest import get_application, wait_for_entry
from tests.factories import application, dibao_json, party, person
from tests.test_console import (
    assert_no_horizontal_scroll,
    open_view,
    screenshot,
    sign_in,
    submitted,
)
from tests.test_matters import approved, decide, routed

pytestmark = [pytest.mark.browser]

# The browser and its pages, as the console's own tests have them.
browser = test_console.browser
page = test_console.page


async def english(page: Page) -> None:
    await page.locator("#language").click()
    await expect(page.locator("html")).to_have_attribute("lang", "en")


async def find_row(page: Page, receipt: str) -> None:
    """The work list's page holding the receipt, following "next" as a clerk would."""
    row = page.locator(f"tr[data-receipt='{receipt}']")
    for _ in range(50):
        await expect(page.locator(".worklist-table .loading")).to_have_count(0)
        if await row.count():
            return
        following = page.locator(".view-worklist .toolbar button").last
        assert await following.is_enabled(), f"{receipt} is on no page of the work list"
        await following.click()
    pytest.fail(f"{receipt} not found within 50 pages")


async def test_the_clerk_supplies_requested_materials_from_the_work_list(page, http):
    receipt = await submitted(http, dibao_json())
    await wait_for_entry(http, receipt, "ROUTED")
    await decide(
        http, "assistance", receipt, "DECISION_REQUEST_MATERIALS", "需补正材料：income_proof"
    )
    await wait_for_entry(http, receipt, "MATERIALS_REQUESTED")

    await sign_in(page)
    await page.get_by_role("link", name="工作清单").click()
    await expect(page.locator(".view-worklist")).to_have_attribute("data-list", "today")
    await page.get_by_role("tab", name="待补正材料").click()
    await expect(page.locator(".view-worklist")).to_have_attribute(
        "data-list", "awaiting_materials"
    )
    await page.get_by_label("事项").select_option("assistance.dibao")
    await find_row(page, receipt)
    row = page.locator(f"tr[data-receipt='{receipt}']")
    await expect(row).to_contain_text("待补正材料")
    await expect(row).to_contain_text("已暂停计时")
    await assert_no_horizontal_scroll(page)
    await screenshot(page, "clerk-1-worklist-zh")

    await row.locator("[data-action='supply']").click()
    view = page.locator(".view-supply")
    await expect(view).to_have_attribute("data-receipt", receipt)
    requested = view.locator("[data-material='income_proof']")
    await expect(requested).to_contain_text("部门要求")
    await expect(requested.locator("input")).to_be_checked()
    await expect(view.locator("[data-material='id_card'] input")).not_to_be_checked()
    await expect(view).to_contain_text("办理时限暂停计算")
    await screenshot(page, "clerk-2-supply-zh")
    await view.get_by_role("button", name="登记并恢复计时").click()
    await expect(view.locator(".resumed")).to_contain_text("办理时限已恢复计算，新的办结期限为 20")
    await screenshot(page, "clerk-3-supplied-zh")

    shown = await get_application(http, receipt)
    assert shown["status"] != "CASE_STATUS_AWAITING_MATERIALS"
    kinds = [e["kind"] for e in shown["timeline"]]
    assert "TIMELINE_ENTRY_KIND_MATERIALS_SUPPLIED" in kinds

    await english(page)
    await expect(view.locator(".resumed")).to_contain_text("The clock runs again")
    await screenshot(page, "clerk-3-supplied-en")
    await page.goto("/console/#/worklist/awaiting_materials")
    await expect(page.locator(".view-worklist h1")).to_have_text("The window's work list")
    await screenshot(page, "clerk-1-worklist-en")


async def test_an_empty_supply_is_refused_on_the_page(page, http):
    receipt = await submitted(http, dibao_json())
    await wait_for_entry(http, receipt, "ROUTED")
    await decide(http, "assistance", receipt, "DECISION_REQUEST_MATERIALS", "bank statements")
    await wait_for_entry(http, receipt, "MATERIALS_REQUESTED")
    await sign_in(page)
    await page.goto(f"/console/#/supply/{receipt}")
    view = page.locator(".view-supply")
    await expect(view.locator("input[name=material]:checked")).to_have_count(0)
    await view.get_by_role("button", name="登记并恢复计时").click()
    await expect(view.locator(".error")).to_have_text("请勾选申请人交来的材料。")
    await english(page)
    await screenshot(page, "clerk-2-supply-en")


async def _married(http) -> tuple:
    husband, wife = person(age=36, sex="male"), person(age=34, sex="female")
    await approved(
        http, "registry", application("registry.marriage", husband, otherParty=party(wife))
    )
    return husband, wife


async def _age_divorce(platform, receipt: str, days: int) -> None:
    """The registry's record of filing moved back: the cooling-off is thirty days long."""
    conn = await asyncpg.connect(platform.database_url("registry"))
    try:
        await conn.execute(
            "UPDATE divorces SET filed_at = now() - make_interval(days => $2) WHERE receipt = $1",
            receipt,
            days,
        )
    finally:
        await conn.close()


async def _divorce_step(page: Page, receipt: str, who: str, id_number: str, step: str) -> None:
    await page.goto(f"/console/#/divorce/{receipt}")
    form = page.locator(".divorce-form")
    await expect(form.get_by_label("受理编号")).to_have_value(receipt)
    await form.locator(f"input[value='{who}']").check()
    await form.get_by_label("当事人身份证号码").fill(id_number)
    await form.locator(f"button[data-step='{step}']").click()


async def test_a_divorce_is_confirmed_by_both_parties_after_the_cooling_off(page, http, platform):
    husband, wife = await _married(http)
    receipt = await routed(http, application("registry.divorce", husband, otherParty=party(wife)))
    await sign_in(page)

    # Within the cooling-off a confirmation is refused, and the page says so.
    await _divorce_step(page, receipt, "applicant", husband.id_number, "confirm")
    await expect(page.locator(".divorce-form .error")).not_to_be_empty()
    await expect(page.locator(".divorce-outcome [data-state]")).to_have_count(0)

    await _age_divorce(platform, receipt, 45)
    await _divorce_step(page, receipt, "applicant", husband.id_number, "confirm")
    outcome = page.locator(".divorce-outcome [data-state]")
    await expect(outcome).to_have_attribute("data-state", "DIVORCE_STATE_AWAITING_CONFIRMATION")
    await expect(outcome).to_contain_text("等待另一方确认")
    # The number typed is not left on the screen.
    await expect(page.get_by_label("当事人身份证号码")).to_have_value("")
    await screenshot(page, "clerk-4-divorce-confirmed-once-zh")

    await _divorce_step(page, receipt, "other", wife.id_number, "confirm")
    await expect(outcome).to_have_attribute("data-state", "DIVORCE_STATE_CONFIRMED")
    await screenshot(page, "clerk-5-divorce-confirmed-zh")
    await english(page)
    await expect(outcome).to_contain_text("both confirmed")
    await screenshot(page, "clerk-5-divorce-confirmed-en")
    shown = await wait_for_entry(http, receipt, "APPROVED")
    assert shown["status"] == "CASE_STATUS_APPROVED"


async def test_a_party_withdraws_a_divorce_within_the_cooling_off(page, http):
    husband, wife = await _married(http)
    receipt = await routed(http, application("registry.divorce", husband, otherParty=party(wife)))
    await sign_in(page)
    await _divorce_step(page, receipt, "other", wife.id_number, "withdraw")
    outcome = page.locator(".divorce-outcome [data-state]")
    await expect(outcome).to_have_attribute("data-state", "DIVORCE_STATE_WITHDRAWN")
    await expect(outcome).to_contain_text("离婚申请已撤回")
    await screenshot(page, "clerk-6-divorce-withdrawn-zh")
    await english(page)
    await screenshot(page, "clerk-6-divorce-withdrawn-en")
    shown = await wait_for_entry(http, receipt, "WITHDRAWN")
    assert shown["status"] == "CASE_STATUS_WITHDRAWN"


async def test_a_clerk_finds_a_person_s_applications_by_identity_number(page, http):
    body = dibao_json()
    member = body["householdMembers"][1]
    receipt = await submitted(http, body)
    await sign_in(page)
    number = (await open_view(page, "按人查找", "search")).get_by_label("身份证号码")
    await number.fill(member["idNumber"][:-1] + ("0" if member["idNumber"][-1] != "0" else "1"))
    await page.get_by_role("button", name="查找").click()
    await expect(page.locator(".view-search .error")).to_have_text("校验码不符，请核对号码")

    await number.fill(member["idNumber"])
    async with page.expect_request("**/v1/applications:search") as sent:
        await page.get_by_role("button", name="查找").click()
    request = await sent.value
    assert request.method == "POST"
    assert member["idNumber"] not in request.url
    row = page.locator(f".search-result tr[data-receipt='{receipt}']")
    await expect(row).to_contain_text("最低生活保障")
    applicant = body["applicant"]
    await expect(row).to_contain_text(applicant["name"][0] + "*")
    await expect(page.locator(".view-search")).not_to_contain_text(applicant["idNumber"])
    await expect(number).to_have_value("")
    assert member["idNumber"] not in page.url
    await screenshot(page, "clerk-7-search-zh")
    await english(page)
    await expect(page.locator(".search-result .banner")).to_contain_text("1 application(s)")
    await screenshot(page, "clerk-7-search-en")


async def test_a_name_typed_as_a_receipt_says_so_and_clears_the_case_shown(page, http):
    receipt = await submitted(http, dibao_json())
    await sign_in(page)
    await page.goto(f"/console/#/lookup/{receipt}")
    await expect(page.locator(f"article.case[data-receipt='{receipt}']")).to_be_visible()
    await page.get_by_label("受理编号").fill("张秀英")
    await page.get_by_role("button", name="查询").click()
    await expect(page.locator(".lookup-form .error")).to_contain_text("这不是受理编号")
    await expect(page.locator("article.case")).to_have_count(0)
    await screenshot(page, "clerk-8-lookup-name-zh")
    await english(page)
    await expect(page.locator(".lookup-form .error")).to_contain_text("Search")
    await screenshot(page, "clerk-8-lookup-name-en")


async def test_the_matter_picker_follows_the_order_of_a_life(page):
    await sign_in(page)
    picks = page.locator("button[data-matter^='orgs.']")
    await expect(picks.first).to_be_visible()
    order = [await b.get_attribute("data-matter") for b in await picks.all()]
    assert order == ["orgs.register", "orgs.annual_report", "orgs.deregister"], order
    registry = [
        await b.get_attribute("data-matter")
        for b in await page.locator("button[data-matter^='registry.']").all()
    ]
    assert registry == ["registry.marriage", "registry.divorce", "registry.death"], registry


async def test_the_receipt_in_english(page, http):
    receipt = await submitted(http, dibao_json())
    await sign_in(page)
    await page.goto(f"/console/#/receipt/{receipt}")
    await expect(page.locator(".receipt-slip .materials-received")).to_contain_text("居民身份证")
    await english(page)
    await expect(page.locator(".receipt-slip .materials-received")).to_contain_text(
        "Resident identity card"
    )
    await screenshot(page, "clerk-9-receipt-en")


async def test_a_person_s_many_applications_are_searched_a_page_at_a_time(page, http):
    someone = person()
    receipts = [
        await submitted(
            http,
            application(
                "assistance.temporary",
                someone,
                household=[(someone, 0)],
                requestedAmountFen=100000,
            ),
        )
        for _ in range(11)
    ]
    await sign_in(page)
    search = await open_view(page, "按人查找", "search")
    await search.get_by_label("身份证号码").fill(someone.id_number)
    await page.get_by_role("button", name="查找").click()
    rows = page.locator(".search-result tbody tr")
    await expect(rows).to_have_count(10)
    await expect(page.locator(".search-result .banner")).to_contain_text("分页显示")
    info = page.locator(".view-search .page-info")
    await expect(info).to_have_text("第 1 页 · 本页 10 件")
    first_page = [await row.get_attribute("data-receipt") for row in await rows.all()]
    assert first_page == receipts[:10], first_page

    # The next page asks again with the number, in the body only; the field stays empty.
    async with page.expect_request("**/v1/applications:search") as sent:
        await page.get_by_role("button", name="下一页").click()
    body = (await sent.value).post_data_json
    assert body["idNumber"] == someone.id_number and body["pageToken"], body
    assert someone.id_number not in (await sent.value).url
    await expect(info).to_have_text("第 2 页 · 本页 1 件")
    await expect(rows).to_have_count(1)
    await expect(page.locator(f".search-result tr[data-receipt='{receipts[10]}']")).to_be_visible()
    await expect(page.get_by_role("button", name="下一页")).to_be_disabled()
    await expect(search.get_by_label("身份证号码")).to_have_value("")
    await expect(page.locator(".view-search")).not_to_contain_text(someone.id_number)
    await screenshot(page, "clerk-10-search-second-page-zh")
    await page.get_by_role("button", name="上一页").click()
    await expect(info).to_have_text("第 1 页 · 本页 10 件")
    await english(page)
    await expect(info).to_have_text("Page 1 · 10 cases")
    await screenshot(page, "clerk-10-search-paged-en")


async def test_a_late_answer_for_the_old_filter_does_not_replace_the_new_one(page, http):
    receipt = await submitted(http, dibao_json())
    await sign_in(page)
    # The unfiltered list's answer is held back until after the filtered one has arrived.
    release = asyncio.Event()

    async def hold_unfiltered(route: Route) -> None:
        if "matterCode" not in route.request.url:
            await release.wait()
        await route.continue_()

    await page.route(re.compile(r"/v1/applications\?"), hold_unfiltered)
    await page.goto("/console/#/worklist/today")
    await page.get_by_label("事项").select_option("orgs.deregister")
    view = page.locator(".view-worklist")
    await expect(view.locator(".empty")).to_have_text("此清单中没有申请。")
    async with page.expect_response(
        lambda r: "/v1/applications?" in r.url and "matterCode" not in r.url
    ):
        release.set()
    # The answer has come; give the page the moment it would need to draw it.
    await page.wait_for_timeout(300)
    await expect(view.locator(".empty")).to_have_text("此清单中没有申请。")
    await expect(view.locator(f"tr[data-receipt='{receipt}']")).to_have_count(0)
    await expect(page.get_by_role("button", name="下一页")).to_be_disabled()
