"""The window's console, for clerks and department officers: static pages served by the
gateway itself, because bureau networks are closed (no CDN). The pages call the same HTTP API
with the user's token, so the console holds no privilege of its own and needs none to be
served."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from gateway.console.division_table import division_table_json
from gateway.console.receipt_qr import receipt_svg
from services.common.receipt import is_receipt

STATIC = Path(__file__).parent / "static"
PREFIX = "/console"

# The page loads nothing from elsewhere and runs no inline script, so a policy this narrow
# costs nothing and stops injected markup (a timeline note, say) from running as code.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # The token lives in the tab's sessionStorage; a cached page holds none, but a shared
    # window PC should still not offer yesterday's page from its cache.
    "Cache-Control": "no-store",
}


def is_public(path: str) -> bool:
    """The console's files carry no data; everything they show comes through the API."""
    return path == "/" or path == PREFIX or path.startswith(PREFIX + "/")


def add_routes(app: web.Application) -> None:
    async def to_console(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(PREFIX + "/")

    async def index(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html", headers=PAGE_HEADERS)

    async def division_table(request: web.Request) -> web.StreamResponse:
        response = web.Response(
            body=division_table_json(),
            content_type="application/json",
            charset="utf-8",
            headers={"Cache-Control": "public, max-age=86400"},
        )
        response.enable_compression()
        return response

    async def receipt_qr(request: web.Request) -> web.StreamResponse:
        receipt = request.match_info["receipt"]
        if not is_receipt(receipt):
            # Nothing but a receipt is drawn, so this route cannot be used to print arbitrary
            # codes with the bureau's name on the page around them.
            raise web.HTTPNotFound()
        return web.Response(
            body=receipt_svg(receipt),
            content_type="image/svg+xml",
            headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
        )

    app.router.add_get("/", to_console)
    app.router.add_get(PREFIX, to_console)
    app.router.add_get(PREFIX + "/", index)
    app.router.add_get(PREFIX + "/divisions.json", division_table)
    app.router.add_get(PREFIX + "/qr/{receipt}.svg", receipt_qr)
    app.router.add_static(PREFIX + "/static/", STATIC)
