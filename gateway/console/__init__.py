"""The window clerk's console: static pages served by the gateway itself, because bureau
networks are closed (no CDN). The pages call the same HTTP API with the clerk's token, so
the console holds no privilege of its own and needs none to be served."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).parent / "static"
PREFIX = "/console"


def is_public(path: str) -> bool:
    """The console's files carry no data; everything they show comes through the API."""
    return path == "/" or path == PREFIX or path.startswith(PREFIX + "/")


def add_routes(app: web.Application) -> None:
    async def to_console(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(PREFIX + "/")

    async def index(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html")

    app.router.add_get("/", to_console)
    app.router.add_get(PREFIX, to_console)
    app.router.add_get(PREFIX + "/", index)
    app.router.add_static(PREFIX + "/static/", STATIC)
