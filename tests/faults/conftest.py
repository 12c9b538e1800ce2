"""The fault test's platform: every process on free loopback ports, its own databases, and a
RabbitMQ node of its own (restarting the machine's shared node would break other test runs).

The fault test kills processes and runs for about a minute, so it runs only when the mark
expression asks for it (``make test-faults``: ``-m faults``); a plain ``pytest`` deselects it.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.launcher.platform import ROOT, Platform, Ports, drop_databases
from tests.faults.rabbitmq_node import RabbitMQNode

HERE = Path(__file__).parent
# "faults" named in the mark expression, and not negated.
_ASKS_FOR_FAULTS = re.compile(r"(?<!not )\bfaults\b")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _ASKS_FOR_FAULTS.search(config.getoption("markexpr") or ""):
        return
    # This hook sees every collected item: deselect only ours.
    ours = [item for item in items if HERE in item.path.parents]
    if ours:
        config.hook.pytest_deselected(items=ours)
        items[:] = [item for item in items if HERE not in item.path.parents]


@pytest.fixture(scope="session")
def fault_run(request: pytest.FixtureRequest) -> Iterator[Path]:
    """Where the run keeps its logs and the broker's data: under .run/ rather than pytest's
    temporary directories, which other test runs on the machine prune within minutes. Removed
    when every test passed (unless FAULTS_KEEP_LOGS is set), kept and named otherwise."""
    run = ROOT / ".run" / f"faults-{os.getpid()}"
    run.mkdir(parents=True, exist_ok=True)
    yield run
    if request.session.testsfailed or os.environ.get("FAULTS_KEEP_LOGS"):
        print(f"\n==> logs kept in {run}", flush=True)
    else:
        shutil.rmtree(run, ignore_errors=True)


@pytest.fixture(scope="session")
def rabbitmq_node(fault_run: Path) -> Iterator[RabbitMQNode]:
    node = RabbitMQNode(base=fault_run / "rabbitmq")
    print(
        f"\n==> starting a private RabbitMQ node {node.name} on port {node.amqp_port}", flush=True
    )
    took = node.start()
    print(f"    up in {took:.1f}s", flush=True)
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="session")
def platform(fault_run: Path, rabbitmq_node: RabbitMQNode) -> Iterator[Platform]:
    """Overrides the suite's platform: the same processes, on the private RabbitMQ node."""
    prefix = f"onedoor_faults_{os.getpid()}"
    started = Platform(
        log_dir=fault_run / "logs",
        ports=Ports.free(),
        database_prefix=prefix,
        amqp_uri=rabbitmq_node.amqp_uri,
        extra_env={"OTEL_TRACES_EXPORTER": "none", "LOG_LEVEL": "INFO"},
    )
    print(f"==> starting the platform (logs in {started.log_dir})", flush=True)
    try:
        started.start_all()
        started.wait_healthy(timeout=120, progress=True)
        yield started
    finally:
        started.stop()
        drop_databases(prefix)
