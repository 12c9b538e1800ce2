"""A reading kept current for gauges: ``refresh`` runs every few seconds in a task of its own,
so the gauges' callbacks, which run on the collecting thread, only read what it found.

The refresh is not traced (a root span every few seconds from every process would bury the
traces of cases). When the database cannot be asked, the last reading stays, which is said
once, and once more when it can be asked again; a refresh that fails otherwise ends the task,
which is said at once, since frozen gauges look like a quiet platform.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import asyncpg
from opentelemetry.instrumentation.utils import suppress_instrumentation

log = logging.getLogger(__name__)

# What a database that cannot be asked for a while raises.
UNAVAILABLE = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)


class Periodic:
    """``start()`` once the pool is open, ``await stop()`` before it closes."""

    def __init__(
        self, what: str, refresh: Callable[[], Awaitable[object]], every_seconds: float
    ) -> None:
        self.what = what
        self.refresh = refresh
        self.every_seconds = every_seconds
        self._task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        failing = False
        while True:
            try:
                with suppress_instrumentation():
                    await self.refresh()
                if failing:
                    log.info("%s: readable again", self.what)
                failing = False
            except UNAVAILABLE as error:
                if not failing:
                    log.warning(
                        "%s: cannot read (%s); the gauges show the last reading",
                        self.what,
                        type(error).__name__,
                    )
                failing = True
            await asyncio.sleep(self.every_seconds)

    def start(self) -> Periodic:
        self._task = asyncio.create_task(self.run(), name=self.what)
        self._task.add_done_callback(self._ended)
        return self

    def _ended(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error(
                "%s stopped (%s); its gauges no longer move",
                self.what,
                type(task.exception()).__name__,
            )

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        # An error that ended it early was logged when it happened.
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task
        self._task = None
