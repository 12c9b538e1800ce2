"""CPU and memory of every process taking part, read from /proc (no extra dependency).

Each phase reports how many cores each side used (the load generator, the platform's
processes, PostgreSQL, RabbitMQ, the trace sink), so a reader sees whether the load generator
or the machine, rather than the platform, set the ceiling.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# Processes that are not ours but do the platform's work; found by their command name.
SHARED_SERVERS = {"postgres": "postgres", "rabbitmq": "beam.smp"}


def _ticks(pid: int) -> int:
    """utime + stime of a process (and of its threads), in clock ticks; 0 once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    # The command name is in parentheses and may hold spaces; fields follow the last ")".
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])


def _pids_named(comm: str) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if Path(entry.path, "comm").read_text().strip() == comm:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _machine_busy_ticks() -> int:
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields[:8]) - idle


def peak_rss_mib(pid: int) -> float | None:
    """VmHWM: the most resident memory the process has ever had."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def current_rss_mib(comm: str) -> float:
    """Resident memory of every process named ``comm`` (PostgreSQL's backends, RabbitMQ)."""
    total = 0
    for pid in _pids_named(comm):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


@dataclass(frozen=True)
class CpuSnapshot:
    at: float
    # Per group, per process: a process that starts between two snapshots counts from zero,
    # one that ends drops out of both (rabbitmqctl, say, runs a short-lived beam.smp).
    ticks: dict[str, dict[int, int]]
    machine: int


class CpuMeter:
    """Cores used per group of processes between two snapshots; ``other`` is what the
    machine spent beyond every group (other work on a shared machine, the kernel)."""

    def __init__(self, groups: Mapping[str, list[int]]) -> None:
        self.groups = {"load generator": [os.getpid()], **groups}

    def snapshot(self) -> CpuSnapshot:
        ticks = {label: {p: _ticks(p) for p in pids} for label, pids in self.groups.items()}
        for label, comm in SHARED_SERVERS.items():
            ticks[label] = {p: _ticks(p) for p in _pids_named(comm)}
        return CpuSnapshot(time.monotonic(), ticks, _machine_busy_ticks())

    @staticmethod
    def seconds(before: CpuSnapshot, after: CpuSnapshot) -> dict[str, float]:
        """CPU seconds used per group between two snapshots, unrounded (``other`` and
        ``machine`` as in :meth:`cores`): what a figure per call divides."""
        found: dict[str, float] = {}
        for label, processes in after.ticks.items():
            earlier = before.ticks.get(label, {})
            found[label] = (
                sum(t - earlier.get(p, 0) for p, t in processes.items() if t >= earlier.get(p, 0))
                / CLOCK_TICKS
            )
        machine = (after.machine - before.machine) / CLOCK_TICKS
        found["other"] = max(0.0, machine - sum(found.values()))
        found["machine"] = machine
        return found

    @staticmethod
    def cores(before: CpuSnapshot, after: CpuSnapshot) -> dict[str, float]:
        wall = max(after.at - before.at, 1e-6)
        used = CpuMeter.seconds(before, after)
        # To the clock tick's resolution over a few seconds, not to a hundredth of a core: a
        # figure per application multiplies these back, and a hundredth over a 20 s turn of
        # 600 applications is 0.34 ms an application, the size of what a change saves.
        return {label: round(value / wall, 4) for label, value in used.items()}
