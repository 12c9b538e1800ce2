"""The officer's and the auditor's day in a real browser: an officer asks for materials from
the case file with a reason template, approves from it once they are supplied and sees their
name on the timeline; an auditor reads a case's entries, filters by actor and by day, and sees
the chain intact. Screenshots of each new screen in zh and en."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from services.common.clock import BureauClock
from tests.conftest import bearer, wait_for_entry
from tests.factories import dibao_json

# The browser and page fixtures of the clerk's console tests, used here by their names (hence
# the test functions' noqa: their page argument is the fixture).
from tests.test_console import (  # noqa: F401
    HEIGHT,
    TIMEOUT_MS,
    WIDTH,
    assert_no_horizontal_scroll,
    browser,
    page,
    screenshot,
)

pytestmark = [pytest.mark.browser]

OFFICER_NAME = "救助科 李强"


async def sign_in(page: Page, role: str, department: str = "", name: str = "") -> None:  # noqa: F811
    await page.goto("/console/")
    token = bearer(role, department=department, name=name)["Authorization"]
    await page.get_by_label("访问令牌").fill(token.removeprefix("Bearer "))
    await page.keyboard.press("Enter")
    await expect(page.locator(f"#who [data-role='{role}']")).to_contain_text("320585")


async def in_english(page: Page, name: str) -> None:  # noqa: F811
    await page.get_by_role("button", name="切换语言：English").click()
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await assert_no_horizontal_scroll(page)
    await screenshot(page, name)
    await page.get_by_role("button", name="Switch language: 中文").click()
    await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


async def test_an_officer_decides_from_the_case_file_and_sees_their_name(page, http):  # noqa: F811
    async with http.post("/v1/applications", json=dibao_json()) as response:
        receipt = (await response.json())["receipt"]
    await wait_for_entry(http, receipt, "ROUTED")

    await sign_in(page, "officer", "assistance", OFFICER_NAME)
    await page.goto(f"/console/#/file/{receipt}")
    view = page.locator(".view-case-file")
    await expect(view.get_by_role("heading", level=1)).to_contain_text(receipt)
    members = view.locator("table.members tbody tr")
    await expect(members).to_have_count(2)
    await expect(members.first).to_contain_text("500.00")
    await expect(members.first.locator("td").first).to_contain_text("*")
    await expect(view.locator(".materials-list li.handed-in")).to_have_count(4)
    await expect(view.locator(".file-section").nth(2)).to_contain_text("符合条件")
    await assert_no_horizontal_scroll(page)
    await screenshot(page, "10-case-file")
    await in_english(page, "10-case-file-english")

    # Ask for materials with the matter's template, and a word of one's own.
    await view.get_by_role("button", name="补正材料").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("常用理由").select_option(label="请补充家庭成员近六个月的收入证明。")
    await dialog.get_by_role("textbox").fill("含配偶的工资单")
    await screenshot(page, "11-decision-with-template", full_page=False)
    await dialog.get_by_role("button", name="发出补正通知").click()
    await expect(page.get_by_role("status")).to_contain_text(receipt)
    entry = await wait_for_entry(http, receipt, "MATERIALS_REQUESTED")
    assert entry["timeline"][-1]["note"] == "请补充家庭成员近六个月的收入证明。含配偶的工资单"

    # The clerk records them at the window; the officer approves from the case file.
    async with http.post(
        f"/v1/applications/{receipt}:supplyMaterials", json={"materials": ["income_proof"]}
    ) as response:
        assert response.status == 200, await response.text()
    await wait_for_entry(http, receipt, "MATERIALS_SUPPLIED")
    await page.reload()
    await expect(view.locator(".state").first).to_have_attribute("data-state", "CASE_STATE_OPEN")
    await view.get_by_role("button", name="批准", exact=True).click()
    await dialog.get_by_role("textbox").fill("收入核实无误")
    await dialog.get_by_role("button", name="确认批准").click()
    await wait_for_entry(http, receipt, "APPROVED")
    await page.reload()
    approved = view.locator(".timeline li[data-kind='APPROVED']")
    await expect(approved).to_contain_text(OFFICER_NAME)
    await expect(view.locator(".timeline li[data-kind='MATERIALS_REQUESTED']")).to_contain_text(
        OFFICER_NAME
    )
    await expect(view.locator("button[data-decision]")).to_have_count(0)
    await screenshot(page, "12-case-file-decided")


async def test_an_auditor_reads_filters_and_sees_the_chain_intact(page, http):  # noqa: F811
    async with http.post("/v1/applications", json=dibao_json()) as response:
        receipt = (await response.json())["receipt"]
    await wait_for_entry(http, receipt, "ROUTED")
    officer = bearer("officer", department="assistance", name=OFFICER_NAME)
    async with http.get(
        f"/v1/departments/assistance/cases/{receipt}/file", headers=officer
    ) as response:
        assert response.status == 200

    await sign_in(page, "auditor")
    view = page.locator(".view-audit")
    await expect(view.get_by_role("heading", level=1)).to_have_text("审计日志")
    verdict = view.locator(".chain-verdict")
    await expect(verdict).to_have_attribute("data-intact", "true")
    await expect(verdict).to_contain_text("哈希链完整")

    await view.get_by_label("受理编号").fill(receipt)
    await view.get_by_role("button", name="查询").click()
    rows = view.locator("table.audit tbody tr")
    await expect(rows.last).to_contain_text("查阅案卷")
    await expect(rows.last).to_contain_text(OFFICER_NAME)
    for each in await rows.all():
        await expect(each).to_contain_text(receipt)
    await assert_no_horizontal_scroll(page)
    await screenshot(page, "13-audit-by-case")
    await in_english(page, "13-audit-by-case-english")

    # By actor, from the entry itself, and today's entries only.
    await view.get_by_label("受理编号").fill("")
    await rows.last.get_by_role("button", name="officer:officer-320585").click()
    await expect(view.get_by_label("操作人")).to_have_value("officer:officer-320585")
    today = BureauClock().today().isoformat()
    await view.get_by_label("起始日期").fill(today)
    await view.get_by_label("截止日期").fill(today)
    await view.get_by_role("button", name="查询").click()
    await expect(rows.first).to_be_visible()
    for each in await rows.all():
        await expect(each).to_contain_text("officer:officer-320585")
    await screenshot(page, "14-audit-by-actor-and-day")
    await view.get_by_label("起始日期").fill("2020-01-01")
    await view.get_by_label("截止日期").fill("2020-01-02")
    await view.get_by_role("button", name="查询").click()
    await expect(view.locator(".empty")).to_have_text("没有符合条件的记录。")
    await expect(verdict).to_have_class(re.compile(r"\bok-banner\b"))


async def test_dates_are_typed_in_the_consoles_language_not_the_browsers(browser, platform):  # noqa: F811
    # An English Chromium at a Chinese window: its date picker would say mm/dd/yyyy.
    context = await browser.new_context(
        viewport={"width": WIDTH, "height": HEIGHT},
        locale="en-US",
        timezone_id="Asia/Shanghai",
        base_url=f"http://127.0.0.1:{platform.ports.gateway_http}",
    )
    context.set_default_timeout(TIMEOUT_MS)
    english_browser = await context.new_page()
    try:
        await sign_in(english_browser, "auditor")
        view = english_browser.locator(".view-audit")
        since, until = view.get_by_label("起始日期"), view.get_by_label("截止日期")
        await expect(since).to_have_attribute("type", "text")
        await expect(since).to_have_attribute("placeholder", "年-月-日")
        since_error = english_browser.locator(f"#{await since.get_attribute('id')}-error")
        until_error = english_browser.locator(f"#{await until.get_attribute('id')}-error")

        # A day that does not exist is said beside its field, and nothing is asked.
        await since.fill("2020-02-30")
        await view.get_by_role("button", name="查询").click()
        await expect(since_error).to_have_text("没有这一天，请核对")
        await expect(since).to_have_attribute("aria-invalid", "true")
        await expect(since).to_be_focused()
        await screenshot(english_browser, "15-audit-date-refused", full_page=False)
        await since.fill("二〇二〇年")
        await view.get_by_role("button", name="查询").click()
        await expect(since_error).to_contain_text("年-月-日")

        # Dates as a clerk writes them, read to the day and shown back the bureau's way.
        await since.fill("2020/1/1")
        await until.fill("2020年1月2日")
        async with english_browser.expect_request("**/v1/audit?*") as sent:
            await view.get_by_role("button", name="查询").click()
        assert "sinceDate=2020-01-01" in (await sent.value).url
        assert "untilDate=2020-01-02" in (await sent.value).url
        await expect(since).to_have_value("2020-01-01")
        await expect(until).to_have_value("2020-01-02")
        await expect(view.locator(".empty")).to_have_text("没有符合条件的记录。")
        await since.fill("2020-01-03")
        await view.get_by_role("button", name="查询").click()
        await expect(until_error).to_have_text("截止日期不能早于起始日期")

        # The hint follows the console's language, whatever the browser's.
        await english_browser.get_by_role("button", name="切换语言：English").click()
        await expect(view.get_by_label("From")).to_have_attribute("placeholder", "YYYY-MM-DD")
        await screenshot(english_browser, "15-audit-date-refused-english", full_page=False)
    finally:
        await context.close()
