"""Scraping a platform's /metrics during a measurement, as Prometheus does (every 15 to 30 s
in a deployment; more often here, so the cost of collecting shows)."""

from __future__ import annotations

import asyncio

import aiohttp

from bench.stack import PlatformRun


class Scraper:
    def __init__(self, run: PlatformRun, every_seconds: float) -> None:
        self.urls = [run.platform.metrics_url(name) for name in run.platform.processes]
        self.every_seconds = every_seconds
        self.scrapes = 0
        self.failures = 0

    async def run(self) -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
            while True:
                for url in self.urls:
                    try:
                        async with session.get(url) as response:
                            await response.read()
                            self.scrapes += 1
                    except (aiohttp.ClientError, TimeoutError):
                        self.failures += 1
                await asyncio.sleep(self.every_seconds)
