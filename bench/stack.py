"""What the benchmark starts (the trace sink, the baseline server, the platform with tracing
on or off) and how all of it is stopped and removed again, even on an error or Ctrl-C.

Names are fixed (``onedoor_bench_on`` databases, ``onedoor-bench-on`` virtual host), and
anything a killed earlier run left behind under them is removed before starting, so a run
never measures against stale data.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import subprocess
import sys
import time
import traceback
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import asyncpg

from bench.resources import peak_rss_mib
from services.common.config import DEFAULT_POSTGRES
from services.launcher.platform import (
    ROOT,
    Platform,
    PlatformError,
    Ports,
    create_vhost,
    delete_vhost,
    drop_databases,
    free_port,
)


class Cleanup:
    """Undo actions, run last-in first-out; one failing does not stop the others."""

    def __init__(self) -> None:
        self._actions: list[tuple[str, Callable[[], None]]] = []

    def push(self, what: str, action: Callable[[], None]) -> None:
        self._actions.append((what, action))

    def run(self) -> None:
        while self._actions:
            what, action = self._actions.pop()
            try:
                action()
            except Exception as error:
                print(f"!! cleanup: {what} failed: {type(error).__name__}: {error}", flush=True)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C and SIGTERM stop the run at once, wherever it is, and leave through every
    cleanup. (asyncio.run's own Ctrl-C handling only cancels the running task, and a grpc.aio
    call turns that cancellation into an RPC error the load generator counts and goes on.)"""
    raise KeyboardInterrupt


def run_cleaning_up(work: Callable[[Cleanup], None], logs: Path) -> int:
    """Runs ``work`` with a Cleanup it pushes its undo actions on, then runs every one of them,
    whatever happened; the exit code: 0, 130 when interrupted, 1 when it stopped early."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _interrupt)
    cleanup = Cleanup()
    try:
        work(cleanup)
    except KeyboardInterrupt:
        print("\n!! interrupted: stopping everything the benchmark started", flush=True)
        return 130
    except PlatformError as error:
        print(f"!! {error}", flush=True)
        return 1
    except Exception as error:
        traceback.print_exc()
        print(
            f"!! the benchmark stopped early ({type(error).__name__}); logs in {logs}", flush=True
        )
        return 1
    finally:
        # A second Ctrl-C must not leave processes, databases or vhosts behind half-removed.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
        print(
            "==> stopping every process, dropping the benchmark's databases and vhosts", flush=True
        )
        cleanup.run()
    return 0


def start_child(name: str, args: list[str], log_dir: Path) -> subprocess.Popen[bytes]:
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / f"{name}.log").open("ab") as log:
        # Own session: a Ctrl-C reaches the benchmark, which stops its children in order.
        return subprocess.Popen(
            [sys.executable, *args],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_child(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _wait_for(check: Callable[[], bool], what: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while not check():
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with code {process.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start within 30s")
        time.sleep(0.1)


class Sink:
    """The discarding OTLP receiver (bench.sink) in a process of its own."""

    def __init__(self, cleanup: Cleanup, log_dir: Path) -> None:
        self.port = free_port()
        self.process = start_child("sink", ["-m", "bench.sink", str(self.port)], log_dir)
        cleanup.push("stop the trace sink", lambda: stop_child(self.process))
        _wait_for(lambda: self.stats() is not None, "the trace sink", self.process)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stats(self) -> dict[str, Any] | None:
        import json

        try:
            with urllib.request.urlopen(f"{self.endpoint}/stats", timeout=1) as response:
                return dict(json.load(response))
        except OSError:
            return None


def _recreate_database(name: str) -> None:
    async def recreate() -> None:
        conn = await asyncpg.connect(f"{DEFAULT_POSTGRES}/postgres")
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(recreate())


def _drop_database(name: str) -> None:
    async def drop() -> None:
        conn = await asyncpg.connect(f"{DEFAULT_POSTGRES}/postgres")
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(drop())


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


class BaselineServer:
    """bench.baseline on a free port with a fresh database of its own."""

    DATABASE = "onedoor_bench_baseline"

    def __init__(self, cleanup: Cleanup, log_dir: Path) -> None:
        _recreate_database(self.DATABASE)
        cleanup.push("drop the baseline database", lambda: _drop_database(self.DATABASE))
        self.port = free_port()
        self.process = start_child(
            "baseline",
            ["-m", "bench.baseline", str(self.port), f"{DEFAULT_POSTGRES}/{self.DATABASE}"],
            log_dir,
        )
        cleanup.push("stop the baseline server", lambda: stop_child(self.process))
        # It listens once its pool and table are ready.
        _wait_for(lambda: _listening(self.port), "the baseline server", self.process)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        stop_child(self.process)


def _delete_vhost_quietly(name: str) -> None:
    # Not there is fine: nothing to remove.
    with contextlib.suppress(subprocess.CalledProcessError):
        delete_vhost(name)


class PlatformRun:
    """Every process of ``Platform.specs`` on free ports, with databases and a virtual host
    of this run's own, tracing on (OTLP to the sink, batch exporter) or off, metrics on (the
    default, as deployed) or off."""

    def __init__(
        self, label: str, tracing_endpoint: str | None, log_dir: Path, metrics: bool = True
    ) -> None:
        self.label = label
        self.prefix = f"onedoor_bench_{label}"
        self.vhost = f"onedoor-bench-{label}"
        if tracing_endpoint:
            # The SDK's batch exporter with its default queue and batch sizes, as deployed.
            tracing = {
                "OTEL_TRACES_EXPORTER": "otlp",
                "OTEL_EXPORTER_OTLP_ENDPOINT": tracing_endpoint,
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            }
        else:
            tracing = {"OTEL_TRACES_EXPORTER": "none"}
        # Metrics as deployed (Prometheus text on each process's port), or none at all.
        self.metrics = metrics
        if not metrics:
            tracing["OTEL_METRICS_EXPORTER"] = "none"
        self.log_dir = log_dir / label
        self.platform = Platform(
            log_dir=self.log_dir,
            ports=Ports.free(),
            database_prefix=self.prefix,
            extra_env=tracing,
        )

    def start(self, cleanup: Cleanup) -> None:
        drop_databases(self.prefix)
        _delete_vhost_quietly(self.vhost)
        self.platform.amqp_uri = create_vhost(self.vhost)
        cleanup.push(f"delete vhost {self.vhost}", lambda: _delete_vhost_quietly(self.vhost))
        cleanup.push(f"drop {self.prefix}_* databases", lambda: drop_databases(self.prefix))
        cleanup.push(f"stop the platform ({self.label})", self.stop)
        self.platform.start_all()
        self.platform.wait_healthy(timeout=120)

    @property
    def pids(self) -> dict[str, int]:
        return {name: process.pid for name, process in self.platform.processes.items()}

    def peak_rss(self) -> dict[str, float | None]:
        return {name: peak_rss_mib(pid) for name, pid in self.pids.items()}

    def span_queue_overflows(self) -> list[str]:
        """Processes whose batch exporter reported a full queue (spans dropped)."""
        found = []
        for name in self.platform.processes:
            text = self.platform.log_path(name).read_text(errors="replace")
            if "Queue is full" in text or "queue is full" in text:
                found.append(name)
        return found

    def stop(self) -> None:
        self.platform.stop()
        # Platform.stop knows the processes of its day; stop any it does not name, too.
        for process in self.platform.processes.values():
            stop_child(process)
