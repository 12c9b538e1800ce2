"""Starts, watches and stops every onedoor process on this machine.

``make run`` uses it for the demo; the integration tests use it to run the real platform on
free loopback ports with their own databases and RabbitMQ virtual host, so they never touch
a platform a developer is running.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.common.catalog import DEPARTMENTS
from services.common.config import DEFAULT_AMQP_URI, DEFAULT_PORTS, DEFAULT_POSTGRES, METRICS_PORTS

ROOT = Path(__file__).resolve().parents[2]
SERVICES_WITH_DATABASES = ("intake", *DEPARTMENTS)
# Every database the platform's processes own: those of ingest and the notifier too, which
# publish nothing (no outbox for the relay).
DATABASES = (*SERVICES_WITH_DATABASES, "ingest", "notifier")


class PlatformError(RuntimeError):
    pass


# Below Linux's ephemeral range (32768-60999), from which the kernel picks the local ports of
# outgoing connections: a port found free there can be taken by a connection to PostgreSQL
# before the process meant to listen on it starts.
_PORT_RANGE = (20000, 32767)
_handed_out: set[int] = set()


def free_port() -> int:
    """A loopback port nothing listens on, never the same twice in this process (a platform's
    processes bind theirs only once started, after every port is chosen)."""
    for _ in range(1000):
        port = random.randint(*_PORT_RANGE)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise PlatformError(f"no free port in {_PORT_RANGE[0]}-{_PORT_RANGE[1]} on 127.0.0.1")


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


def create_vhost(name: str) -> str:
    """A RabbitMQ virtual host of its own (tests, benchmarks); returns its AMQP URI."""
    _rabbitmqctl("add_vhost", name)
    _rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
    return f"amqp://guest:guest@127.0.0.1:5672/{name}"


def delete_vhost(name: str) -> None:
    _rabbitmqctl("delete_vhost", name)


def drop_databases(prefix: str, postgres: str = DEFAULT_POSTGRES) -> None:
    async def drop() -> None:
        conn = await asyncpg.connect(f"{postgres}/postgres")
        try:
            for service in DATABASES:
                await conn.execute(f'DROP DATABASE IF EXISTS "{prefix}_{service}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(drop())


def _department_ports() -> dict[str, int]:
    return {d: DEFAULT_PORTS[d] for d in DEPARTMENTS}


@dataclass(frozen=True)
class Ports:
    gateway_grpc: int = DEFAULT_PORTS["gateway"]
    gateway_http: int = 8080
    gateway_peer: int = 50052
    intake: int = DEFAULT_PORTS["intake"]
    relay: int = DEFAULT_PORTS["relay"]
    router_http: int = 8090
    # Where agencies push records (gRPC and HTTP), apart from the window's gateway.
    ingest: int = DEFAULT_PORTS["ingest"]
    ingest_http: int = 8070
    notifier_http: int = 8091
    # The notifier's send records (gRPC), which the notifier calls.
    notifier_records: int = DEFAULT_PORTS["notifier_records"]
    # Each department of the catalog's gRPC port (``ports.assistance`` reads it too).
    departments: Mapping[str, int] = field(default_factory=_department_ports, hash=False)
    # Each process's GET /metrics.
    metrics: Mapping[str, int] = field(default_factory=lambda: dict(METRICS_PORTS), hash=False)

    @classmethod
    def free(cls) -> Ports:
        single = [
            f.name for f in dataclasses.fields(cls) if f.name not in ("departments", "metrics")
        ]
        return cls(
            **{name: free_port() for name in single},
            departments={d: free_port() for d in DEPARTMENTS},
            metrics={name: free_port() for name in METRICS_PORTS},
        )

    def __getattr__(self, name: str) -> int:
        departments = self.__dict__.get("departments", {})
        if name in departments:
            return int(departments[name])
        raise AttributeError(name)

    def grpc_port(self, service: str) -> int:
        return int(getattr(self, service))


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    module: str
    # ("grpc", port): the standard health service; ("http", port): GET /healthz.
    health: tuple[str, int]
    # Which of the process's replicas this is (1: the first, named as the process itself).
    replica: int = 1


def replica_name(process: str, replica: int) -> str:
    """The first replica keeps the process's name; the others are ``<process>-<n>``."""
    return process if replica == 1 else f"{process}-{replica}"


