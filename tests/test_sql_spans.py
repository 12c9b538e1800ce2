"""Every statement a service sends is a span of the call it serves, with its placeholders and
never its values (services.common.sql_tracing), against the real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from services.common import sql_tracing, telemetry
from services.common.config import DEFAULT_POSTGRES

SECRET = "110101199003077777"


@pytest.fixture
def exported() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(telemetry.ReceiptSpanProcessor())
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    sql_tracing.instrument(provider)
    try:
        yield provider, exporter
    finally:
        sql_tracing.uninstrument()


@pytest.fixture
async def conn() -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(f"{DEFAULT_POSTGRES}/postgres")
    await connection.execute("CREATE TEMP TABLE people (id_number text PRIMARY KEY)")
    try:
        yield connection
    finally:
        await connection.close()


async def test_a_statement_is_a_child_span_with_placeholders_only(conn, exported) -> None:
    provider, exporter = exported
    with (
        provider.get_tracer("test").start_as_current_span("OpenCase") as parent,
        telemetry.bound_receipt("320585-TEST0-00001"),
    ):
        await conn.execute("INSERT INTO people (id_number) VALUES ($1)", SECRET)
        found = await conn.fetchval("SELECT count(*) FROM people WHERE id_number = $1", SECRET)
    assert found == 1
    spans = [s for s in exporter.get_finished_spans() if s.name != "OpenCase"]
    assert [s.name for s in spans] == ["INSERT", "SELECT"]
    for span in spans:
        assert span.kind is SpanKind.CLIENT
        assert span.parent is not None
        assert span.parent.span_id == parent.get_span_context().span_id
        assert span.attributes["db.system.name"] == "postgresql"
        assert span.attributes["db.namespace"] == "postgres"
        assert span.attributes["server.port"] == 5432
        assert span.attributes[telemetry.RECEIPT_KEY] == "320585-TEST0-00001"
        assert "$1" in span.attributes["db.query.text"]
        assert all(SECRET not in str(value) for value in span.attributes.values())


async def test_a_transaction_shows_its_begin_and_commit(conn, exported) -> None:
    _, exporter = exported
    async with conn.transaction():
        await conn.executemany("INSERT INTO people (id_number) VALUES ($1)", [("a",), ("b",)])
        rows = await conn.fetch("SELECT id_number FROM people ORDER BY 1")
        row = await conn.fetchrow("SELECT id_number FROM people WHERE id_number = $1", "b")
    assert [r["id_number"] for r in rows] == ["a", "b"] and row is not None
    names = [s.name for s in exporter.get_finished_spans()]
    assert names == ["BEGIN", "INSERT", "SELECT", "SELECT", "COMMIT"], names


async def test_a_failed_statement_is_an_error_span_without_the_driver_message(
    conn, exported
) -> None:
    _, exporter = exported
    await conn.execute("INSERT INTO people (id_number) VALUES ($1)", SECRET)
    with pytest.raises(asyncpg.UniqueViolationError):
        await conn.execute("INSERT INTO people (id_number) VALUES ($1)", SECRET)
    failed = exporter.get_finished_spans()[-1]
    assert failed.status.status_code is StatusCode.ERROR
    # The driver's message quotes the duplicate key's value: it must not reach the span.
    assert not failed.status.description
    assert failed.attributes["error.type"] == "UniqueViolationError"
    assert not failed.events


async def test_instrumenting_twice_makes_one_span_and_uninstrumenting_none(conn, exported) -> None:
    provider, exporter = exported
    sql_tracing.instrument(provider)
    await conn.fetchval("SELECT 1")
    assert len(exporter.get_finished_spans()) == 1
    sql_tracing.uninstrument()
    await conn.fetchval("SELECT 1")
    assert len(exporter.get_finished_spans()) == 1
