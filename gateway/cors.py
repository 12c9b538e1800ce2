"""Cross-origin calls to the HTTP API, for window front-ends served from another origin.

Only the origins the bureau configures (``GATEWAY_CORS_ORIGINS``, none by default) are let
in. A preflight (``OPTIONS`` with ``Access-Control-Request-Method``) is answered here, before
authentication, because browsers never send a token with it; the call that follows carries
its bearer token as any other. A preflight from another origin is refused with the API's
JSON error shape, and answers to it carry no CORS headers, so the browser keeps them from
the page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection

from aiohttp import web
from aiohttp.typedefs import Middleware

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

ALLOWED_METHODS = ("GET", "POST", "OPTIONS")
ALLOWED_HEADERS = ("Authorization", "Content-Type", "Accept-Language")
# What a page may read of an answer beyond the simple headers: the trace id a clerk quotes.
EXPOSED_HEADERS = ("X-Trace-Id",)
PREFLIGHT_MAX_AGE_SECONDS = 600


def parse_origins(text: str) -> frozenset[str]:
    """``https://a.example, https://b.example`` as a set; each must be scheme://host[:port]."""
    origins = frozenset(o.strip().rstrip("/") for o in text.split(",") if o.strip())
    bad = sorted(o for o in origins if not o.startswith(("https://", "http://")) or "/" in o[8:])
    if bad or "*" in origins:
        raise ValueError(
            "GATEWAY_CORS_ORIGINS lists origins like https://window.example.gov.cn, comma "
            f"separated, without paths or wildcards: {', '.join(bad) or '*'}"
        )
    return origins


def _refused(origin_allowed: bool) -> web.Response:
    message = (
        "the preflight asks for a method or header the API does not allow"
        if origin_allowed
        else "this origin may not call the API from a browser"
    )
    return web.json_response(
        {"error": {"code": 403, "status": "PERMISSION_DENIED", "message": message}}, status=403
    )


def middleware(origins: Collection[str]) -> Middleware:
    allowed = frozenset(origins)

    @web.middleware
    async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin", "")
        asked = request.headers.get("Access-Control-Request-Method", "")
        if request.method == "OPTIONS" and origin and asked:
            if origin not in allowed:
                return _refused(False)
            headers = {
                h.strip().lower()
                for h in request.headers.get("Access-Control-Request-Headers", "").split(",")
                if h.strip()
            }
            if asked not in ALLOWED_METHODS or not headers <= {h.lower() for h in ALLOWED_HEADERS}:
                return _refused(True)
            return web.Response(
                status=204,
                headers={
                    "Access-Control-Allow-Origin": origin,
                    "Access-Control-Allow-Methods": ", ".join(ALLOWED_METHODS),
                    "Access-Control-Allow-Headers": ", ".join(ALLOWED_HEADERS),
                    "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE_SECONDS),
                    "Vary": "Origin",
                },
            )
        response = await handler(request)
        if origin and origin in allowed:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = ", ".join(EXPOSED_HEADERS)
            response.headers.add("Vary", "Origin")
        return response

    return cors
