"""The outbox watch over a real outbox, in a scratch database: it counts what waits and the
oldest row's age, and the partial index on unpublished rows serves its query."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from services.common import outbox_watch, schema
from tests.scratch import scratch_pool

pytestmark = pytest.mark.platform


@pytest.fixture
async def pool() -> AsyncIterator[asyncpg.Pool]:
    async with scratch_pool("outbox_watch", [schema.COMMON_MIGRATIONS], max_size=2) as opened:
        yield opened


async def _queue(pool: asyncpg.Pool, count: int, age_seconds: float = 0.0) -> None:
    await pool.executemany(
        """INSERT INTO outbox (event_id, exchange, event_type, payload, created_at)
           VALUES ($1, 'intake.events', 'case_accepted', $2::jsonb,
                   now() - make_interval(secs => $3))""",
        [(uuid.uuid4(), json.dumps({}), age_seconds) for _ in range(count)],
    )


async def test_it_counts_the_unpublished_rows_and_the_oldest_ones_age(pool):
    watch = outbox_watch.OutboxWatch("intake", pool)
    empty = await watch.refresh()
    assert (empty.waiting, empty.oldest_age) == (0, 0.0)

    await _queue(pool, 3, age_seconds=120.0)
    await _queue(pool, 2)
    backlog = await watch.refresh()
    assert backlog.waiting == 5
    assert 120.0 <= backlog.oldest_age < 180.0

    await pool.execute("UPDATE outbox SET published_at = now()")
    drained = await watch.refresh()
    assert (drained.waiting, drained.oldest_age) == (0, 0.0)


async def test_its_query_reads_the_waiting_rows_through_the_partial_index(pool):
    # Enough published history that a scan of the whole table would be the planner's loss.
    await pool.execute(
        """INSERT INTO outbox (event_id, exchange, event_type, payload, published_at)
           SELECT gen_random_uuid(), 'intake.events', 'case_accepted', '{}', now()
             FROM generate_series(1, 20000)"""
    )
    await _queue(pool, 10)
    await pool.execute("ANALYZE outbox")
    plan = "\n".join(r[0] for r in await pool.fetch(f"EXPLAIN {outbox_watch._BACKLOG}"))
    assert "outbox_unpublished" in plan, plan


async def test_it_stops_cleanly_and_keeps_the_last_reading(pool):
    await _queue(pool, 2)
    outbox_watch._backlogs.pop("elderly", None)
    watch = outbox_watch.OutboxWatch("elderly", pool, refresh_seconds=0.05).start()

    async def refreshed() -> None:
        while outbox_watch._backlogs.get("elderly") is None:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(refreshed(), timeout=10)
    await watch.stop()
    assert outbox_watch._backlogs["elderly"].waiting == 2
    # Stopped: the pool closes without waiting for a connection the watch holds.
    await asyncio.wait_for(pool.close(), timeout=10)
