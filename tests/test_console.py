"""The window clerk's console in a real browser (Debian's chromium, driven by Playwright)
against the real platform: what a clerk and an officer see and do, asserted on the page."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from playwright.async_api import Browser, Locator, Page, async_playwright, expect

from gateway.status_page import url_for
from services.common.clock import BureauClock
from services.launcher.platform import Platform
from tests.conftest import bearer, get_application, wait_for_entry
from tests.factories import Person, application, dibao_json, person
from tests.test_status_page import KEY as STATUS_PAGE_KEY

pytestmark = [pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
WIDTH, HEIGHT = 1366, 768
ARTIFACTS = Path(__file__).parent / "artifacts" / "console"
README_SCREENSHOT = Path(__file__).parent.parent / "docs" / "console.png"
RECEIPT = re.compile(r"^\d{6}-[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$")
TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        # A missing browser fails rather than skips: a skipped console test would pass CI.
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        yield launched
        await launched.close()


@pytest.fixture
async def page(browser: Browser, platform: Platform) -> AsyncIterator[Page]:
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
    yield opened
    await context.close()
    assert not uncaught, uncaught


async def sign_in(page: Page, role: str = "window_clerk", department: str = "") -> None:
    await page.goto("/console/")
    token = bearer(role, department=department)["Authorization"].removeprefix("Bearer ")
    await page.get_by_label("访问令牌").fill(token)
    await page.keyboard.press("Enter")
    await expect(page.locator(f"#who [data-role='{role}']")).to_contain_text("320585")


# What a Chinese screen may show in Latin letters: receipts, the codes of matters and
# materials (assistance.dibao, income_proof), enum-like codes (CASE_STATE_APPROVED), ids of
# staff accounts (officer:officer-320585), hexadecimal trace ids on staff screens, and the
# language switch's own "English".
# Receipts and request ids (UUIDs) mix digits and letters; they go before words are picked.
_RECEIPT_OR_ID = re.compile(
    r"\b\d{6}-[0-9A-Z]{5}-[0-9A-Z]{5}\b|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"
)
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.:\-]*")
_ALLOWED_LATIN = re.compile(
    r"^(?:\d{6}-[0-9A-Z]{5}-[0-9A-Z]{5}"  # a receipt
    r"|[a-z]+(?:[._][a-z0-9_]+)+"  # a matter's or a material's code
    r"|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+"  # an enum's value
    r"|[a-z_]+:[a-z0-9_.\-]+"  # a staff account (role:subject)
    r"|[a-z_]+(?:-[a-z0-9_]+)+"  # a staff member's subject (window_clerk-320585)
    r"|[0-9a-f]{16,}"  # a trace id
    r"|English"
    r"|.{1,2})$"
)


async def open_view(page: Page, link: str, view: str) -> Locator:
    """Follows the navigation's ``link`` and answers the ``view`` it draws (``.view-search``).
    Look for fields inside it: a label is matched by part of its text, and until the hash
    change redraws the page the previous view's field (当事人身份证号码) can match
    (身份证号码)."""
    await page.get_by_role("link", name=link).click()
    drawn = page.locator(f".view-{view}")
    await expect(drawn).to_be_visible()
    return drawn


async def latin_words(page: Page) -> list[str]:
    """Words in Latin letters on the screen that are not codes, receipts or ids."""
    # Commands and codes a screen quotes stand in <code>: they are not prose.
    shown = await page.evaluate(
        """() => { const body = document.body.cloneNode(true);
                   body.querySelectorAll("code, kbd, samp").forEach((e) => e.remove());
                   document.documentElement.append(body); const text = body.innerText;
                   body.remove(); return text; }"""
    )
    shown = _RECEIPT_OR_ID.sub(" ", shown)
    words = {w.rstrip(".:-") for w in _LATIN_WORD.findall(shown)}
    return sorted(w for w in words if w and not _ALLOWED_LATIN.match(w))


async def screenshot(page: Page, name: str, full_page: bool = True) -> Path:
    """Every screen the browser tests show is photographed here, and a Chinese one is held to
    speaking Chinese: no English word but codes, receipts and ids."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=full_page)
    if (await page.evaluate("document.documentElement.lang")).startswith("zh"):
        english = await latin_words(page)
        assert not english, f"English on the Chinese screen {name}: {english}"
    return path


