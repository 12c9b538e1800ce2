"""Signing in to the console at the bureau's identity provider, in a real browser: a clerk types
a user name and password on the provider's login page and is back in the console; a session
that ends mid-form says so and the form comes back after signing in again; signing out ends
the provider's session."""

from __future__ import annotations

import datetime as dt
import json
import re

import jwt
import pytest
from playwright.async_api import Page, expect

from services.launcher.identity_provider import IdentityProvider, demo_password
from tests import test_console
from tests.factories import person
from tests.test_console import screenshot

pytestmark = [pytest.mark.browser]

# The console tests' browser and page, shared rather than started twice.
browser = test_console.browser
page = test_console.page


field = test_console.field


async def sign_in_at_provider(page: Page, username: str, shot: str = "") -> None:
    await page.goto("/console/")
    await page.get_by_role("button", name="统一身份认证登录").click()
    # The provider's own page, on its own origin.
    await expect(page.get_by_role("heading", name="工作人员登录")).to_be_visible()
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill(demo_password())
    if shot:
        await screenshot(page, shot, full_page=False)
    await page.get_by_role("button", name="登录").click()


def expired_copy(token: str, provider: IdentityProvider) -> str:
    """The same claims, signed with the provider's own key, expired an hour ago."""
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["exp"] = int((dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).timestamp())
    key = json.loads(provider.keys_file.read_text())["keys"][0]
    return jwt.encode(claims, jwt.PyJWK(key).key, algorithm=key["alg"], headers={"kid": key["kid"]})


async def test_a_clerk_signs_in_with_user_name_and_password_at_the_provider(
    page: Page, identity_provider: IdentityProvider
) -> None:
    await sign_in_at_provider(page, "clerk", shot="0-provider-login")
    who = page.locator("#who [data-role='window_clerk']")
    await expect(who).to_contain_text("320585")
    await expect(who).to_contain_text("窗口 张敏")
    # No code, state or token is left in the address bar or the history.
    assert "code=" not in page.url and "state=" not in page.url
    await expect(page.locator("button[data-matter='assistance.dibao']")).to_be_visible()
    await screenshot(page, "0-signed-in-at-provider", full_page=False)


async def test_a_wrong_password_stays_at_the_provider(
    page: Page, identity_provider: IdentityProvider
) -> None:
    await page.goto("/console/")
    await page.get_by_role("button", name="统一身份认证登录").click()
    await page.get_by_label("用户名").fill("clerk")
    await page.get_by_label("密码").fill("not-the-password")
    await page.get_by_role("button", name="登录").click()
    await expect(page.get_by_text("用户名或密码不正确")).to_be_visible()
    assert page.url.startswith(identity_provider.issuer)


async def test_an_officer_from_the_provider_sees_the_departments_queue(
    page: Page, identity_provider: IdentityProvider
) -> None:
    await sign_in_at_provider(page, "officer-assistance")
    who = page.locator("#who [data-role='officer']")
    await expect(who).to_contain_text("社会救助")
    await expect(page).to_have_url(re.compile(r"/console/#/queue$"))


async def test_an_ended_session_says_so_and_keeps_the_form_through_the_next_sign_in(
    page: Page, identity_provider: IdentityProvider
) -> None:
    applicant, spouse = person(age=62), person(age=60)
    await sign_in_at_provider(page, "clerk")
    await page.locator("button[data-matter='assistance.dibao']").click()
    await field(page, "applicant.name").locator("input").fill(applicant.name)
    await field(page, "applicant.id_number").locator("input").fill(applicant.id_number)
    await field(page, "applicant.phone").locator("input").fill(applicant.phone)
    await field(page, "household_members[0].monthly_income_fen").locator("input").fill("300")
    await page.get_by_role("button", name="添加家庭成员").click()
    await field(page, "household_members[1].name").locator("input").fill(spouse.name)
    await field(page, "household_members[1].id_number").locator("input").fill(spouse.id_number)
    await field(page, "household_members[1].relation").locator("input").fill("配偶")
    await field(page, "household_members[1].monthly_income_fen").locator("input").fill("200.50")
    await page.get_by_label("家庭全体成员已签署经济状况核对授权书").check()
    await page.get_by_role("button", name="全部已收").click()

    # The token runs out while the clerk fills the form: the gateway refuses the submission.
    token = await page.evaluate("sessionStorage.getItem('onedoor.console.token')")
    stale = expired_copy(token, identity_provider)
    await page.evaluate(f"sessionStorage.setItem('onedoor.console.token', {json.dumps(stale)})")
    await field(page, "applicant.phone").locator("input").press("Enter")
    banner = page.locator(".view-signin .banner")
    await expect(banner).to_contain_text("登录已失效")
    await expect(banner).to_contain_text("表单已保留")
    await screenshot(page, "0-session-ended", full_page=False)

    # The provider's session still holds: signing in again asks for no password.
    await page.get_by_role("button", name="统一身份认证登录").click()
    await expect(page.locator("#who [data-role='window_clerk']")).to_contain_text("320585")
    await expect(page.locator("form[data-matter='assistance.dibao'] .banner")).to_contain_text(
        "已恢复"
    )
    await expect(field(page, "applicant.name").locator("input")).to_have_value(applicant.name)
    await expect(field(page, "applicant.phone").locator("input")).to_have_value(applicant.phone)
    await expect(field(page, "household_members[1].name").locator("input")).to_have_value(
        spouse.name
    )
    await expect(page.locator(".household-total")).to_contain_text("人均 250.25 元")
    await expect(page.get_by_label("家庭全体成员已签署经济状况核对授权书")).to_be_checked()
    await expect(page.locator(".materials-count")).to_have_text("已收 4 / 4 项")
    # Nothing of the applicant stays behind in the tab once the form is back.
    assert await page.evaluate("sessionStorage.getItem('onedoor.console.kept_form')") is None
    await screenshot(page, "0-form-restored")

    await field(page, "applicant.phone").locator("input").press("Enter")
    await expect(page.locator(".receipt-number")).to_be_visible()


async def test_signing_out_ends_the_providers_session(
    page: Page, identity_provider: IdentityProvider
) -> None:
    await sign_in_at_provider(page, "auditor")
    await expect(page.locator("#who [data-role='auditor']")).to_be_visible()
    await page.locator("#sign-out").click()
    # RP-initiated logout: the provider asks, then sends the browser back.
    await page.get_by_role("button", name="退出登录").click()
    await expect(page.locator(".view-signin .banner")).to_contain_text("已退出登录")
    assert await page.evaluate("sessionStorage.getItem('onedoor.console.token')") is None
    # Signing in again asks for the password: the provider's session is gone.
    await page.get_by_role("button", name="统一身份认证登录").click()
    await expect(page.get_by_label("密码")).to_be_visible()
