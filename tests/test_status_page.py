"""The public status page behind the receipt's QR: the right code shows the case and nothing
personal, a wrong or missing code is the same 404 as an unknown receipt, and a client asking
too often is answered 429."""

from __future__ import annotations

import re

import aiohttp

from gateway.console import receipt_qr
from gateway.status_page import RateLimit, code_for, url_for
from services.common.receipt import receipt_for
from tests.conftest import wait_for_entry
from tests.factories import dibao_json, person

# The development key the test platform's gateway holds (gateway/settings.py).
KEY = "development-status-page-key"


async def _page(platform, path: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as anonymous,
        anonymous.get(f"http://127.0.0.1:{platform.ports.gateway_http}{path}") as response,
    ):
        return response.status, await response.text()


async def test_the_right_code_shows_the_case_and_nothing_personal(platform, http):
    applicant = person()
    body = dibao_json(applicant)
    async with http.post("/v1/applications", json=body) as response:
        receipt = (await response.json())["receipt"]
    await wait_for_entry(http, receipt, "ROUTED")
    status, page = await _page(platform, f"/s/{receipt}?c={code_for(KEY, receipt)}")
    assert status == 200, page
    assert "最低生活保障" in page and "社会救助" in page and "办理期限" in page
    assert "审核" in page  # the next step of a routed case
    for member in body["householdMembers"]:
        assert member["name"] not in page and member["idNumber"] not in page
    assert applicant.phone not in page
    shown = re.sub(r"<style>.*?</style>|<[^>]+>", "", page, flags=re.S).replace(receipt, "")
    assert not re.search(r"[A-Za-z]{2,}", shown), shown  # Chinese only


async def test_a_wrong_or_missing_code_is_the_same_404_as_an_unknown_receipt(platform, http):
    async with http.post("/v1/applications", json=dibao_json()) as response:
        receipt = (await response.json())["receipt"]
    unknown = receipt_for("320585", "never-submitted-0001")
    answers = [
        await _page(platform, f"/s/{receipt}?c={'A' * 16}"),
        await _page(platform, f"/s/{receipt}"),
        await _page(platform, f"/s/{receipt}?c={code_for('another-key', receipt)}"),
        await _page(platform, f"/s/{unknown}?c={code_for(KEY, unknown)}"),
        await _page(platform, "/s/not-a-receipt?c=x"),
    ]
    assert {status for status, _ in answers} == {404}
    assert len({page for _, page in answers}) == 1


async def test_the_receipts_qr_points_at_the_page(platform, http):
    receipt = receipt_for("320585", "qr-check-0001")
    async with http.get(f"/console/qr/{receipt}.svg") as response:
        assert response.status == 200
        served = await response.read()
    base = f"http://127.0.0.1:{platform.ports.gateway_http}"
    # The served code is the one drawn for the page's URL, not for the receipt alone.
    receipt_qr.configure(base, KEY)
    try:
        assert served == receipt_qr.receipt_svg(receipt)
        assert receipt_qr.content_for(receipt) == f"{base}/s/{receipt}?c={code_for(KEY, receipt)}"
    finally:
        receipt_qr._status_link = None
    assert served != receipt_qr.receipt_svg(receipt)
    status, _ = await _page(platform, url_for("", KEY, receipt))
    assert status == 404  # no such case: the receipt was never submitted


async def test_a_client_asking_too_often_gets_429(platform):
    answers = [await _page(platform, f"/s/{receipt_for('320585', 'x-0000001')}") for _ in range(40)]
    statuses = [status for status, _ in answers]
    assert statuses[0] == 404 and 429 in statuses


def test_the_rate_limit_refills() -> None:
    limit = RateLimit(per_minute=2)
    assert [limit.allow("a", 0.0), limit.allow("a", 0.0), limit.allow("a", 0.0)] == [
        True,
        True,
        False,
    ]
    assert limit.allow("b", 0.0)
    assert limit.allow("a", 30.0)
