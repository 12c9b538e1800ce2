"""The real platform for the integration tests: every process on free loopback ports, its own
PostgreSQL databases and RabbitMQ virtual host (so a developer's `make run` is untouched), and
an OTLP receiver collecting every span the processes export."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import asyncpg
import grpc
import pytest

from onedoor.department.v1 import department_service_pb2_grpc
from onedoor.gateway.v1 import gateway_service_pb2_grpc
from onedoor.intake.v1 import intake_service_pb2_grpc
from services.common import auth
from services.launcher.identity_provider import IdentityProvider
from services.launcher.platform import (
    Platform,
    Ports,
    create_vhost,
    delete_vhost,
    drop_databases,
    free_port,
)
from services.launcher.trace_sink import TraceSink

T = TypeVar("T")
# What the fake bank adapter answers for the economic-status check; tests write it.
BANK_FILE = Path(os.environ.get("TMPDIR", "/tmp")) / f"onedoor-test-bank-{os.getpid()}.json"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Marked by what they need, so `make test-unit` (-m "not platform") keeps the fast ones.
    for item in items:
        if "platform" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.platform)
    # The whole-run privacy scan reads what every other test left in logs and spans.
    items.sort(key=lambda item: item.get_closest_marker("whole_run") is not None)


@pytest.fixture(scope="session")
def trace_sink() -> Iterator[TraceSink]:
    sink = TraceSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def amqp_vhost() -> Iterator[str]:
    name = f"onedoor-test-{os.getpid()}"
    yield create_vhost(name)
    delete_vhost(name)


@pytest.fixture(scope="session")
def platform_ports() -> Ports:
    return Ports.free()


@pytest.fixture(scope="session")
def identity_provider(
    tmp_path_factory: pytest.TempPathFactory, platform_ports: Ports
) -> Iterator[IdentityProvider]:
    """node-oidc-provider with the demo staff, trusted by the test platform's gateway."""
    directory = tmp_path_factory.mktemp("identity-provider")
    provider = IdentityProvider(
        port=free_port(),
        keys_file=directory / "keys.json",
        log_path=directory / "provider.log",
        console_origins=(f"http://127.0.0.1:{platform_ports.gateway_http}",),
    )
    provider.start()
    try:
        provider.wait_ready()
        yield provider
    finally:
        provider.stop()


@pytest.fixture(scope="session")
def platform(
    tmp_path_factory: pytest.TempPathFactory,
    trace_sink: TraceSink,
    amqp_vhost: str,
    platform_ports: Ports,
    identity_provider: IdentityProvider,
) -> Iterator[Platform]:
    prefix = f"onedoor_test_{os.getpid()}"
    started = Platform(
        log_dir=tmp_path_factory.mktemp("platform-logs"),
        ports=platform_ports,
        database_prefix=prefix,
        amqp_uri=amqp_vhost,
        extra_env={
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_ENDPOINT": trace_sink.endpoint,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_BSP_SCHEDULE_DELAY": "200",
            "LOG_LEVEL": "DEBUG",
            "ROUTER_OVERDUE_SECONDS": "1",
            "REGISTRY_SWEEP_SECONDS": "1",
            "INTAKE_CASE_GAUGES_SECONDS": "1",
            "ECONOMIC_CHECK_FAKE_FILE": str(BANK_FILE),
            # A rotated key is looked for at once, not after the production half-minute.
            "GATEWAY_OIDC_JWKS_MIN_REFRESH_SECONDS": "0.5",
            **identity_provider.gateway_env(),
            **identity_provider.ingest_env(),
        },
    )
    try:
        started.start_all()
        started.wait_healthy(timeout=90)
        yield started
    finally:
        started.stop()
        drop_databases(prefix)


def bearer(
    role: str = "window_clerk", jurisdiction: str = "320585", department: str = "", name: str = ""
) -> dict[str, str]:
    """An Authorization header for a caller of that role (a Taicang clerk unless told), with
    the staff member's display name where given."""
    token = auth.issue(role, jurisdiction, department=department, name=name)
    return {"Authorization": f"Bearer {token}"}


class AddMetadata(grpc.aio.UnaryUnaryClientInterceptor):
    """Adds fixed metadata (a bearer token, the service credential) to every call."""

    def __init__(self, metadata: tuple[tuple[str, str], ...]) -> None:
        self.metadata = metadata

    async def intercept_unary_unary(self, continuation, client_call_details, request):
        details = client_call_details._replace(
            metadata=(*(client_call_details.metadata or ()), *self.metadata)
        )
        return await continuation(details, request)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain HTTP client, for calls to more than one platform (the federated cities)."""
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def http(platform: Platform) -> AsyncIterator[aiohttp.ClientSession]:
    """A window clerk of Taicang (320585), the test platform's jurisdiction."""
    async with aiohttp.ClientSession(
        f"http://127.0.0.1:{platform.ports.gateway_http}", headers=bearer()
    ) as session:
        yield session


@pytest.fixture
async def gateway(platform: Platform) -> AsyncIterator[gateway_service_pb2_grpc.GatewayServiceStub]:
    clerk = (("authorization", bearer()["Authorization"]),)
    async with grpc.aio.insecure_channel(
        f"127.0.0.1:{platform.ports.gateway_grpc}", interceptors=[AddMetadata(clerk)]
    ) as channel:
        yield gateway_service_pb2_grpc.GatewayServiceStub(channel)


@contextlib.asynccontextmanager
async def service_stub(port: int, stub: Callable[[grpc.aio.Channel], T]) -> AsyncIterator[T]:
    """``stub`` on the platform's port ``port``, calling as the platform's own processes call
    it, with the service credential."""
    async with grpc.aio.insecure_channel(
        f"127.0.0.1:{port}", interceptors=[AddMetadata(auth.service_metadata())]
    ) as channel:
        yield stub(channel)


@pytest.fixture
async def assistance(
    platform: Platform,
) -> AsyncIterator[department_service_pb2_grpc.DepartmentServiceStub]:
    async with service_stub(
        platform.ports.assistance, department_service_pb2_grpc.DepartmentServiceStub
    ) as stub:
        yield stub


@pytest.fixture
async def intake(platform: Platform) -> AsyncIterator[intake_service_pb2_grpc.IntakeServiceStub]:
    async with service_stub(
        platform.ports.intake, intake_service_pb2_grpc.IntakeServiceStub
    ) as stub:
        yield stub


@pytest.fixture
async def intake_db(platform: Platform) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(platform.database_url("intake"))
    yield conn
    await conn.close()


async def eventually(
    check: Callable[[], Awaitable[T | None]], timeout: float = 15.0, what: str = ""
) -> T:
    """Polls ``check`` until it returns something truthy; fails with ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what or check}")
        await asyncio.sleep(0.05)


async def get_application(http: aiohttp.ClientSession, receipt: str) -> dict[str, Any]:
    async with http.get(f"/v1/applications/{receipt}") as response:
        assert response.status == 200, await response.text()
        return dict((await response.json())["application"])


async def wait_for_entry(http: aiohttp.ClientSession, receipt: str, kind: str) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        application = await get_application(http, receipt)
        kinds = [e["kind"] for e in application["timeline"]]
        return application if f"TIMELINE_ENTRY_KIND_{kind}" in kinds else None

    return await eventually(check, what=f"{kind} on the timeline of {receipt}")
