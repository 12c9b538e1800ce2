"""The console's own routes, without the platform: the page, the division table and the
receipt's QR code."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import segno
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from gateway import console


@pytest.fixture
async def client() -> AsyncIterator[TestClient]:
    app = web.Application()
    console.add_routes(app)
    async with TestClient(TestServer(app)) as started:
        yield started


async def test_the_page_is_served_with_a_policy_that_forbids_other_origins(client):
    response = await client.get("/console/")
    assert response.status == 200
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert '<script type="module" src="static/console.js">' in await response.text()


async def test_the_root_leads_to_the_console(client):
    response = await client.get("/", allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (302, "/console/")


async def test_the_division_table_is_the_gateways(client):
    response = await client.get("/console/divisions.json")
    table = (await response.json())["divisions"]
    assert table["320585"] == ["太仓市", "320500"]
    assert table["320000"] == ["江苏省", ""]
    assert "320599" not in table


async def test_the_receipt_qr_code_holds_the_receipt_number(client):
    response = await client.get("/console/qr/320585-8D9TV-YJY6T.svg")
    assert response.status == 200
    assert response.content_type == "image/svg+xml"
    svg = await response.text()
    assert svg.startswith("<svg") and "<title>320585-8D9TV-YJY6T</title>" in svg
    # The same symbol segno draws for the number, so a scanner reads the receipt back.
    expected = segno.make_qr("320585-8D9TV-YJY6T", error="m")
    assert f'viewBox="0 0 {expected.symbol_size()[0]} {expected.symbol_size()[1]}"' in svg


@pytest.mark.parametrize(
    "path",
    ["/console/qr/hello.svg", "/console/qr/320585-8D9TV-YJY6I.svg", "/console/qr/%3Cb%3E.svg"],
)
async def test_only_a_receipt_number_is_drawn(client, path):
    assert (await client.get(path)).status == 404
