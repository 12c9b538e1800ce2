"""The event loop an asyncio process runs on.

uvloop (libuv, written in Cython) by default: asyncpg and grpc.aio spend much of a call in the
loop's own socket and callback handling, which uvloop does in C. asyncio's loop stays one
setting away (``EVENT_LOOP=asyncio``), for a platform where uvloop is not built or to compare.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

LOOPS = ("uvloop", "asyncio")


def run(main: Coroutine[Any, Any, T], loop: str) -> T:
    """Runs ``main`` to its end on a new loop of the kind ``loop`` names (one of LOOPS)."""
    if loop == "uvloop":
        import uvloop

        return uvloop.run(main)
    return asyncio.run(main)
