"""The routes the HTTP adapter serves and the OpenAPI description are the same list, and the
copy kept in the repository (docs/openapi.json) is current."""

import json
from pathlib import Path

from gateway import http_routes
from gateway.http_api import create_app, description

DOCS = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


class NoWindow:
    """The routes are registered without a window ever being called."""


def _served() -> set[tuple[str, str]]:
    app = create_app(NoWindow())  # type: ignore[arg-type]
    served = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter", "")
        if route.method == "HEAD" or not (
            path.startswith("/v1") or path in ("/healthz", "/livez", "/readyz", "/openapi.json")
        ):
            continue  # the console's pages are not the API
        for name, _ in (("receipt", 0), ("department", 0)):
            path = path.replace(f"{{{name}:[^/:]+}}", f"{{{name}}}")
        served.add((route.method, path))
    return served


def test_every_served_route_is_described_and_every_described_one_served():
    described = {
        (method.upper(), path)
        for path, operations in description()["paths"].items()
        for method in operations
    }
    assert _served() == described


def test_the_description_in_the_repository_is_current():
    kept = json.loads(DOCS.read_text(encoding="utf-8"))
    assert kept == description(), "run `make openapi` and commit docs/openapi.json"


def test_every_route_declares_its_parameters_and_answers():
    for route in http_routes.ROUTES:
        for name, _ in route.path_params:
            assert f"{{{name}}}" in route.path, (route.operation_id, name)
        assert route.operation_id and route.summary


async def test_livez_and_readyz_answer_without_a_token_and_show_only_the_status():
    from aiohttp.test_utils import TestClient, TestServer

    from gateway.http_api import Readiness

    readiness = Readiness()
    client = TestClient(TestServer(create_app(NoWindow(), readiness=readiness)))  # type: ignore[arg-type]
    await client.start_server()
    try:
        live = await client.get("/livez")
        assert (live.status, await live.json()) == (200, {"status": "SERVING"})
        ready = await client.get("/readyz")
        assert (ready.status, await ready.json()) == (200, {"status": "SERVING"})
        readiness.draining()
        draining = await client.get("/readyz")
        assert (draining.status, await draining.json()) == (503, {"status": "NOT_SERVING"})
        # The detailed health stays behind the operator's token.
        assert (await client.get("/healthz")).status == 401
    finally:
        await client.close()
