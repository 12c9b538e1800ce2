"""The window's console, for clerks and department officers: static pages served by the
gateway itself, because bureau networks are closed (no CDN). The pages call the same HTTP API
with the user's token, so the console holds no privilege of its own and needs none to be
served."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

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


@dataclass(frozen=True)
class ConsoleSignIn:
    """How the console signs staff in: the authorization-code flow with PKCE at ``issuer`` as
    the public client ``client_id``, and the pasted token only where development tokens are on."""

    issuer: str = ""
    client_id: str = ""
    dev_tokens: bool = True
    # The claims the gateway reads role, department and jurisdiction from; the console reads
    # the same ones to show who is signed in and which views are theirs.
    role_claim: str = "role"
    department_claim: str = "department"
    jurisdiction_claim: str = "jurisdiction"

    def document(self) -> bytes:
        return json.dumps(
            {
                "issuer": self.issuer,
                "clientId": self.client_id,
                "devTokens": self.dev_tokens,
                "claims": {
                    "role": self.role_claim,
                    "department": self.department_claim,
                    "jurisdiction": self.jurisdiction_claim,
                },
            }
        ).encode()

    def page_headers(self) -> dict[str, str]:
        if not self.issuer:
            return PAGE_HEADERS
        # The page exchanges its code at the provider's token endpoint itself.
        parts = urlsplit(self.issuer)
        origin = f"{parts.scheme}://{parts.netloc}"
        policy = PAGE_HEADERS["Content-Security-Policy"].replace(
            "connect-src 'self'", f"connect-src 'self' {origin}"
        )
        return {**PAGE_HEADERS, "Content-Security-Policy": policy}


def is_public(path: str) -> bool:
    """The console's files carry no data; everything they show comes through the API."""
    return path == "/" or path == PREFIX or path.startswith(PREFIX + "/")


def add_routes(app: web.Application, sign_in: ConsoleSignIn | None = None) -> None:
    sign_in = sign_in or ConsoleSignIn()
    headers = sign_in.page_headers()

    async def to_console(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(PREFIX + "/")

    async def index(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html", headers=headers)

    async def sign_in_document(request: web.Request) -> web.StreamResponse:
        return web.Response(
            body=sign_in.document(),
            content_type="application/json",
            headers={"Cache-Control": "no-store"},
        )

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
    app.router.add_get(PREFIX + "/sign-in.json", sign_in_document)
    app.router.add_get(PREFIX + "/qr/{receipt}.svg", receipt_qr)
    app.router.add_static(PREFIX + "/static/", STATIC)
