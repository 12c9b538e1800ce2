"""`onedoor login` against the real identity provider: the device flow, signed in on a browser
(Debian's chromium) with a user name and password, and the token it prints taken by the
gateway for the next command."""

from __future__ import annotations

import asyncio
import os
import re

import pytest
from playwright.async_api import Page, expect

from services.launcher.identity_provider import IdentityProvider, demo_password
from services.launcher.platform import Platform
from tests import test_console
from tests.test_cli import ONEDOOR, onedoor

pytestmark = [pytest.mark.browser]

browser = test_console.browser
page = test_console.page
LINK = re.compile(r"Open (\S+) in a browser, check that it shows the code (\S+),")


async def test_onedoor_login_signs_in_with_the_device_flow(
    platform: Platform, identity_provider: IdentityProvider, page: Page
) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ONEDOOR_")}
    environment["ONEDOOR_GATEWAY"] = f"http://127.0.0.1:{platform.ports.gateway_http}"
    process = await asyncio.create_subprocess_exec(
        str(ONEDOOR),
        "login",
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None and process.stdout is not None
    line = (await asyncio.wait_for(process.stderr.readline(), timeout=30)).decode()
    found = LINK.search(line)
    assert found, line
    link, code = found.groups()
    # The provider the gateway names, found without being told.
    assert link.startswith(identity_provider.issuer)

    await page.goto(link)
    await expect(page.get_by_role("heading", name="确认命令行登录")).to_be_visible()
    await expect(page.locator("code")).to_have_text(code)
    await page.get_by_role("button", name="确认登录").click()
    await page.get_by_label("用户名").fill("officer-elderly")
    await page.get_by_label("密码").fill(demo_password())
    await page.get_by_role("button", name="登录").click()
    await expect(page.get_by_role("heading", name="已登录")).to_be_visible()

    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    token = out.decode().strip()
    assert token.count(".") == 2 and "\n" not in token

    # The token the device flow gave serves the next command as the officer it names.
    cases = await onedoor(platform, "cases", "--json", token=token)
    assert cases.code == 0, cases.err
    other = await onedoor(platform, "cases", "--department", "assistance", token=token)
    assert other.code == 1, other.err


async def test_onedoor_login_names_a_provider_that_is_not_there(platform: Platform) -> None:
    ran = await onedoor(platform, "login", "--issuer", "http://127.0.0.1:9", token=None)
    assert ran.code == 3
    assert "did not answer" in ran.err
