"""The router's queues as RabbitMQ holds them: classic by default (the test platform), quorum
when ROUTER_QUEUE_TYPE=quorum, and then events still flow through them: a platform of its own
with quorum queues routes a dibao application. Read back with rabbitmqctl, in the vhost each
platform uses."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from services.launcher import demo
from services.launcher.platform import (
    Platform,
    Ports,
    create_vhost,
    delete_vhost,
    drop_databases,
)

# One queue per event handler of services/router/service.py.
ROUTER_QUEUES = {
    "evt-intake-case_accepted--router.on_case_accepted",
    "evt-assistance-case_decided--router.on_assistance_decided",
    "evt-elderly-case_decided--router.on_elderly_decided",
    "evt-orgs-case_decided--router.on_orgs_decided",
    "evt-registry-case_decided--router.on_registry_decided",
}
DELIVERY_LIMIT = 100000


def router_queues(vhost: str, wait: float = 30.0) -> dict[str, dict[str, Any]]:
    """The router's queues in ``vhost`` (name → type and arguments), once all of them are
    declared (or as they stand after ``wait`` seconds)."""
    command = ["rabbitmqctl", "-q", "list_queues", "-p", vhost, "name", "type", "arguments"]
    deadline = time.monotonic() + wait
    while True:
        listed = subprocess.run(
            [*command, "--formatter=json"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
        queues = {q["name"]: q for q in json.loads(listed) if q["name"] in ROUTER_QUEUES}
        if set(queues) == ROUTER_QUEUES or time.monotonic() > deadline:
            return queues
        time.sleep(0.5)


def arguments(queue: dict[str, Any]) -> dict[str, Any]:
    # rabbitmqctl's JSON lists a queue's arguments as [name, type, value].
    return {name: value for name, _type, value in queue["arguments"]}


def test_the_router_declares_classic_queues_by_default(platform: Platform, amqp_vhost: str):
    queues = router_queues(urlsplit(amqp_vhost).path.lstrip("/"))
    assert set(queues) == ROUTER_QUEUES
    assert {q["name"]: q["type"] for q in queues.values()} == dict.fromkeys(
        ROUTER_QUEUES, "classic"
    )
    assert all("x-queue-type" not in arguments(q) for q in queues.values())


@pytest.fixture(scope="module")
def quorum_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Platform, str]]:
    vhost = f"onedoor-quorum-{os.getpid()}"
    prefix = f"onedoor_quorum_{os.getpid()}"
    started = Platform(
        log_dir=tmp_path_factory.mktemp("quorum-logs"),
        ports=Ports.free(),
        database_prefix=prefix,
        amqp_uri=create_vhost(vhost),
        extra_env={
            "ROUTER_QUEUE_TYPE": "quorum",
            "ROUTER_QUEUE_DELIVERY_LIMIT": str(DELIVERY_LIMIT),
            "SHUTDOWN_GRACE_SECONDS": "2",
        },
    )
    try:
        started.start_all()
        started.wait_healthy(timeout=90)
        yield started, vhost
    finally:
        started.stop()
        drop_databases(prefix)
        delete_vhost(vhost)


def test_quorum_queues_when_configured_and_events_flow_through_them(quorum_platform):
    started, vhost = quorum_platform
    queues = router_queues(vhost)
    assert set(queues) == ROUTER_QUEUES
    assert {q["name"]: q["type"] for q in queues.values()} == dict.fromkeys(ROUTER_QUEUES, "quorum")
    for queue in queues.values():
        assert arguments(queue)["x-delivery-limit"] == DELIVERY_LIMIT, queue
    accepted, shown = demo.submit_and_follow(
        f"http://127.0.0.1:{started.ports.gateway_http}", wait_seconds=30
    )
    assert shown["status"] == "CASE_STATUS_ROUTED", (accepted["receipt"], shown["status"])


def test_a_queue_of_another_type_stops_the_router_saying_why(tmp_path):
    """Switching an installation's queues to quorum without deleting the classic ones: RabbitMQ
    refuses the declaration, and the router exits naming the setting and the way out rather
    than reconnecting for ever while consuming nothing."""
    vhost = f"onedoor-switch-{os.getpid()}"
    uri = create_vhost(vhost)
    try:
        classic = Platform(log_dir=tmp_path / "classic", ports=Ports.free(), amqp_uri=uri)
        classic.start("router")
        classic.wait_healthy(timeout=60)
        assert {q["type"] for q in router_queues(vhost).values()} == {"classic"}
        classic.stop()
        # Its consumers and its reconnecting gRPC pools end when it stops: nameko has no
        # thread left to kill (and warn about).
        stopped = classic.log_path("router").read_text(errors="replace")
        assert "killing" not in stopped, stopped[-2000:]

        quorum = Platform(
            log_dir=tmp_path / "quorum",
            ports=Ports.free(),
            amqp_uri=uri,
            extra_env={"ROUTER_QUEUE_TYPE": "quorum"},
        )
        quorum.start("router")
        try:
            code = quorum.processes["router"].wait(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the router kept running:\n{quorum.tail('router')}")
        finally:
            quorum.stop()
        log = quorum.log_path("router").read_text(errors="replace")
        assert code != 0
        assert "inequivalent arg 'x-queue-type'" in log
        assert "ROUTER_QUEUE_TYPE" in log and "RabbitMQ queues" in log
    finally:
        delete_vhost(vhost)
