"""The printable receipt names the clerk who accepted the application, whoever prints it: a
colleague reprinting the slip does not become its clerk."""

from __future__ import annotations

import aiohttp
import pytest
from playwright.async_api import Page, expect

from services.common import auth
from services.launcher.platform import Platform
from tests.conftest import wait_for_entry
from tests.factories import dibao_json

# The console test's browser and page fixtures, imported to be found (hence F401 here and
# F811 on the functions whose page argument is the fixture).
from tests.test_console import browser, page, screenshot  # noqa: F401

pytestmark = [pytest.mark.browser]


async def _sign_in_as(page: Page, subject: str, name: str) -> None:  # noqa: F811
    await page.goto("/console/")
    token = auth.issue("window_clerk", "320585", subject=subject, name=name)
    await page.get_by_label("访问令牌").fill(token)
    await page.keyboard.press("Enter")
    await expect(page.locator("#who [data-role='window_clerk']")).to_contain_text("320585")


async def test_a_reprinted_receipt_names_the_accepting_clerk(page: Page, platform: Platform):  # noqa: F811
    accepting = auth.issue("window_clerk", "320585", subject="clerk-li-0007", name="李梅")
    async with aiohttp.ClientSession(
        f"http://127.0.0.1:{platform.ports.gateway_http}",
        headers={"Authorization": f"Bearer {accepting}"},
    ) as clerk:
        async with clerk.post("/v1/applications", json=dibao_json()) as response:
            assert response.status == 200, await response.text()
            receipt = (await response.json())["receipt"]
        await wait_for_entry(clerk, receipt, "ROUTED")

    await _sign_in_as(page, "clerk-zhao-0011", "赵强")
    await page.goto(f"/console/#/receipt/{receipt}")
    slip = page.locator(".receipt-slip")
    await expect(slip.locator(".receipt-number")).to_have_text(receipt)
    await expect(slip.locator(".clerk")).to_have_text("李梅")
    await expect(slip).not_to_contain_text("赵强")
    await screenshot(page, "receipt-reprinted-by-a-colleague")
