"""A RabbitMQ node of the fault test's own, so that restarting the broker disturbs nobody else's
test run on the machine's shared node.

The node has its own name, ports, cookie, data and logs in a temporary directory, and no
plugins. Restarting it keeps its name and data directory, so durable queues, their bindings
and the persistent messages they hold survive, as they would on a production broker.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import string
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from services.launcher.platform import free_port

# Debian's /usr/sbin wrappers switch to the rabbitmq user when run as root, which would give
# the CLI another home directory (and Erlang cookie) than the node we start; the scripts they
# wrap run as whoever calls them.
_SCRIPTS = Path("/usr/lib/rabbitmq/bin")


def _script(name: str) -> str:
    direct = _SCRIPTS / name
    if direct.exists():
        return str(direct)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is not installed (make infra installs RabbitMQ)")
    return found


class RabbitMQNodeError(RuntimeError):
    pass


@dataclass
class RabbitMQNode:
    base: Path
    name: str = field(default_factory=lambda: f"onedoor-faults-{os.getpid()}@localhost")
    amqp_port: int = field(default_factory=free_port)
    dist_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def amqp_uri(self) -> str:
        # guest may log in over loopback; "/" is the node's default virtual host.
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}/"

    @property
    def log_path(self) -> Path:
        return self.base / "server.log"

    def _env(self) -> dict[str, str]:
        return {
            **os.environ,
            "HOME": str(self.base),
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.amqp_port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.base / "log"),
            "RABBITMQ_PID_FILE": str(self.base / "node.pid"),
            "RABBITMQ_CONFIG_FILE": str(self.base / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(self.base / "advanced.config"),
            # An empty file: the machine's rabbitmq-env.conf names the shared node.
            "RABBITMQ_CONF_ENV_FILE": str(self.base / "rabbitmq-env.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base / "enabled_plugins"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }

    def _prepare(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        (self.base / "rabbitmq.conf").write_text("loopback_users.guest = true\n")
        (self.base / "rabbitmq-env.conf").write_text("")
        (self.base / "enabled_plugins").write_text("[].\n")
        cookie = self.base / ".erlang.cookie"
        if not cookie.exists():
            # Written before the first start: the node and the CLI must share it, and a CLI
            # that came first would otherwise create a different one.
            cookie.write_text("".join(secrets.choice(string.ascii_uppercase) for _ in range(20)))
            cookie.chmod(0o400)

    def ctl(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [_script("rabbitmqctl"), "-q", "-n", self.name, *args],
            env=self._env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start(self, timeout: float = 90.0) -> float:
        """Starts the node and waits until it accepts connections; returns the seconds taken."""
        self._prepare()
        began = time.monotonic()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [_script("rabbitmq-server")],
                cwd=self.base,
                env=self._env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own process group: kill() takes the Erlang VM and its helpers together.
                start_new_session=True,
            )
        deadline = began + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RabbitMQNodeError(
                    f"RabbitMQ node {self.name} exited with {self.process.returncode}; "
                    f"see {self.log_path} and {self.base / 'log'}"
                )
            # await_startup fails at once while the node is not yet registered with epmd.
            if self.ctl("await_startup", "--timeout", "30", timeout=40).returncode == 0:
                return time.monotonic() - began
            time.sleep(0.5)
        raise RabbitMQNodeError(f"RabbitMQ node {self.name} not up after {timeout:.0f}s")

    def kill(self) -> None:
        """A crash: SIGKILL to the whole node, no chance to close connections or flush."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        if self.ctl("stop", timeout=60).returncode != 0:
            self.kill()
            return
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.kill()
