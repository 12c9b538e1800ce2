"""A PostgreSQL instance of the drill's own (initdb, on a free loopback port, trust auth with
replication allowed): the machine's shared cluster is neither backed up nor restarted, and
other test runs never see the drill. Run as the postgres user when the drill runs as root."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path


def _bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: p.parent)
    assert found, (
        "no PostgreSQL server binaries under /usr/lib/postgresql (make infra installs them)"
    )
    return found[-1].parent


def as_postgres(*command: str, timeout: float = 120) -> str:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    done = subprocess.run(
        [*prefix, *command], capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def owned_by_postgres(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")
    path.chmod(0o700)
    return path


class PostgresInstance:
    def __init__(self, data: Path, port: int) -> None:
        self.data = data
        self.port = port
        self.bin = _bin()
        # Its own socket directory: nothing in /var/run/postgresql, where the machine's is.
        self.sockets = owned_by_postgres(data.parent / f"sockets-{port}")
        self.log = data.parent / f"postgres-{port}.log"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}"

    def init(self) -> None:
        owned_by_postgres(self.data)
        as_postgres(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust"
        )

    def start(self) -> None:
        options = " ".join(
            [
                f"-c port={self.port}",
                "-c listen_addresses=127.0.0.1",
                f"-c unix_socket_directories={self.sockets}",
                "-c max_connections=300",
                "-c wal_level=replica",
            ]
        )
        if os.geteuid() == 0:
            self.log.touch()
            shutil.chown(self.log, "postgres", "postgres")
        as_postgres(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
            "-o", options, "-w", "-t", "120", "start",
        )  # fmt: skip

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def base_backup(self, target: Path) -> None:
        """pg_basebackup, as CloudNativePG takes it: the whole instance at one point in time,
        with the WAL it needs to be consistent (streamed while it copies)."""
        owned_by_postgres(target)
        as_postgres(
            str(self.bin / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.port),
            "-U", "postgres", "-D", str(target), "-X", "stream", "-c", "fast",
        )  # fmt: skip