async def assert_no_horizontal_scroll(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"the page is {width}px wide at {WIDTH}×{HEIGHT}"


def field(page: Page, path: str) -> Any:
    return page.locator(f"[data-path='{path}']")


def with_wrong_check_digit(id_number: str) -> str:
    wrong = "0" if id_number[-1] != "0" else "1"
    return id_number[:-1] + wrong


async def submitted(http: aiohttp.ClientSession, body: dict[str, Any]) -> str:
    async with http.post("/v1/applications", json=body) as response:
        answer = await response.json()
        assert response.status == 200, answer
        return str(answer["receipt"])


async def test_a_clerk_submits_dibao_with_live_checks_and_prints_the_receipt(page, http):
    applicant, spouse = person(age=62), person(age=60)
    await sign_in(page)
    await page.locator("button[data-matter='assistance.dibao']").click()
    await expect(page.locator(".matter-about")).to_contain_text("法定办理时限 30 天")

    await field(page, "applicant.name").locator("input").fill(applicant.name)
    id_input = field(page, "applicant.id_number").locator("input")
    await id_input.fill(with_wrong_check_digit(applicant.id_number))
    # Checked as soon as the 18th character is typed, before the clerk leaves the field.
    await expect(field(page, "applicant.id_number").locator(".error")).to_have_text(
        "校验码不符，请核对号码"
    )
    await expect(id_input).to_have_attribute("aria-invalid", "true")
    await screenshot(page, "1-live-check", full_page=False)

    await id_input.fill(applicant.id_number)
    await expect(field(page, "applicant.id_number").locator(".error")).to_be_empty()
    await expect(field(page, "applicant.id_number").locator(".hint")).to_contain_text("62 岁")
    await field(page, "applicant.phone").locator("input").fill(applicant.phone)
    await expect(field(page, "applicant.hukou_division").locator(".hint")).to_have_text(
        "江苏省苏州市太仓市"
    )
    # The applicant's own household row mirrors the applicant.
    await expect(field(page, "household_members[0].id_number").locator("input")).to_have_value(
        applicant.id_number
    )
    await field(page, "household_members[0].monthly_income_fen").locator("input").fill("300")
    await page.get_by_role("button", name="添加家庭成员").click()
    await field(page, "household_members[1].name").locator("input").fill(spouse.name)
    await field(page, "household_members[1].id_number").locator("input").fill(spouse.id_number)
    await field(page, "household_members[1].relation").locator("input").fill("配偶")
    await field(page, "household_members[1].monthly_income_fen").locator("input").fill("200.50")
    await expect(page.locator(".household-total")).to_contain_text("人均 250.25 元")
    await page.get_by_label("家庭全体成员已签署经济状况核对授权书").check()
    await page.get_by_role("button", name="全部已收").click()
    await expect(page.locator(".materials-count")).to_have_text("已收 4 / 4 项")
    # Switching the language relabels the form and keeps what was typed.
    await page.get_by_role("button", name="切换语言：English").click()
    await expect(field(page, "applicant.id_number").locator("label")).to_have_text(
        "Identity number"
    )
    await expect(id_input).to_have_value(applicant.id_number)
    await page.get_by_role("button", name="Switch language: 中文").click()
    await expect(field(page, "applicant.id_number").locator("label")).to_have_text("公民身份号码")
    await assert_no_horizontal_scroll(page)
    form_shot = await screenshot(page, "2-new-application")

    # Enter in a field submits; the button is disabled while the request is out.
    await field(page, "applicant.phone").locator("input").press("Enter")
    number = page.locator(".receipt-number")
    await expect(number).to_be_visible()
    receipt = (await number.text_content() or "").strip()
    assert RECEIPT.match(receipt), receipt
    slip = page.locator(".receipt-slip")
    await expect(slip).to_contain_text("受理回执")
    await expect(slip).to_contain_text("最低生活保障")
    await expect(slip).to_contain_text("社会救助")
    deadline = (await slip.locator(".deadline").text_content() or "").strip()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} 23:59", deadline), deadline
    # The complete receipt: the applicant masked, the materials, the window and the clerk, the
    # bureau's contact line; the trace id beside it for staff, never on the slip.
    masked = applicant.name[0] + "*" * (len(applicant.name) - 1)
    await expect(slip.locator(".applicant")).to_contain_text(masked)
    await expect(slip).not_to_contain_text(applicant.id_number)
    await expect(slip.locator(".materials-received")).to_contain_text("居民身份证")
    await expect(slip.locator(".window")).to_contain_text("太仓市")
    await expect(slip.locator(".clerk")).not_to_be_empty()
    await expect(slip.locator(".contact")).to_contain_text("0512-00000000")
    await expect(slip.locator(".trace-id")).to_have_count(0)
    trace_id = (await page.locator(".staff-only .trace-id").text_content() or "").strip()
    assert re.fullmatch(r"[0-9a-f]{32}", trace_id), trace_id
    qr = slip.locator("img.qr")
    await expect(qr).to_have_attribute("src", f"qr/{receipt}.svg")
    await page.wait_for_function("document.querySelector('img.qr').naturalWidth > 0")
    await assert_no_horizontal_scroll(page)
    await screenshot(page, "3-receipt")

    # The print-out is the receipt alone: no header, navigation or buttons.
    await page.emulate_media(media="print")
    await expect(page.locator("header.chrome")).to_be_hidden()
    await expect(page.get_by_role("button", name="打印回执")).to_be_hidden()
    await expect(slip).to_be_visible()
    await expect(page.locator(".staff-only")).to_be_hidden()
    await screenshot(page, "4-receipt-print")
    await page.emulate_media(media="screen")

    shown = await get_application(http, receipt)
    assert shown["matterCode"] == "assistance.dibao"
    assert shown["applicantName"] == applicant.name[0] + "*" * (len(applicant.name) - 1)
    # The README's picture is refreshed on request, so a test run leaves the tree clean.
    if os.environ.get("ONEDOOR_UPDATE_SCREENSHOT"):
        shutil.copyfile(form_shot, README_SCREENSHOT)


