"""The backup drill (``make backup-drill``): the restore procedure of deploy/k8s/README.md on
one machine, with a PostgreSQL instance of its own standing in for the CloudNativePG cluster.

A platform takes dibao applications without pause while ``pg_basebackup`` copies its instance
(every service's database at one point in time, as CloudNativePG's backup does). The copy is
started as a second instance, and a second platform, with a RabbitMQ virtual host of its own
(the README's "delete the router's queues"), starts on it. Then:

- every application whose receipt the gateway gave before the backup began is there, and is
  routed to its department;
- the audit chain verifies (``onedoor audit verify``, as an auditor);
- the outboxes resume where the backup left them: every event unpublished in the copy is
  published, nothing that is not in an outbox is, and no event is published twice (a queue of
  the drill's own, bound to every service's exchange before the relay starts, sees each).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import amqp
import asyncpg
import pytest

from services.common import auth
from services.launcher.platform import (
    ROOT,
    SERVICES_WITH_DATABASES,
    Platform,
    Ports,
    create_vhost,
    delete_vhost,
    free_port,
)
from tests.backup.postgres_instance import PostgresInstance
from tests.factories import dibao_json

pytestmark = [pytest.mark.backup_drill, pytest.mark.timeout(480)]

JURISDICTION = "320585"
ROUTED = "TIMELINE_ENTRY_KIND_ROUTED"
DRILL_QUEUE = "backup-drill-every-event"
# Enough applications before the backup for it to matter, and some while it runs.
BEFORE_BACKUP = 30


def clerk() -> str:
    return f"Bearer {auth.issue('window_clerk', JURISDICTION)}"


def request(method: str, url: str, body: dict | None = None, token: str = "") -> dict:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json", "Authorization": token or clerk()}
    with urllib.request.urlopen(
        urllib.request.Request(url, data=data, method=method, headers=headers), timeout=10
    ) as response:
        return dict(json.load(response))


@dataclass
class Load:
    """Submits dibao applications one after another until stopped; keeps every receipt the
    gateway acknowledged, in order."""

    base_url: str
    acknowledged: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                answer = request("POST", f"{self.base_url}/v1/applications", dibao_json())
                self.acknowledged.append(str(answer["receipt"]))
            except (urllib.error.URLError, OSError) as error:
                self.failures.append(repr(error))
                time.sleep(0.1)

    def start(self) -> None:
        self.thread = threading.Thread(target=self.run, name="load", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(30)

    def wait_for(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.acknowledged) < count:
            assert time.monotonic() < deadline, (
                f"{len(self.acknowledged)} acknowledged; failures: {self.failures[-3:]}"
            )
            time.sleep(0.1)


def outboxes(postgres: str, prefix: str) -> dict[str, dict[str, bool]]:
    """Every outbox event of every service's database: event id → published yet."""

    async def read() -> dict[str, dict[str, bool]]:
        found = {}
        for service in SERVICES_WITH_DATABASES:
            conn = await asyncpg.connect(f"{postgres}/{prefix}_{service}")
            try:
                rows = await conn.fetch(
                    "SELECT event_id, published_at IS NOT NULL AS p FROM outbox"
                )
            finally:
                await conn.close()
            found[service] = {str(r["event_id"]): bool(r["p"]) for r in rows}
        return found

    return asyncio.run(read())


# The README's restore step: the events published in the day before the restored moment go
# out again. Their effects may have been written after that moment, and so be missing from
# the copy, while the events themselves are gone from the queues; the consumers are idempotent.
REPUBLISH = """
UPDATE outbox SET published_at = NULL
 WHERE published_at > (SELECT max(published_at) FROM outbox) - interval '1 day'
"""


def republish_recent(postgres: str, prefix: str) -> None:
    async def update() -> None:
        for service in SERVICES_WITH_DATABASES:
            conn = await asyncpg.connect(f"{postgres}/{prefix}_{service}")
            try:
                await conn.execute(REPUBLISH)
            finally:
                await conn.close()

    asyncio.run(update())


