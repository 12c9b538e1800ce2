"""The built image, run as the cluster runs it: every process of the platform as a container of
``localhost/onedoor:dev`` (``make image``) with its Deployment's command and security settings
(read-only root filesystem with only /tmp writable, uid 10001, every capability dropped, no new
privileges), on the host network and free loopback ports, against this machine's PostgreSQL and
RabbitMQ with databases and a virtual host of its own. A dibao application submitted through
the containerised gateway's HTTP API must be routed.

Every container carries a label naming this run; all of them are removed at the end, also when
the test fails, and the teardown fails if one is left.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import yaml

from services.launcher import demo
from services.launcher.platform import (
    ROOT,
    Platform,
    Ports,
    ProcessSpec,
    create_vhost,
    delete_vhost,
    drop_databases,
)

pytestmark = pytest.mark.image

IMAGE = os.environ.get("ONEDOOR_IMAGE", "localhost/onedoor:dev")
BASE = ROOT / "deploy" / "k8s" / "base"
LABEL = "io.onedoor.smoke-run"
UID = 10001


@dataclass(frozen=True)
class Container:
    """What a base Deployment says about its one container, as podman's flags."""

    command: list[str]
    flags: list[str]


def from_manifest(spec: ProcessSpec) -> Container:
    """The command and security settings of the base Deployments' container that runs the
    process's module (a Pod may hold two: the notifier and its send records), which must be
    the ones every onedoor process runs with."""
    for path in sorted(BASE.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if not document or document["kind"] != "Deployment":
                continue
            pod = document["spec"]["template"]["spec"]
            for container in pod["containers"]:
                if container.get("command") == ["python", "-m", spec.module]:
                    return _as_podman(pod, container, spec.name)
    raise AssertionError(f"no base Deployment runs python -m {spec.module}")


def _as_podman(pod: dict[str, Any], container: dict[str, Any], name: str) -> Container:
    pod_security, security = pod["securityContext"], container["securityContext"]
    assert pod_security["runAsNonRoot"] is True, name
    assert (pod_security["runAsUser"], pod_security["runAsGroup"]) == (UID, UID), name
    assert security["readOnlyRootFilesystem"] is True, name
    assert security["allowPrivilegeEscalation"] is False, name
    assert security["capabilities"]["drop"] == ["ALL"], name
    empty_dirs = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
    writable = [m["mountPath"] for m in container["volumeMounts"] if m["name"] in empty_dirs]
    assert writable == ["/tmp"], f"{name}: writable paths {writable}"
    flags = [
        f"--user={pod_security['runAsUser']}:{pod_security['runAsGroup']}",
        # Read-only, and without podman's own tmpfs mounts: only what the manifest mounts.
        "--read-only",
        "--read-only-tmpfs=false",
        *(f"--tmpfs={path}" for path in writable),
        *(f"--cap-drop={cap}" for cap in security["capabilities"]["drop"]),
        "--security-opt=no-new-privileges",
    ]
    return Container(command=list(container["command"]), flags=flags)


def podman(*args: str, timeout: float = 60) -> str:
    done = subprocess.run(
        ["podman", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


@dataclass
class ContainerPlatform(Platform):
    """The launcher's platform with each process as a container of the image; podman run stays
    in the foreground, so the launcher's start, health and stop work unchanged (SIGTERM reaches
    the container's process through podman's signal proxy)."""

    image: str = IMAGE
    run: str = ""
    containers: dict[str, Container] = field(default_factory=dict)

    def container_name(self, name: str) -> str:
        return f"onedoor-smoke-{self.run}-{name}"

    def command(self, spec: ProcessSpec) -> list[str]:
        container = self.containers[spec.name]
        env = [f"--env={k}={v}" for k, v in sorted(self.platform_env().items())]
        return [
            "podman",
            "run",
            "--rm",
            "--pull=never",
            f"--name={self.container_name(spec.name)}",
            f"--label={LABEL}={self.run}",
            # Host networking only: the processes listen on loopback ports of this machine.
            "--network=host",
            *container.flags,
            *env,
            self.image,
            *container.command,
        ]

    def remove_all(self) -> list[str]:
        """Removes every container of this run; returns the names of any still there."""
        ours = podman("ps", "--all", "--quiet", f"--filter=label={LABEL}={self.run}").split()
        if ours:
            podman("rm", "--force", "--time=2", *ours)
        return podman(
            "ps", "--all", "--format={{.Names}}", f"--filter=label={LABEL}={self.run}"
        ).split()


@pytest.fixture(scope="module")
def containers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ContainerPlatform]:
    if subprocess.run(["podman", "image", "exists", IMAGE], check=False).returncode != 0:
        pytest.fail(f"no image {IMAGE}: run `make image` first (make test-image does)")
    run = str(os.getpid())
    prefix = f"onedoor_image_{run}"
    vhost = f"onedoor-image-{run}"
    started = ContainerPlatform(
        log_dir=tmp_path_factory.mktemp("image-logs"),
        ports=Ports.free(),
        database_prefix=prefix,
        amqp_uri=create_vhost(vhost),
        # Short drains: the test stops everything at once.
        extra_env={"SHUTDOWN_GRACE_SECONDS": "2"},
        image=IMAGE,
        run=run,
    )
    started.containers = {spec.name: from_manifest(spec) for spec in started.specs}
    try:
        print(f"\n==> starting {len(started.specs)} containers of {IMAGE}", flush=True)
        started.start_all()
        started.wait_healthy(timeout=120, progress=True)
        yield started
    finally:
        started.stop()
        left = started.remove_all()
        drop_databases(prefix)
        delete_vhost(vhost)
        assert not left, f"containers left behind: {left}"


def test_every_container_runs_as_the_manifests_say(containers: ContainerPlatform) -> None:
    """Read from inside each running container, not from podman's flags: the user, the
    capabilities, no_new_privs, and which paths can be written."""
    probe = (
        "import json, os, tempfile\n"
        "status = dict(l.split(':\\t', 1) for l in open('/proc/self/status').read().splitlines() if ':\\t' in l)\n"
        "def writable(d):\n"
        "    try:\n"
        "        tempfile.TemporaryFile(dir=d).close()\n"
        "        return True\n"
        "    except OSError:\n"
        "        return False\n"
        "print(json.dumps({'uid': os.getuid(), 'gid': os.getgid(), 'cap_eff': status['CapEff'].strip(),\n"
        "  'cap_bnd': status['CapBnd'].strip(), 'no_new_privs': status['NoNewPrivs'].strip(),\n"
        "  'writable': [d for d in ('/', '/app', '/opt/venv', '/etc', '/var/tmp', '/run', '/tmp') if writable(d)]}))\n"
    )
    seen: dict[str, Any] = {}
    for spec in containers.specs:
        out = podman("exec", containers.container_name(spec.name), "python", "-c", probe)
        seen[spec.name] = json.loads(out)
    expected = {
        "uid": UID,
        "gid": UID,
        "cap_eff": "0" * 16,
        "cap_bnd": "0" * 16,
        "no_new_privs": "1",
        "writable": ["/tmp"],
    }
    assert seen == {spec.name: expected for spec in containers.specs}


def test_a_dibao_application_through_the_containerised_gateway_is_routed(
    containers: ContainerPlatform,
) -> None:
    base_url = f"http://127.0.0.1:{containers.ports.gateway_http}"
    accepted, shown = demo.submit_and_follow(base_url, wait_seconds=30)
    assert accepted["receipt"]
    assert shown["status"] == "CASE_STATUS_ROUTED", json.dumps(shown, ensure_ascii=False)
    kinds = [entry["kind"] for entry in shown["timeline"]]
    assert "TIMELINE_ENTRY_KIND_ROUTED" in kinds, kinds


def test_the_containers_are_the_image_and_the_manifests_commands(
    containers: ContainerPlatform,
) -> None:
    image_id = podman("image", "inspect", "--format={{.Id}}", IMAGE).strip()
    for spec in containers.specs:
        (info,) = json.loads(podman("container", "inspect", containers.container_name(spec.name)))
        assert info["Image"] == image_id, spec.name
        assert info["Config"]["Cmd"] == from_manifest(spec).command, spec.name
        assert info["Config"]["Cmd"] == ["python", "-m", spec.module], spec.name
        assert info["HostConfig"]["NetworkMode"] == "host", spec.name