async def test_a_refusal_shows_the_servers_field_errors_beside_the_fields(page, http):
    # Only the registry knows this person has died; the browser's checks all pass.
    deceased = person(age=81)
    death = await submitted(
        http,
        application(
            "registry.death",
            person(),
            death={
                "deceasedName": deceased.name,
                "deceasedIdNumber": deceased.id_number,
                "dateOfDeath": (dt.date.today() - dt.timedelta(days=3)).isoformat(),
            },
        ),
    )
    await wait_for_entry(http, death, "COMPLETED")

    await sign_in(page)
    await page.get_by_label("申请事项").select_option("elderly.senior_card")
    await fill_applicant(page, deceased)
    await page.get_by_role("button", name="全部已收").click()
    await page.get_by_role("button", name="提交受理").click()

    error = field(page, "applicant.id_number").locator(".error")
    await expect(error).to_have_text("死亡登记记录显示此人已死亡，不能受理")
    id_input = field(page, "applicant.id_number").locator("input")
    await expect(id_input).to_have_attribute("aria-invalid", "true")
    await expect(id_input).to_be_focused()
    summary = page.get_by_role("alert")
    await expect(summary).to_contain_text("申请未被受理")
    await expect(summary).to_contain_text("公民身份号码")
    await expect(page.locator(".receipt-slip")).to_have_count(0)
    await assert_no_horizontal_scroll(page)
    await screenshot(page, "5-refused")

    # Editing the field clears the server's word about it.
    await id_input.fill(person(age=70).id_number)
    await expect(error).to_be_empty()


async def test_a_marriage_form_checks_the_other_partys_number_as_it_is_typed(page, http):
    groom, bride = person(age=30, sex="male"), person(age=28, sex="female")
    await sign_in(page)
    await page.get_by_label("申请事项").select_option("registry.marriage")
    await fill_applicant(page, groom)
    await field(page, "details.other_party.name").locator("input").fill(bride.name)
    other_id = field(page, "details.other_party.id_number")
    await other_id.locator("input").fill(with_wrong_check_digit(bride.id_number))
    await expect(other_id.locator(".error")).to_have_text("校验码不符，请核对号码")
    # Nobody marries themselves: the applicant's number is refused for the other party.
    await other_id.locator("input").fill(groom.id_number)
    await expect(other_id.locator(".error")).to_have_text("与其他人员的号码重复")
    await other_id.locator("input").fill(bride.id_number)
    await expect(other_id.locator(".error")).to_be_empty()
    await expect(other_id.locator(".hint")).to_contain_text("28 岁")
    await page.get_by_role("button", name="全部已收").click()
    await page.get_by_role("button", name="提交受理").click()

    number = page.locator(".receipt-number")
    await expect(number).to_be_visible()
    shown = await get_application(http, (await number.text_content() or "").strip())
    assert shown["matterCode"] == "registry.marriage"


async def fill_applicant(page: Page, someone: Person) -> None:
    await field(page, "applicant.name").locator("input").fill(someone.name)
    await field(page, "applicant.id_number").locator("input").fill(someone.id_number)
    await field(page, "applicant.phone").locator("input").fill(someone.phone)