# Clients that spread their calls over every replica of a service they are given (round robin
# over a gRPC target naming several addresses: gateway/backends.py). nameko-grpc, in the
# router and the notifier, takes one host:port: each of their replicas is given one replica of
# the service, in turn, as a ClusterIP Service hands each client's connection to one pod.
BALANCING_CLIENTS = frozenset({"gateway"})
# The gRPC services other processes find by ``<SERVICE>_ADDR``.
CALLED = tuple(s for s in DEFAULT_PORTS if s != "gateway")


@dataclass
class Platform:
    log_dir: Path
    ports: Ports = field(default_factory=Ports)
    database_prefix: str = "onedoor"
    postgres: str = DEFAULT_POSTGRES
    amqp_uri: str = DEFAULT_AMQP_URI
    jurisdiction: str = "320585"
    extra_env: Mapping[str, str] = field(default_factory=dict)
    # How many processes of each run (deploy/k8s runs several of every one): process -> count,
    # 1 where not named. A replica listens on free ports of its own and shares everything else
    # (databases, virtual host, queues) with the first.
    replicas: Mapping[str, int] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    # The checkout whose code runs and its interpreter: this one, unless the benchmark
    # compares it with another (bench.ab runs an earlier commit's checkout beside it).
    root: Path = ROOT
    python: str = sys.executable
    # replica name -> listening variable -> port, for every replica after the first.
    _ports_of_replicas: dict[str, dict[str, int]] = field(
        default_factory=dict, init=False, repr=False
    )

    @property
    def specs(self) -> list[ProcessSpec]:
        """Every process to start, in order; a process's further replicas right after it."""
        specs = []
        for first in self._first_specs():
            specs.append(first)
            kind, _ = first.health
            for n in range(2, self.replicas.get(first.name, 1) + 1):
                name = replica_name(first.name, n)
                port = self._replica_ports(first, name)[self._listening(first)[kind]]
                specs.append(ProcessSpec(name, first.module, (kind, port), replica=n))
        return specs

    def replica_names(self, process: str) -> list[str]:
        return [replica_name(process, n) for n in range(1, self.replicas.get(process, 1) + 1)]

    def _first_specs(self) -> list[ProcessSpec]:
        p = self.ports
        return [
            ProcessSpec("intake", "services.intake", ("grpc", p.intake)),
            *(ProcessSpec(d, f"services.{d}", ("grpc", p.grpc_port(d))) for d in DEPARTMENTS),
            ProcessSpec("relay", "services.relay", ("grpc", p.relay)),
            ProcessSpec("router", "services.router", ("http", p.router_http)),
            # Before the notifier, which keeps its send records through it.
            ProcessSpec(
                "notifier_records", "services.notifier.records", ("grpc", p.notifier_records)
            ),
            ProcessSpec("notifier", "services.notifier", ("http", p.notifier_http)),
            ProcessSpec("gateway", "gateway", ("grpc", p.gateway_grpc)),
            ProcessSpec("ingest", "services.ingest", ("grpc", p.ingest)),
        ]

    def database_url(self, service: str) -> str:
        return f"{self.postgres}/{self.database_prefix}_{service}"

    def env(self, name: str = "") -> dict[str, str]:
        """The environment of a process started on this machine: this one's, plus the
        platform's own settings, plus what process ``name`` (a replica) is given of its own."""
        return {**os.environ, **self.platform_env(), **self.replica_env(name)}

    def platform_env(self) -> dict[str, str]:
        """Only what the platform sets for its processes (what a container is given)."""
        p = self.ports
        env = {
            "BIND_HOST": "127.0.0.1",
            "AMQP_URI": self.amqp_uri,
            "GATEWAY_JURISDICTION": self.jurisdiction,
            "GATEWAY_GRPC_PORT": str(p.gateway_grpc),
            "GATEWAY_HTTP_PORT": str(p.gateway_http),
            "GATEWAY_PEER_PORT": str(p.gateway_peer),
            "RELAY_GRPC_PORT": str(p.relay),
            "RELAY_SOURCES": ",".join(SERVICES_WITH_DATABASES),
            "ROUTER_HTTP_PORT": str(p.router_http),
            "INGEST_GRPC_PORT": str(p.ingest),
            "INGEST_HTTP_PORT": str(p.ingest_http),
            "INGEST_DATABASE_URL": self.database_url("ingest"),
            # The gateway asks ingest for the departments' warnings queues.
            "INGEST_ADDR": f"127.0.0.1:{p.ingest}",
            # Self-issued agency tokens (`onedoor token --role agency`), as for the gateway.
            "INGEST_DEV_TOKENS": "true",
            "NOTIFIER_HTTP_PORT": str(p.notifier_http),
            # The send records process owns the notifier's database; the notifier calls it.
            "NOTIFIER_DATABASE_URL": self.database_url("notifier"),
            "NOTIFIER_RECORDS_GRPC_PORT": str(p.notifier_records),
            "NOTIFIER_RECORDS_ADDR": f"127.0.0.1:{p.notifier_records}",
            # The development provider: the messages it would send, under the run's directory.
            "NOTIFIER_OUTBOX_FILE": str(self.notifier_messages),
            "PYTHONUNBUFFERED": "1",
            # Self-issued tokens (`onedoor token`) for local runs and tests only; a deployment
            # leaves them off and signs staff in through the bureau's identity provider.
            "GATEWAY_DEV_TOKENS": "true",
            # A made-up line, so local runs and tests print one on the receipt.
            "GATEWAY_BUREAU_CONTACT": "0512-00000000（示例）",
            # eventlet announces its deprecation on every import; it works, see STACK notes.
            "PYTHONWARNINGS": "ignore::DeprecationWarning",
        }
        for process, port in p.metrics.items():
            env[f"{process.upper()}_METRICS_PORT"] = str(port)
        for service in SERVICES_WITH_DATABASES:
            env[f"{service.upper()}_DATABASE_URL"] = self.database_url(service)
            env[f"{service.upper()}_GRPC_PORT"] = str(p.grpc_port(service))
            env[f"{service.upper()}_ADDR"] = f"127.0.0.1:{p.grpc_port(service)}"
        env.update(self.extra_env)
        return env

    def replica_env(self, name: str) -> dict[str, str]:
        """What process ``name`` is given beyond :meth:`platform_env`: a replica after the
        first, its own ports; a process calling a replicated service, where it finds it."""
        found = self._replica_of(name)
        if found is None:
            return {}
        first, n = found
        env = {}
        if n > 1:
            env.update({v: str(port) for v, port in self._replica_ports(first, name).items()})
        for service in CALLED:
            replicas = self.replica_names(service)
            if len(replicas) < 2 or service == first.name:
                continue
            addresses = [f"127.0.0.1:{self._grpc_port(r)}" for r in replicas]
            if first.name in BALANCING_CLIENTS:
                # gRPC's ipv4 resolver: one subchannel per address.
                env[f"{service.upper()}_ADDR"] = "ipv4:" + ",".join(addresses)
            else:
                env[f"{service.upper()}_ADDR"] = addresses[(n - 1) % len(addresses)]
        return env

    def _replica_of(self, name: str) -> tuple[ProcessSpec, int] | None:
        """The first spec of the process ``name`` is a replica of, and which replica it is."""
        for first in self._first_specs():
            for n in range(1, self.replicas.get(first.name, 1) + 1):
                if replica_name(first.name, n) == name:
                    return first, n
        return None

    def _listening(self, first: ProcessSpec) -> dict[str, str]:
        """The ports a process listens on, as its settings module declares them: kind (grpc,
        http, peer, metrics) -> variable."""
        settings = importlib.import_module(f"{first.module}.settings")
        found: dict[str, str] = {}
        for variable in settings.variables(self.platform_env()):
            if variable.listens:
                assert variable.listens not in found, (first.name, variable.listens)
                found[variable.listens] = variable.name
        return found

    def _replica_ports(self, first: ProcessSpec, name: str) -> dict[str, int]:
        """A further replica's ports (variable -> port), free ones chosen once."""
        if name not in self._ports_of_replicas:
            self._ports_of_replicas[name] = {
                v: free_port() for v in self._listening(first).values()
            }
        return self._ports_of_replicas[name]

    def _grpc_port(self, name: str) -> int:
        found = self._replica_of(name)
        assert found is not None, name
        first, n = found
        if n == 1:
            return self.ports.grpc_port(name)
        return self._replica_ports(first, name)[self._listening(first)["grpc"]]

    def metrics_port(self, name: str) -> int | None:
        """Where process ``name`` (a replica too) serves /metrics; None for one that does not."""
        found = self._replica_of(name)
        if found is None or found[1] == 1:
            return self.ports.metrics.get(name)
        first, _ = found
        return self._replica_ports(first, name)[self._listening(first)["metrics"]]

    @property
    def notifier_messages(self) -> Path:
        """Where the notifier's file provider writes the messages it sends (JSON lines)."""
        return self.log_dir / "notifier-messages.jsonl"

    def metrics_url(self, name: str) -> str:
        """Where a process (or a replica) serves Prometheus text."""
        return f"http://127.0.0.1:{self.metrics_port(name) or self.ports.metrics[name]}/metrics"

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def command(self, spec: ProcessSpec) -> list[str]:
        """How a process is started: the checkout's interpreter, running the process's module."""
        return [self.python, "-m", spec.module]

    def start(self, name: str) -> None:
        spec = next(s for s in self.specs if s.name == name)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path(name).open("ab") as log:
            # Own session: a Ctrl-C in the terminal reaches the launcher, which stops the
            # children in order, instead of every process at once.
            self.processes[name] = subprocess.Popen(
                self.command(spec),
                cwd=self.root,
                env=self.env(name),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def start_all(self) -> None:
        for spec in self.specs:
            self.start(spec.name)

    def is_healthy(self, spec: ProcessSpec) -> bool:
        kind, port = spec.health
        if kind == "http":
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    return bool(r.status == 200)
            except OSError:
                return False
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            try:
                response = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(service=""), timeout=1
                )
            except grpc.RpcError:
                return False
            return bool(response.status == health_pb2.HealthCheckResponse.SERVING)

    def exited(self) -> dict[str, int]:
        return {n: p.returncode for n, p in self.processes.items() if p.poll() is not None}

    def wait_healthy(
        self, timeout: float = 60.0, progress: bool = False, names: Collection[str] = ()
    ) -> None:
        """Waits until every started process (or only ``names``) reports SERVING."""
        pending = [
            s for s in self.specs if s.name in self.processes and (not names or s.name in names)
        ]
        deadline = time.monotonic() + timeout
        while pending:
            for name, code in self.exited().items():
                raise PlatformError(
                    f"{name} exited with code {code} while starting; its log:\n{self.tail(name)}"
                )
            for spec in list(pending):
                if self.is_healthy(spec):
                    pending.remove(spec)
                    if progress:
                        print(f"    {spec.name:<11} SERVING", flush=True)
            if pending and time.monotonic() > deadline:
                waiting = ", ".join(s.name for s in pending)
                logs = "\n".join(f"--- {s.name}\n{self.tail(s.name)}" for s in pending)
                raise PlatformError(f"not healthy after {timeout:.0f}s: {waiting}\n{logs}")
            time.sleep(0.2)

    def tail(self, name: str, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path(name).read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        process = self.processes[name]
        if process.poll() is None:
            process.send_signal(sig)
            process.wait(30)

    def restart(
        self, name: str, sig: int = signal.SIGKILL, down: float = 0.0, timeout: float = 60.0
    ) -> None:
        """Stops one process with ``sig`` (a crash, by default), leaves it down for ``down``
        seconds (work piles up behind it meanwhile), starts it again and waits until it serves;
        the others keep running."""
        self.kill(name, sig)
        time.sleep(down)
        self.start(name)
        self.wait_healthy(timeout=timeout, names=(name,))

    def keep_metrics(self) -> None:
        """Writes each running process's last /metrics beside its log (``<name>.metrics``), so
        what a stopped platform counted can still be read (and scanned, by the tests)."""
        for name, process in self.processes.items():
            if process.poll() is not None or self.metrics_port(name) is None:
                continue
            try:
                with urllib.request.urlopen(self.metrics_url(name), timeout=2) as response:
                    (self.log_dir / f"{name}.metrics").write_bytes(response.read())
            except OSError:
                pass

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM to every process, front to back in two waves: the callers (the gateway,
        ingest, the router, the notifier) first, and the rest once they have exited, so that
        no caller sees its peers go and warns that it cannot reach them. SIGKILL for any still
        running ``grace`` seconds into its wave. Each process's last metrics are kept beside its
        log."""
        self.keep_metrics()
        for wave in (
            ("ingest", "gateway", "router", "notifier"),
            ("notifier_records", "relay", *DEPARTMENTS, "intake"),
        ):
            names = [replica for process in wave for replica in self.replica_names(process)]
            deadline = time.monotonic() + grace
            for name in names:
                process = self.processes.get(name)
                if process is not None and process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for name in names:
                process = self.processes.get(name)
                if process is None:
                    continue
                try:
                    process.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(5)
