"""CORS for configured origins: preflight answered without a token, others refused."""

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from gateway import cors

ALLOWED = "https://window.taicang.example"


def _app() -> web.Application:
    @web.middleware
    async def authenticate(request: web.Request, handler):
        # Stands for the gateway's own: every call but a preflight needs a token.
        if "Authorization" not in request.headers:
            return web.json_response({"error": {"code": 401}}, status=401)
        return await handler(request)

    async def hello(request: web.Request) -> web.Response:
        return web.json_response({"ok": True}, headers={"X-Trace-Id": "t"})

    app = web.Application(middlewares=[cors.middleware({ALLOWED}), authenticate])
    app.router.add_get("/v1/matters", hello)
    app.router.add_post("/v1/applications", hello)
    return app


async def _client() -> TestClient:
    client = TestClient(TestServer(_app()))
    await client.start_server()
    return client


async def test_a_preflight_from_a_configured_origin_is_answered_without_a_token():
    client = await _client()
    try:
        response = await client.options(
            "/v1/applications",
            headers={
                "Origin": ALLOWED,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        assert response.status == 204
        assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
        assert "POST" in response.headers["Access-Control-Allow-Methods"]
        assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
        # The call itself still needs its token, and its answer names the origin.
        unauthenticated = await client.post("/v1/applications", headers={"Origin": ALLOWED})
        assert unauthenticated.status == 401
        answered = await client.get(
            "/v1/matters", headers={"Origin": ALLOWED, "Authorization": "Bearer x"}
        )
        assert answered.headers["Access-Control-Allow-Origin"] == ALLOWED
        assert answered.headers["Access-Control-Expose-Headers"] == "X-Trace-Id"
    finally:
        await client.close()


async def test_other_origins_and_methods_are_refused():
    client = await _client()
    try:
        other = await client.options(
            "/v1/applications",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert other.status == 403
        assert "Access-Control-Allow-Origin" not in other.headers
        assert (await other.json())["error"]["status"] == "PERMISSION_DENIED"
        delete = await client.options(
            "/v1/applications",
            headers={"Origin": ALLOWED, "Access-Control-Request-Method": "DELETE"},
        )
        assert delete.status == 403
        odd_header = await client.options(
            "/v1/applications",
            headers={
                "Origin": ALLOWED,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "x-something",
            },
        )
        assert odd_header.status == 403
        # A plain call from another origin gets no CORS header: the browser hides the answer.
        plain = await client.get(
            "/v1/matters", headers={"Origin": "https://evil.example", "Authorization": "Bearer x"}
        )
        assert "Access-Control-Allow-Origin" not in plain.headers
    finally:
        await client.close()


def test_origins_are_checked_when_read():
    assert cors.parse_origins("") == frozenset()
    assert cors.parse_origins(f"{ALLOWED}, https://b.example/") == {ALLOWED, "https://b.example"}
    for bad in ("*", "window.example", "https://a.example/path"):
        with pytest.raises(ValueError, match="GATEWAY_CORS_ORIGINS"):
            cors.parse_origins(bad)