async def test_a_look_up_shows_the_timeline_masked_and_in_either_language(page, http, platform):
    applicant = person()
    receipt = await submitted(http, dibao_json(applicant))
    await wait_for_entry(http, receipt, "ROUTED")

    await sign_in(page)
    lookup = await open_view(page, "进度查询", "lookup")
    await lookup.get_by_label("受理编号").fill(receipt.lower())
    await page.keyboard.press("Enter")

    case = page.locator(f"article.case[data-receipt='{receipt}']")
    await expect(case.locator(".case-heading .badge")).to_have_text("办理中")
    await expect(case.locator(".timeline li[data-kind='ACCEPTED']")).to_contain_text("受理窗口")
    routed = case.locator(".timeline li[data-kind='ROUTED']")
    await expect(routed).to_contain_text("社会救助")
    # The department's assessment, rendered by the gateway in the console's language.
    await expect(routed).to_contain_text("初审符合条件：家庭2人，人均月收入400.00元")
    await expect(case.locator(".progress tr[data-department='assistance']")).to_contain_text(
        "办理中"
    )
    # Personal data only as the API masks it.
    text = await case.inner_text()
    assert applicant.id_number not in text and applicant.name not in text
    assert applicant.id_number[:4] + "**********" + applicant.id_number[-4:] in text
    await assert_no_horizontal_scroll(page)
    await screenshot(page, "6-look-up")

    await page.get_by_role("button", name="切换语言：English").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Look up a case")
    await expect(case.locator(".case-heading .badge")).to_have_text("In progress")
    await expect(routed.locator(".kind")).to_have_text("Routed")
    # Fetched again in English: the texts follow the language, the values stay.
    await expect(routed.locator(".note")).to_contain_text("assessment: eligible: household of 2")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await assert_no_horizontal_scroll(page)
    await screenshot(page, "7-look-up-english")
    await page.get_by_role("button", name="Switch language: 中文").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("进度查询")
    await expect(routed.locator(".note")).to_contain_text("初审符合条件")

    # A QR scanner types the slip's status page address, then Enter: the case it names shows,
    # and the field keeps only its receipt.
    await page.get_by_role("link", name="进度查询").click()
    await expect(case).to_have_count(0)
    base = f"http://127.0.0.1:{platform.ports.gateway_http}"
    await page.get_by_label("受理编号").press_sequentially(url_for(base, STATUS_PAGE_KEY, receipt))
    await page.keyboard.press("Enter")
    await expect(case.locator(".case-heading .badge")).to_have_text("办理中")
    await expect(page.get_by_label("受理编号")).to_have_value(receipt)
    assert page.url.endswith(f"#/lookup/{receipt}")

    await page.get_by_role("button", name="退出").click()
    await expect(page.get_by_label("访问令牌")).to_be_focused()
    assert await page.evaluate("sessionStorage.length") == 0
    await expect(case).to_have_count(0)


async def find_in_queue(page: Page, receipt: str) -> Any:
    """The row of a case in the officer's queue, paging forward (oldest first) to it."""
    await page.get_by_role("link", name="待办案件").click()
    row = page.locator(f"table.queue tr[data-receipt='{receipt}']")
    next_page = page.get_by_role("button", name="下一页")
    info = page.locator(".page-info")
    for _ in range(50):
        await expect(info).not_to_be_empty()
        if await row.count():
            return row
        if await next_page.is_disabled():
            break
        shown = await info.text_content()
        await next_page.click()
        # The next page has arrived only once its line says so; until then the old rows show.
        await expect(info).not_to_have_text(shown or "")
    pytest.fail(f"{receipt} is not in the queue")