def amqp_connection(vhost: str) -> amqp.Connection:
    connection = amqp.Connection(
        host="127.0.0.1:5672", userid="guest", password="guest", virtual_host=vhost
    )
    connection.connect()
    return connection


def watch_every_event(vhost: str) -> None:
    """A queue of the drill's own on every service's events exchange (declared as the relay
    declares them), before anything is published."""
    with amqp_connection(vhost) as connection:
        channel = connection.channel()
        channel.queue_declare(DRILL_QUEUE, durable=True, auto_delete=False)
        for service in SERVICES_WITH_DATABASES:
            exchange = f"{service}.events"
            channel.exchange_declare(exchange, "topic", durable=True, auto_delete=False)
            channel.queue_bind(DRILL_QUEUE, exchange, "#")


def router_queues_declared(vhost: str) -> bool:
    listed = subprocess.run(
        ["rabbitmqctl", "-q", "list_queues", "-p", vhost, "name", "--formatter=json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    # One queue per event handler of services/router/service.py: five.
    return sum("--router.on_" in q["name"] for q in json.loads(listed)) == 5


def published_ids(vhost: str) -> list[str]:
    ids = []
    with amqp_connection(vhost) as connection:
        channel = connection.channel()
        while (message := channel.basic_get(DRILL_QUEUE)) is not None:
            ids.append(str(message.properties["message_id"]))
            channel.basic_ack(message.delivery_tag)
    return ids


def eventually(check, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"timed out after {timeout}s: {what}"
        time.sleep(0.5)
    return result


@pytest.fixture(scope="module")
def drill_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="onedoor-drill-", dir="/var/tmp"))
    path.chmod(0o755)  # the postgres user reaches the instances' directories inside
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def cleanup() -> Iterator[list]:
    """What to stop at the end, whatever happens, last started first."""
    stack: list = []
    yield stack
    errors = []
    for stop in reversed(stack):
        try:
            stop()
        except Exception as error:
            errors.append(repr(error))
    assert not errors, errors


def test_a_backup_taken_under_load_restores_a_whole_platform(drill_dir: Path, cleanup: list):
    run = str(os.getpid())
    prefix = f"onedoor_drill_{run}"

    print("\n==> a PostgreSQL instance of the drill's own, and a platform on it", flush=True)
    source = PostgresInstance(drill_dir / "source", free_port())
    source.init()
    source.start()
    cleanup.append(source.stop)
    vhost_a = f"onedoor-drill-a-{run}"
    before = Platform(
        log_dir=drill_dir / "logs-before",
        ports=Ports.free(),
        database_prefix=prefix,
        postgres=source.url,
        amqp_uri=create_vhost(vhost_a),
        extra_env={"SHUTDOWN_GRACE_SECONDS": "2"},
    )
    cleanup.append(lambda: delete_vhost(vhost_a))
    cleanup.append(before.stop)
    before.start_all()
    before.wait_healthy(timeout=120)

    load = Load(f"http://127.0.0.1:{before.ports.gateway_http}")
    cleanup.append(load.stop)
    load.start()
    load.wait_for(BEFORE_BACKUP)
    # Both halves of what a copy can miss, made certain rather than left to timing: the router
    # stops first, so that events are published (marked so in the outboxes) but their effects
    # not yet written, and they wait in queues the restore does not bring back; then the relay
    # stops, so that events wait unpublished in the outboxes. Both publish and route within
    # milliseconds otherwise.
    before.kill("router")
    load.wait_for(BEFORE_BACKUP + 10)
    before.kill("relay")
    load.wait_for(BEFORE_BACKUP + 20)

    print("==> pg_basebackup while applications keep coming", flush=True)
    acknowledged_before = list(load.acknowledged)
    began = time.monotonic()
    source.base_backup(drill_dir / "restored")
    took = time.monotonic() - began
    during = len(load.acknowledged) - len(acknowledged_before)
    load.wait_for(len(load.acknowledged) + 5)
    load.stop()
    before.stop()
    source.stop()
    print(
        f"    {len(acknowledged_before)} receipts before the backup, {during} while it ran "
        f"({took:.1f}s), {len(load.acknowledged)} in all",
        flush=True,
    )

    print("==> the copy as a PostgreSQL instance, and a platform on it", flush=True)
    restored = PostgresInstance(drill_dir / "restored", free_port())
    restored.start()
    cleanup.append(restored.stop)
    at_restore = outboxes(restored.url, prefix)
    pending = {e for events in at_restore.values() for e, done in events.items() if not done}
    republish_recent(restored.url, prefix)
    to_publish = {
        e for events in outboxes(restored.url, prefix).values() for e, d in events.items() if not d
    }
    vhost_b = f"onedoor-drill-b-{run}"
    after = Platform(
        log_dir=drill_dir / "logs-after",
        ports=Ports.free(),
        database_prefix=prefix,
        postgres=restored.url,
        amqp_uri=create_vhost(vhost_b),
        extra_env={"SHUTDOWN_GRACE_SECONDS": "2"},
    )
    cleanup.append(lambda: delete_vhost(vhost_b))
    cleanup.append(after.stop)
    # The router first, and its queues declared, before the drill's own queue makes every
    # event routable: the relay's mandatory publish would otherwise count an event as
    # delivered that no router queue took.
    after.start("router")
    after.wait_healthy(timeout=120, names=("router",))
    eventually(lambda: router_queues_declared(vhost_b), "the router's queues declared")
    watch_every_event(vhost_b)
    for spec in after.specs:
        if spec.name != "router":
            after.start(spec.name)
    after.wait_healthy(timeout=120)
    base_url = f"http://127.0.0.1:{after.ports.gateway_http}"

    # Every receipt given before the backup began is there; every one there ends up routed.
    def application(receipt: str) -> dict | None:
        try:
            return request("GET", f"{base_url}/v1/applications/{receipt}")["application"]
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise

    present = [r for r in load.acknowledged if application(r) is not None]
    lost = [r for r in acknowledged_before if r not in present]
    assert not lost, f"{len(lost)} receipts from before the backup are not in the copy: {lost[:3]}"

    def unrouted() -> list[str]:
        return [r for r in present if ROUTED not in [e["kind"] for e in application(r)["timeline"]]]

    eventually(lambda: not unrouted(), "every application in the copy routed")

    # The outboxes resume where the copy left them, and each event goes out once.
    eventually(
        lambda: all(all(v.values()) for v in outboxes(restored.url, prefix).values()),
        "every outbox drained",
    )
    ids = published_ids(vhost_b)
    in_outboxes = {e for events in outboxes(restored.url, prefix).values() for e in events}
    assert pending, "the copy held no unpublished event: the drill proved nothing of the outbox"
    assert len(ids) == len(set(ids)), "an event was published twice"
    assert pending <= set(ids), f"{len(pending - set(ids))} pending events never published"
    assert set(ids) <= in_outboxes, "an event was published that no outbox holds"
    assert to_publish <= set(ids), f"{len(to_publish - set(ids))} events never republished"

    # Published again, routed once: one ROUTED entry per application, whatever went out twice
    # across the two platforms.
    for receipt in present:
        kinds = [e["kind"] for e in application(receipt)["timeline"]]
        assert kinds.count(ROUTED) == 1, (receipt, kinds)
    print(
        f"    {len(present)} applications in the copy (all {len(acknowledged_before)} from "
        f"before the backup), all routed; {len(pending)} events were pending in the copy, "
        f"{len(to_publish)} with the day's republished; {len(ids)} published once each",
        flush=True,
    )

    verified = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "onedoor"), "audit", "verify", "--gateway", base_url],
        env={**os.environ, "ONEDOOR_TOKEN": auth.issue("auditor", JURISDICTION)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    print(f"    audit: {verified.stdout.strip().splitlines()[-1]}", flush=True)
