"""The warnings queue in the console, in a real browser against the real platform: an
officer sees what a medical push raised for a dibao household, in Chinese, is held to a reason
before dismissing, and opens a proactive case from the warning."""

from __future__ import annotations

import re

import grpc
import pytest
from playwright.async_api import expect

from onedoor.ingest.v1 import ingest_service_pb2_grpc
from tests import test_console, test_outreach
from tests.test_outreach import approved_dibao_household, bill, file_of, push

pytestmark = [pytest.mark.browser]

# The console tests' browser and page, shared.
browser = test_console.browser
page = test_console.page
assistance_db = test_outreach.assistance_db


async def test_an_officer_works_the_warnings_queue_in_the_console(
    page, http, assistance, platform, assistance_db
):
    members, _ = await approved_dibao_household(http, assistance)
    household_file = await file_of(assistance_db, members[0])
    async with grpc.aio.insecure_channel(f"127.0.0.1:{platform.ports.ingest}") as channel:
        await push(ingest_service_pb2_grpc.IngestServiceStub(channel), [bill(members[0], 900_000)])

    await test_console.sign_in(page, "officer", "assistance")
    await page.get_by_role("link", name="预警").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("数据预警")
    row = page.locator(f"table.warnings tr[data-household='{household_file}']").filter(
        has_text="因病致贫风险"
    )
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("有因病致贫风险")
    await expect(row).to_contain_text("9,000.00元")
    await test_console.assert_no_horizontal_scroll(page)
    await test_console.screenshot(page, "20-warnings")

    # Dismissing takes a reason.
    await row.get_by_role("button", name="排除", exact=True).click()
    await row.get_by_role("button", name="确认排除").click()
    await expect(row.locator(".field-error")).to_have_text("请填写排除理由。")

    await row.get_by_role("button", name="主动立案").click()
    status = page.locator(".view-warnings [role='status']")
    await expect(status).to_have_text(re.compile(r"^已主动立案：\d{6}-[0-9A-Z]{5}-[0-9A-Z]{5}$"))
    receipt = (await status.text_content() or "").removeprefix("已主动立案：")
    await page.get_by_role("tab", name="已立案").click()
    opened = page.locator(f"table.warnings tr[data-household='{household_file}']").filter(
        has_text="因病致贫风险"
    )
    await expect(opened.get_by_role("link", name=receipt)).to_be_visible()
    await test_console.screenshot(page, "21-warnings-case-opened")


async def test_the_case_file_shows_the_household_files_warnings(
    page, http, assistance, platform, assistance_db
):
    members, receipt = await approved_dibao_household(http, assistance)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{platform.ports.ingest}") as channel:
        await push(ingest_service_pb2_grpc.IngestServiceStub(channel), [bill(members[0], 900_000)])

    await test_console.sign_in(page, "officer", "assistance")
    await page.evaluate(f"location.hash = '#/file/{receipt}'")
    section = page.locator("section.file-section").filter(
        has=page.get_by_role("heading", name="家庭档案的数据预警")
    )
    risk = section.locator("ul.household-warnings li").filter(has_text="因病致贫风险")
    await expect(risk).to_have_count(1)
    await expect(risk).to_contain_text("新预警")
    await expect(risk.locator(".reason")).to_contain_text("有因病致贫风险")
    await expect(risk.locator(".reason")).to_contain_text("9,000.00元")
    await test_console.assert_no_horizontal_scroll(page)
    await test_console.screenshot(page, "22-case-file-warnings")

    # Opened as a proactive case in the warnings queue, the case file links to it.
    warning_id = await risk.get_attribute("data-warning")
    await page.get_by_role("link", name="预警").click()
    row = page.locator(f"table.warnings tr[data-warning='{warning_id}']")
    await row.get_by_role("button", name="主动立案").click()
    status = page.locator(".view-warnings [role='status']")
    await expect(status).to_have_text(re.compile(r"^已主动立案：\S+$"))
    opened = (await status.text_content() or "").removeprefix("已主动立案：")
    await page.evaluate(f"location.hash = '#/file/{receipt}'")
    await expect(risk).to_contain_text("已立案")
    await expect(risk.get_by_role("link", name=opened)).to_be_visible()