async def test_an_officer_decides_from_the_queue_and_the_look_up_shows_it(
    page, http, platform: Platform
):
    receipt = await submitted(http, dibao_json())
    late = await submitted(http, dibao_json())
    await wait_for_entry(http, receipt, "ROUTED")
    await wait_for_entry(http, late, "ROUTED")
    # The department's deadline for one case lies in the past: the queue must mark it.
    conn = await asyncpg.connect(platform.database_url("assistance"))
    try:
        await conn.execute(
            "UPDATE department_cases SET decision_deadline = now() - interval '2 days'"
            " WHERE receipt = $1",
            late,
        )
    finally:
        await conn.close()

    await sign_in(page, "officer", "assistance")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("待办案件 · 社会救助")
    overdue_row = await find_in_queue(page, late)
    await expect(overdue_row).to_have_class(re.compile(r"\boverdue\b"))
    await expect(overdue_row).to_contain_text("已超期")
    await assert_no_horizontal_scroll(page)
    await screenshot(page, "8-queue")

    # Rejecting needs a reason: refused in the dialog until one is given.
    await overdue_row.get_by_role("button", name=f"不予批准 {late}").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text(f"不予批准 {late}")
    await dialog.get_by_role("button", name="确认不予批准").click()
    await expect(dialog.locator(".error")).to_have_text("请填写理由。")
    await dialog.get_by_role("textbox").fill("家庭人均收入核实后高于保障标准")
    # The dialog's own language switch: the queue is fetched again in English, and the
    # dialog takes its words (the assessment's too) and keeps the reason typed.
    await dialog.get_by_role("button", name="切换语言：English").click()
    await expect(dialog.get_by_role("heading")).to_have_text(f"Reject {late}")
    await expect(dialog.locator(".decision-summary .note")).to_contain_text("Assessment")
    await expect(dialog.locator(".decision-summary .note")).to_contain_text("household of 2")
    await expect(dialog.get_by_role("textbox")).to_have_value("家庭人均收入核实后高于保障标准")
    await dialog.get_by_role("button", name="Switch language: 中文").click()
    await expect(dialog.locator(".decision-summary .note")).to_contain_text("家庭2人")
    await dialog.get_by_role("button", name="确认不予批准").click()
    await expect(page.get_by_role("status")).to_have_text(f"{late} 已决定不予批准。")

    row = await find_in_queue(page, receipt)
    await expect(row).not_to_have_class(re.compile(r"\boverdue\b"))
    await expect(row).to_contain_text("符合条件")
    # By keyboard: Enter on the row's button, Enter again confirms.
    await row.get_by_role("button", name=f"批准 {receipt}", exact=True).focus()
    await page.keyboard.press("Enter")
    await expect(dialog).to_contain_text(f"批准 {receipt}")
    await expect(dialog.get_by_role("button", name="确认批准")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("status")).to_have_text(f"{receipt} 已批准。")
    await expect(page.locator(f"table.queue tr[data-receipt='{receipt}']")).to_have_count(0)

    # The decision reaches the case's timeline through the router: refresh until it shows.
    lookup = await open_view(page, "进度查询", "lookup")
    await lookup.get_by_label("受理编号").fill(receipt)
    await page.keyboard.press("Enter")
    badge = page.locator(f"article.case[data-receipt='{receipt}'] .case-heading .badge")
    for _ in range(60):
        await expect(badge).to_be_visible()
        if (await badge.text_content() or "") == "已批准":
            break
        await page.wait_for_timeout(250)
        await page.get_by_role("button", name="刷新").click()
    await expect(badge).to_have_text("已批准")
    case = page.locator(f"article.case[data-receipt='{receipt}']")
    await expect(case.locator(".timeline li[data-kind='APPROVED']")).to_contain_text("社会救助")
    await expect(case.locator(".progress tr[data-department='assistance']")).to_contain_text(
        "已批准"
    )
    await screenshot(page, "9-approved")


async def test_the_date_of_death_is_typed_year_first_and_checked_to_the_day(page):
    await sign_in(page)
    await page.get_by_label("申请事项").select_option("registry.death")
    date = field(page, "details.death.date_of_death")
    typed = date.locator("input")
    await expect(typed).to_have_attribute("type", "text")
    await expect(typed).to_have_attribute("placeholder", "年-月-日")
    await typed.fill("2024/2/30")
    await typed.blur()
    await expect(date.locator(".error")).to_have_text("没有这一天，请核对")
    await expect(typed).to_have_attribute("aria-invalid", "true")
    # The bureau's tomorrow is in the future whatever the host's zone.
    tomorrow = BureauClock().today() + dt.timedelta(days=1)
    await typed.fill(f"{tomorrow.year}年{tomorrow.month}月{tomorrow.day}日")
    await typed.blur()
    await expect(typed).to_have_value(tomorrow.isoformat())
    await expect(date.locator(".error")).to_have_text("不能晚于今天")
    await typed.fill("2024/2/29")
    await typed.blur()
    await expect(typed).to_have_value("2024-02-29")
    await expect(date.locator(".error")).to_be_empty()
    await screenshot(page, "16-date-of-death", full_page=False)
    await page.get_by_role("button", name="切换语言：English").click()
    await expect(typed).to_have_attribute("placeholder", "YYYY-MM-DD")
    await expect(typed).to_have_value("2024-02-29")
