"""The Kubernetes manifests in deploy/k8s, rendered and checked offline.

Every overlay is rendered with ``kubectl kustomize`` and every object validated by
kubernetes-validate in strict mode against KUBERNETES_VERSION; the two operators' custom
resources are checked against the fields they require. Then the manifests are held against
the code: the processes are found on disk, and what each one reads, listens on and calls is
what its settings module declares (``variables(environ)`` of ``services/<process>/settings.py``,
``gateway/settings.py``: config.Variable), not a list kept here, so these tests follow the code
as it grows; tests/test_settings.py holds every module to reading the environment only there.

Loopback defaults (``127.0.0.1:50061``, a local PostgreSQL) are wrong in a pod, so besides
the variables read without a default, every address, database URL and the AMQP URI a process
uses must be set by its Deployment, and a variable whose default is a ``DEVELOPMENT_*``
placeholder (a key) must come from a Secret.

A deployed gateway federates: its peers file, mounted from the overlay, is read with the
gateway's own format, and every peer in the same cluster must be another overlay's gateway
that knows this one by name in return, reached on its peer port through both cities' network
policies.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import ipaddress
import os
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import pytest
import yaml
from kubernetes_validate import utils as kv_utils

from gateway.validation import serves
from services.assistance import standards
from services.common import config, db, divisions, schema
from services.common.catalog import DEPARTMENTS

ROOT = Path(__file__).resolve().parents[1]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = sorted(
    p.name for p in (K8S / "overlays").iterdir() if (p / "kustomization.yaml").exists()
)
PRODUCTION = [name for name in OVERLAYS if name.startswith("prod")]
# The oldest Kubernetes release still supported upstream when these manifests were written;
# kubernetes-validate bundles its schemas.
KUBERNETES_VERSION = "1.35"
# The image name in base/; every overlay must replace it through kustomize's images:.
BASE_IMAGE = "onedoor"

Obj = dict[str, Any]


# ---------------------------------------------------------------------------------------------
# Rendering


def _kubectl() -> str:
    found = os.environ.get("KUBECTL") or shutil.which("kubectl")
    if found is None and (ROOT / ".venv" / "bin" / "kubectl").exists():
        found = str(ROOT / ".venv" / "bin" / "kubectl")
    if found is None:
        pytest.fail(
            "kubectl (with kustomize) is needed to render deploy/k8s; install it or set KUBECTL"
        )
    return found


@functools.cache
def rendered(overlay: str) -> tuple[Obj, ...]:
    result = subprocess.run(
        [_kubectl(), "kustomize", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"kubectl kustomize overlays/{overlay} failed:\n{result.stderr}")
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def of_kind(overlay: str, kind: str) -> list[Obj]:
    return [o for o in rendered(overlay) if o["kind"] == kind]


def named(overlay: str, kind: str, name: str) -> Obj | None:
    return next((o for o in of_kind(overlay, kind) if o["metadata"]["name"] == name), None)


def namespace_of(overlay: str) -> str:
    namespaces = of_kind(overlay, "Namespace")
    assert len(namespaces) == 1, f"overlays/{overlay} must create exactly one Namespace"
    return str(namespaces[0]["metadata"]["name"])


def workloads(overlay: str) -> list[Obj]:
    return [o for o in rendered(overlay) if o["kind"] in ("Deployment", "StatefulSet")]


def onedoor_deployments(overlay: str) -> list[Obj]:
    """The Deployments that run a onedoor process (``python -m ...``)."""
    return [d for d in of_kind(overlay, "Deployment") if _command_module(d) is not None]


def _command_module(workload: Obj) -> str | None:
    """``services.intake`` for a Deployment whose first container runs
    ``python -m services.intake``."""
    return _container_module(workload["spec"]["template"]["spec"]["containers"][0])


def _container_module(container: Obj) -> str | None:
    argv = [*container.get("command", []), *container.get("args", [])]
    if len(argv) >= 3 and argv[0].startswith("python") and argv[1] == "-m":
        return str(argv[2])
    return None


def onedoor_containers(deployment: Obj) -> list[tuple[str, Obj]]:
    """(module, container) of each container of the Deployment that runs a onedoor process:
    its first, and any beside it in the Pod (the notifier's send records)."""
    found = []
    for container in deployment["spec"]["template"]["spec"]["containers"]:
        module = _container_module(container)
        if module is not None:
            found.append((module, container))
    return found


# ---------------------------------------------------------------------------------------------
# The processes in the code and what they do


def processes() -> dict[str, str]:
    """Every process the code can start, by name: its ``python -m`` module."""
    found = {"gateway": "gateway"} if (ROOT / "gateway" / "__main__.py").exists() else {}
    for main in sorted((ROOT / "services").glob("*/__main__.py")):
        name = main.parent.name
        # make run's supervisor and the command line are not deployed processes.
        if name not in ("launcher", "cli"):
            found[name] = f"services.{name}"
    # A process beside another in its Pod, in a package of that one's (services.notifier.records).
    for main in sorted((ROOT / "services").glob("*/*/__main__.py")):
        found[f"{main.parent.parent.name}_{main.parent.name}"] = (
            f"services.{main.parent.parent.name}.{main.parent.name}"
        )
    return found


def process_of_module(module: str) -> str:
    return module.removeprefix("services.").replace(".", "_")


@dataclass
class Facts:
    """What one process does, from its settings module's declarations with a Deployment's
    environment."""

    grpc_calls: set[str] = field(default_factory=set)
    databases: set[str] = field(default_factory=set)
    amqp: bool = False
    exports_spans: bool = False
    # port -> grpc | http | peer (a gRPC server given TLS credentials: peers that hold a
    # certificate, not front-ends, and no plain-text probe, get in)
    listens: dict[int, str] = field(default_factory=dict)
    reads_required: set[str] = field(default_factory=set)
    reads: set[str] = field(default_factory=set)
    # variables whose default is a development placeholder (a key) that every deployment must
    # replace with its own, from a Secret
    placeholders: set[str] = field(default_factory=set)
    # the value each variable takes (the Deployment's, or the code's default)
    settings: dict[str, set[str]] = field(default_factory=dict)
    # string literals beginning with "/" in the process's modules: the paths it may serve
    paths: set[str] = field(default_factory=set)


def settings_module(process: str) -> ModuleType:
    """``services/<process>/settings.py`` (``gateway/settings.py``): the declarations."""
    return importlib.import_module(f"{processes()[process]}.settings")


def declared(process: str, env: Mapping[str, str]) -> tuple[config.Variable, ...]:
    return tuple(settings_module(process).variables(dict(env)))


def _module_file(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


@functools.cache
def _parse(module: str) -> ast.Module:
    path = _module_file(module)
    assert path is not None, module
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _first_party(module: str) -> bool:
    return module.split(".")[0] in ("services", "gateway") and _module_file(module) is not None


@functools.cache
def module_closure(start: str) -> tuple[str, ...]:
    """The first-party modules a process reaches by importing, starting at its ``__main__``.
    A dotted module name in a string counts as an import: nameko loads services by name."""
    seen: list[str] = []
    todo = [f"{start}.__main__"]
    while todo:
        module = todo.pop()
        if module in seen or not _first_party(module):
            continue
        seen.append(module)
        is_package = _module_file(module) == ROOT.joinpath(*module.split("."), "__init__.py")
        package = module if is_package else module.rpartition(".")[0]
        for node in ast.walk(_parse(module)):
            if isinstance(node, ast.Import):
                todo += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
                todo.append(base)
                todo += [f"{base}.{alias.name}" for alias in node.names]
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and re.fullmatch(r"(services|gateway)(\.\w+)+", node.value)
            ):
                todo.append(node.value)
        # a package's __init__ runs before its modules
        parts = module.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]
    return tuple(seen)


@functools.cache
def served_paths(process: str) -> frozenset[str]:
    return frozenset(
        node.value
        for module in module_closure(processes()[process])
        for node in ast.walk(_parse(module))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.startswith("/")
    )


def facts_of(process: str, env: Mapping[str, str]) -> Facts:
    return _facts_of(process, frozenset(env.items()))


@functools.cache
def _facts_of(process: str, env: frozenset[tuple[str, str]]) -> Facts:
    environ = dict(env)
    facts = Facts(paths=set(served_paths(process)))
    for variable in declared(process, environ):
        facts.reads.add(variable.name)
        value = environ.get(variable.name) or variable.default
        if variable.required:
            facts.reads_required.add(variable.name)
        if value is not None:
            facts.settings[variable.name] = {value}
        if variable.secret:
            facts.placeholders.add(variable.name)
        if variable.calls:
            facts.grpc_calls.add(variable.calls)
        if variable.database:
            facts.databases.add(variable.database)
        if variable.broker:
            facts.amqp = True
        if variable.listens:
            assert value is not None, f"{process}: {variable.name} is a port with no default"
            facts.listens[int(value)] = variable.listens
    # telemetry.setup exports spans where OTEL_TRACES_EXPORTER says otlp
    facts.exports_spans = "OTEL_TRACES_EXPORTER" in facts.reads
    return facts


# ---------------------------------------------------------------------------------------------
# Containers, their environment, and where their addresses lead


def secret_placeholder(name: str, key: str) -> str:
    return f"__secret__{name}__{key}__"


def configmap_data(overlay: str, name: str) -> dict[str, str]:
    found = named(overlay, "ConfigMap", name)
    assert found is not None, f"overlays/{overlay}: ConfigMap {name} is referenced but not there"
    return dict(found.get("data", {}))


def container_env(overlay: str, container: Obj) -> dict[str, str]:
    """The container's environment as the kubelet builds it: envFrom first, then env in
    order with $(VAR) expanded. Secrets and fields stand in as placeholders."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        assert "configMapRef" in source, f"{container['name']}: envFrom of a Secret hides its keys"
        prefix = source.get("prefix", "")
        for key, value in configmap_data(overlay, source["configMapRef"]["name"]).items():
            env[prefix + key] = value
    for variable in container.get("env", []):
        name = variable["name"]
        if "value" in variable:
            env[name] = re.sub(
                r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                lambda m: env.get(m.group(1), m.group(0)),
                str(variable["value"]),
            )
            continue
        source = variable.get("valueFrom", {})
        if "configMapKeyRef" in source:
            ref = source["configMapKeyRef"]
            data = configmap_data(overlay, ref["name"])
            assert ref["key"] in data, f"ConfigMap {ref['name']} has no key {ref['key']}"
            env[name] = data[ref["key"]]
        elif "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            env[name] = secret_placeholder(ref["name"], ref["key"])
        elif "fieldRef" in source:
            env[name] = f"__field__{source['fieldRef']['fieldPath']}__"
        else:
            env[name] = "__resource__"
    return env


def referenced_secrets(container: Obj) -> set[tuple[str, str]]:
    return {
        (v["valueFrom"]["secretKeyRef"]["name"], v["valueFrom"]["secretKeyRef"]["key"])
        for v in container.get("env", [])
        if "secretKeyRef" in v.get("valueFrom", {})
    }


def volume_sources(volume: Obj) -> list[tuple[str, str, Obj]]:
    """(ConfigMap | Secret, name, source) of a volume, a projected one's sources included."""
    found = []
    for source in [volume, *(volume.get("projected", {}).get("sources", []))]:
        if "configMap" in source:
            found.append(("ConfigMap", source["configMap"]["name"], source["configMap"]))
        if "secret" in source:
            ref = source["secret"]
            found.append(("Secret", ref.get("secretName") or ref["name"], ref))
    return found


def mounted_file(pod: Obj, container: Obj, path: str) -> tuple[Obj, list[tuple[str, str, str]]]:
    """The mount holding the file at path, and the (kind, name, key) of each ConfigMap or
    Secret that may put it there."""
    mount = next(
        (m for m in container.get("volumeMounts", []) if path.startswith(m["mountPath"] + "/")),
        None,
    )
    assert mount is not None, f"{container['name']}: nothing is mounted where {path} is"
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    relative = path.removeprefix(mount["mountPath"] + "/")
    found = []
    for kind, name, source in volume_sources(volume):
        items = source.get("items")
        keys = [i["key"] for i in items if i["path"] == relative] if items else [relative]
        found += [(kind, name, key) for key in keys]
    return mount, found


@dataclass(frozen=True)
class Pod:
    """The pods of a workload, or of an operator's cluster, as the network sees them."""

    owner: str
    namespace: str
    labels: Mapping[str, str]
    ports: Mapping[str, tuple[int, str]]  # name -> (port, protocol)

    def port_named(self, name: str) -> int | None:
        return self.ports[name][0] if name in self.ports else None


@dataclass(frozen=True)
class ServiceModel:
    name: str
    selector: Mapping[str, str]
    ports: Sequence[tuple[int, int | str]]  # (port, targetPort)


def cnpg_pods(namespace: str, cluster: str) -> Pod:
    return Pod(
        f"Cluster/{cluster}",
        namespace,
        {
            "cnpg.io/cluster": cluster,
            "cnpg.io/podRole": "instance",
            "cnpg.io/instanceRole": "primary",
        },
        {"postgresql": (5432, "TCP"), "status": (8000, "TCP"), "metrics": (9187, "TCP")},
    )


def rabbitmq_pods(namespace: str, cluster: str) -> Pod:
    return Pod(
        f"RabbitmqCluster/{cluster}",
        namespace,
        {
            "app.kubernetes.io/name": cluster,
            "app.kubernetes.io/component": "rabbitmq",
            "app.kubernetes.io/part-of": "rabbitmq",
        },
        {
            "amqp": (5672, "TCP"),
            "management": (15672, "TCP"),
            "epmd": (4369, "TCP"),
            "cluster-rpc": (25672, "TCP"),
            # the rabbitmq_prometheus plugin's /metrics
            "prometheus": (15692, "TCP"),
        },
    )


def pods(overlay: str) -> list[Pod]:
    namespace = namespace_of(overlay)
    found = []
    for workload in workloads(overlay):
        template = workload["spec"]["template"]
        ports = {
            p["name"]: (p["containerPort"], p.get("protocol", "TCP"))
            for c in template["spec"]["containers"]
            for p in c.get("ports", [])
            if "name" in p
        }
        found.append(
            Pod(
                f"{workload['kind']}/{workload['metadata']['name']}",
                namespace,
                template["metadata"].get("labels", {}),
                ports,
            )
        )
    found += [cnpg_pods(namespace, c["metadata"]["name"]) for c in of_kind(overlay, "Cluster")]
    found += [
        rabbitmq_pods(namespace, c["metadata"]["name"]) for c in of_kind(overlay, "RabbitmqCluster")
    ]
    return found


def services(overlay: str) -> dict[str, ServiceModel]:
    found = {
        s["metadata"]["name"]: ServiceModel(
            s["metadata"]["name"],
            s["spec"].get("selector", {}),
            [(p["port"], p.get("targetPort", p["port"])) for p in s["spec"]["ports"]],
        )
        for s in of_kind(overlay, "Service")
    }
    # The Services the operators create for their clusters.
    for cluster in of_kind(overlay, "Cluster"):
        name = cluster["metadata"]["name"]
        found[f"{name}-rw"] = ServiceModel(
            f"{name}-rw",
            {"cnpg.io/cluster": name, "cnpg.io/instanceRole": "primary"},
            [(5432, "postgresql")],
        )
    for cluster in of_kind(overlay, "RabbitmqCluster"):
        name = cluster["metadata"]["name"]
        found[name] = ServiceModel(
            name, {"app.kubernetes.io/name": name}, [(5672, "amqp"), (15672, "management")]
        )
    return found


def selects(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


@dataclass(frozen=True)
class Destination:
    pod: Pod
    port: int


def resolve(overlay: str, host: str, port: int) -> Destination:
    """Where a client in the overlay's namespace ends up when it connects to host:port."""
    namespace = namespace_of(overlay)
    for suffix in (f".{namespace}.svc.cluster.local", f".{namespace}.svc", f".{namespace}"):
        host = host.removesuffix(suffix)
    service = services(overlay).get(host)
    assert service is not None, f"overlays/{overlay}: no Service {host} in the namespace"
    target = next((t for p, t in service.ports if p == port), None)
    assert target is not None, f"overlays/{overlay}: Service {host} has no port {port}"
    backends = [p for p in pods(overlay) if selects(service.selector, p.labels)]
    assert len(backends) == 1, (
        f"overlays/{overlay}: Service {host} selects {[p.owner for p in backends]}, not one workload"
    )
    backend = backends[0]
    if isinstance(target, str):
        number = backend.port_named(target)
        assert number is not None, f"{backend.owner} has no port named {target} for Service {host}"
    else:
        number = target
        assert number in {p for p, _ in backend.ports.values()}, (
            f"{backend.owner} declares no container port {number} for Service {host}"
        )
    return Destination(backend, number)


def host_port(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url if "://" in url else f"tcp://{url}")
    assert parts.hostname, f"no host in {url!r}"
    return parts.hostname, parts.port or default_port


# ---------------------------------------------------------------------------------------------
# NetworkPolicy semantics


def _matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    if not all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = (
            expression["key"],
            expression["operator"],
            expression.get("values", []),
        )
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def _peers_match(peers: list[Obj] | None, policy_namespace: str, pod: Pod) -> bool:
    """No peers at all admits everyone, in any namespace or outside the cluster."""
    return not peers or any(_peer_matches(p, policy_namespace, pod) for p in peers)


def _peer_matches(peer: Obj, policy_namespace: str, pod: Pod) -> bool:
    if "ipBlock" in peer:
        # Pods are matched by selectors; an ipBlock of 0.0.0.0/0 admits external addresses.
        return pod.namespace == "" and ipaddress.ip_network(peer["ipBlock"]["cidr"]).prefixlen == 0
    if "namespaceSelector" in peer:
        namespace_ok = _matches(
            peer["namespaceSelector"], {"kubernetes.io/metadata.name": pod.namespace}
        )
    else:
        namespace_ok = pod.namespace == policy_namespace
    return namespace_ok and _matches(peer.get("podSelector", {}), pod.labels)


def _port_matches(ports: list[Obj] | None, port: int, protocol: str, destination: Pod) -> bool:
    if not ports:
        return True
    for entry in ports:
        if entry.get("protocol", "TCP") != protocol:
            continue
        wanted = entry.get("port")
        if wanted is None:
            return True
        if isinstance(wanted, str):
            if destination.port_named(wanted) == port:
                return True
        elif wanted <= port <= entry.get("endPort", wanted):
            return True
    return False


def admitted(overlay: str, source: Pod, destination: Pod, port: int, protocol: str = "TCP") -> str:
    """Empty if the overlay's NetworkPolicies let source open port on destination; else why not."""
    policies = of_kind(overlay, "NetworkPolicy")
    namespace = namespace_of(overlay)

    def types(policy: Obj) -> list[str]:
        spec = policy["spec"]
        return spec.get("policyTypes") or (["Ingress"] + (["Egress"] if "egress" in spec else []))

    if source.namespace == namespace:
        egress = [
            p
            for p in policies
            if "Egress" in types(p) and _matches(p["spec"]["podSelector"], source.labels)
        ]
        if egress and not any(
            _peers_match(rule.get("to"), namespace, destination)
            and _port_matches(rule.get("ports"), port, protocol, destination)
            for policy in egress
            for rule in policy["spec"].get("egress", [])
        ):
            return (
                f"no egress rule lets {source.owner} reach {destination.owner} on {port}/{protocol}"
            )
    if destination.namespace == namespace:
        ingress = [
            p
            for p in policies
            if "Ingress" in types(p) and _matches(p["spec"]["podSelector"], destination.labels)
        ]
        if ingress and not any(
            _peers_match(rule.get("from"), namespace, source)
            and _port_matches(rule.get("ports"), port, protocol, destination)
            for policy in ingress
            for rule in policy["spec"].get("ingress", [])
        ):
            return (
                f"no ingress rule admits {source.owner} to {destination.owner} on {port}/{protocol}"
            )
    return ""


# ---------------------------------------------------------------------------------------------
# One record per onedoor Deployment: its process, environment and what its code does


@dataclass
class Deployed:
    name: str
    process: str
    in_code: bool
    deployment: Obj
    container: Obj
    env: dict[str, str]
    facts: Facts
    pod: Pod


@functools.cache
def deployed(overlay: str) -> list[Deployed]:
    found = []
    pod_by_owner = {p.owner: p for p in pods(overlay)}
    for deployment in onedoor_deployments(overlay):
        for module, container in onedoor_containers(deployment):
            process = process_of_module(module)
            env = container_env(overlay, container)
            in_code = process in processes()
            found.append(
                Deployed(
                    deployment["metadata"]["name"],
                    process,
                    in_code,
                    deployment,
                    container,
                    env,
                    facts_of(process, env) if in_code else Facts(),
                    pod_by_owner[f"Deployment/{deployment['metadata']['name']}"],
                )
            )
    return found


def overlay_params(names: Sequence[str] = OVERLAYS) -> Any:
    return pytest.mark.parametrize("overlay", names)


# ---------------------------------------------------------------------------------------------
# Schemas of the operators' custom resources: the fields they require and the types of the
# fields used here (kubernetes-validate knows only the built-in kinds).

_NAME_REF = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": {"type": "string", "minLength": 1}},
}
_RESOURCES = {
    "type": "object",
    "properties": {
        "requests": {"type": "object", "additionalProperties": {"type": ["string", "integer"]}},
        "limits": {"type": "object", "additionalProperties": {"type": ["string", "integer"]}},
    },
}
_METADATA = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}
_SECRET_KEY_REF = {
    "type": "object",
    "required": ["name", "key"],
    "properties": {"name": {"type": "string", "minLength": 1}, "key": {"type": "string"}},
}
_COMPRESSION = {"enum": ["gzip", "bzip2", "snappy", "lz4", "xz", "zstd"]}
# The Prometheus Operator's durations and label names (its CRDs' patterns).
_DURATION = {
    "type": "string",
    "pattern": r"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$",
}
_LABEL_NAME = {"type": "string", "pattern": r"^[a-zA-Z_][a-zA-Z0-9_]*$"}
_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
_RELABELING = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "sourceLabels": {"type": "array", "items": _LABEL_NAME},
        "separator": {"type": "string"},
        "targetLabel": {"type": "string"},
        "regex": {"type": "string"},
        "modulus": {"type": "integer"},
        "replacement": {"type": "string"},
        "action": {
            "enum": [
                *(
                    a
                    for name in (
                        "replace",
                        "keep",
                        "drop",
                        "hashmod",
                        "labelmap",
                        "labeldrop",
                        "labelkeep",
                        "lowercase",
                        "uppercase",
                        "keepequal",
                        "dropequal",
                    )
                    for a in (name, name.capitalize())
                ),
                "HashMod",
                "LabelMap",
                "LabelDrop",
                "LabelKeep",
                "KeepEqual",
                "DropEqual",
            ]
        },
    },
}
_SELECTOR = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"matchLabels": _STRING_MAP, "matchExpressions": {"type": "array"}},
}
CUSTOM_RESOURCE_SCHEMAS: dict[tuple[str, str], Obj] = {
    # Unknown fields are refused here, as the operator's structural CRDs prune them: a
    # misspelt field would otherwise vanish silently on apply.
    ("monitoring.coreos.com/v1", "PodMonitor"): {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "metadata": _METADATA,
            "spec": {
                "type": "object",
                "required": ["selector", "podMetricsEndpoints"],
                "additionalProperties": False,
                "properties": {
                    "selector": _SELECTOR,
                    "namespaceSelector": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "any": {"type": "boolean"},
                            "matchNames": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                    "jobLabel": {"type": "string"},
                    "podTargetLabels": {"type": "array", "items": {"type": "string"}},
                    "podMetricsEndpoints": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["port"],
                            "additionalProperties": False,
                            "properties": {
                                "port": {"type": "string", "minLength": 1},
                                "path": {"type": "string", "pattern": "^/"},
                                "scheme": {"enum": ["http", "https", "HTTP", "HTTPS"]},
                                "interval": _DURATION,
                                "scrapeTimeout": _DURATION,
                                "honorLabels": {"type": "boolean"},
                                "relabelings": {"type": "array", "items": _RELABELING},
                                "metricRelabelings": {"type": "array", "items": _RELABELING},
                            },
                        },
                    },
                },
            },
        },
    },
    ("monitoring.coreos.com/v1", "PrometheusRule"): {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "metadata": _METADATA,
            "spec": {
                "type": "object",
                "required": ["groups"],
                "additionalProperties": False,
                "properties": {
                    "groups": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["name", "rules"],
                            "additionalProperties": False,
                            "properties": {
                                "name": {"type": "string", "minLength": 1},
                                "interval": _DURATION,
                                "limit": {"type": "integer"},
                                "rules": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["expr"],
                                        "oneOf": [
                                            {"required": ["alert"]},
                                            {"required": ["record"]},
                                        ],
                                        "additionalProperties": False,
                                        "properties": {
                                            "alert": {"type": "string", "minLength": 1},
                                            "record": {"type": "string", "minLength": 1},
                                            "expr": {"type": ["string", "integer"]},
                                            "for": _DURATION,
                                            "keep_firing_for": _DURATION,
                                            "labels": _STRING_MAP,
                                            "annotations": _STRING_MAP,
                                        },
                                    },
                                },
                            },
                        },
                    }
                },
            },
        },
    },
    ("postgresql.cnpg.io/v1", "Cluster"): {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "metadata": _METADATA,
            "spec": {
                "type": "object",
                "required": ["instances"],
                "properties": {
                    "instances": {"type": "integer", "minimum": 1},
                    "primaryUpdateStrategy": {"enum": ["supervised", "unsupervised"]},
                    "storage": {"type": "object", "properties": {"size": {"type": "string"}}},
                    "resources": _RESOURCES,
                    "postgresql": {
                        "type": "object",
                        "properties": {
                            "parameters": {
                                "type": "object",
                                "additionalProperties": {"type": "string"},
                            }
                        },
                    },
                    "backup": {
                        "type": "object",
                        "properties": {
                            "retentionPolicy": {"type": "string", "pattern": r"^[1-9][0-9]*[dwm]$"},
                            "barmanObjectStore": {
                                "type": "object",
                                "required": ["destinationPath"],
                                "properties": {
                                    "destinationPath": {"type": "string", "minLength": 1},
                                    "endpointURL": {"type": "string"},
                                    "serverName": {"type": "string"},
                                    "s3Credentials": {
                                        "type": "object",
                                        "properties": {
                                            "accessKeyId": _SECRET_KEY_REF,
                                            "secretAccessKey": _SECRET_KEY_REF,
                                        },
                                    },
                                    "wal": {
                                        "type": "object",
                                        "properties": {
                                            "compression": _COMPRESSION,
                                            "maxParallel": {"type": "integer", "minimum": 1},
                                        },
                                    },
                                    "data": {
                                        "type": "object",
                                        "properties": {"compression": _COMPRESSION},
                                    },
                                },
                            },
                        },
                    },
                    "managed": {
                        "type": "object",
                        "properties": {
                            "roles": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["name"],
                                    "properties": {
                                        "name": {"type": "string"},
                                        "ensure": {"enum": ["present", "absent"]},
                                        "login": {"type": "boolean"},
                                        "passwordSecret": _NAME_REF,
                                    },
                                },
                            }
                        },
                    },
                },
            },
        },
    },
    ("postgresql.cnpg.io/v1", "Database"): {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "metadata": _METADATA,
            "spec": {
                "type": "object",
                "required": ["cluster", "name", "owner"],
                "properties": {
                    "cluster": _NAME_REF,
                    "name": {
                        "type": "string",
                        "not": {"enum": ["postgres", "template0", "template1"]},
                    },
                    "owner": {"type": "string", "minLength": 1},
                    "ensure": {"enum": ["present", "absent"]},
                },
            },
        },
    },
    ("postgresql.cnpg.io/v1", "ScheduledBackup"): {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "metadata": _METADATA,
            "spec": {
                "type": "object",
                "required": ["schedule", "cluster"],
                "properties": {
                    # Six fields: the operator's schedule has seconds first.
                    "schedule": {"type": "string", "pattern": r"^\S+( \S+){5}$"},
                    "cluster": _NAME_REF,
                    "method": {"enum": ["barmanObjectStore", "volumeSnapshot", "plugin"]},
                    "backupOwnerReference": {"enum": ["none", "self", "cluster"]},
                    "immediate": {"type": "boolean"},
                    "suspend": {"type": "boolean"},
                },
            },
        },
    },
    ("rabbitmq.com/v1beta1", "RabbitmqCluster"): {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "metadata": _METADATA,
            "spec": {
                "type": "object",
                "properties": {
                    "replicas": {"type": "integer", "minimum": 0},
                    "image": {"type": "string"},
                    "persistence": {
                        "type": "object",
                        "properties": {
                            "storage": {"type": "string"},
                            "storageClassName": {"type": "string"},
                        },
                    },
                    "resources": _RESOURCES,
                    "rabbitmq": {
                        "type": "object",
                        "properties": {
                            "additionalConfig": {"type": "string"},
                            "additionalPlugins": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                },
            },
        },
    },
}


# ---------------------------------------------------------------------------------------------
# The tests


@overlay_params()
def test_every_object_validates_strictly(overlay: str) -> None:
    bundled = {kv_utils.major_minor(v) for v in kv_utils.all_versions()}
    assert KUBERNETES_VERSION in bundled, (
        f"kubernetes-validate has no schemas for {KUBERNETES_VERSION}"
    )
    problems = []
    for obj in rendered(overlay):
        what = f"{obj['kind']}/{obj['metadata']['name']}"
        schema = CUSTOM_RESOURCE_SCHEMAS.get((obj["apiVersion"], obj["kind"]))
        try:
            if schema is not None:
                jsonschema.validate(obj, schema)
            else:
                kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            problems.append(
                f"{what}: {obj['apiVersion']} is not a Kubernetes {KUBERNETES_VERSION} kind"
            )
        except jsonschema.ValidationError as error:
            path = ".".join(str(p) for p in error.path)
            problems.append(f"{what}: {path}: {error.message}")
    assert not problems, "\n".join(problems)


@overlay_params()
def test_no_secret_values_are_committed(overlay: str) -> None:
    assert not of_kind(overlay, "Secret"), "Secrets are created by the operators, not committed"
    namespace = namespace_of(overlay)
    for obj in rendered(overlay):
        if obj["kind"] != "Namespace":
            assert obj["metadata"].get("namespace") == namespace, obj["metadata"]["name"]


def test_every_secret_referenced_is_documented() -> None:
    readme = (K8S / "README.md").read_text(encoding="utf-8")
    operator_made = {
        f"{c['metadata']['name']}-default-user"
        for o in OVERLAYS
        for c in of_kind(o, "RabbitmqCluster")
    }
    names: set[str] = set()
    for overlay in OVERLAYS:
        generated = {c["metadata"]["name"] for c in of_kind(overlay, "ConfigMap")}
        for workload in workloads(overlay):
            pod = workload["spec"]["template"]["spec"]
            for container in pod["containers"]:
                names |= {name for name, _ in referenced_secrets(container)}
            # Secrets mounted as files, and ConfigMaps the operators make (peers' authorities)
            for volume in pod.get("volumes", []):
                names |= {
                    name
                    for kind, name, _ in volume_sources(volume)
                    if kind == "Secret" or name not in generated
                }
        for cluster in of_kind(overlay, "Cluster"):
            for role in cluster["spec"].get("managed", {}).get("roles", []):
                names.add(role["passwordSecret"]["name"])
            store = cluster["spec"].get("backup", {}).get("barmanObjectStore", {})
            names |= {ref["name"] for ref in store.get("s3Credentials", {}).values()}
    missing = sorted(n for n in names - operator_made if f"`{n}`" not in readme)
    assert not missing, f"deploy/k8s/README.md does not say how to create {missing}"


@overlay_params()
def test_every_process_has_a_deployment(overlay: str) -> None:
    running = [
        process_of_module(module)
        for d in onedoor_deployments(overlay)
        for module, _ in onedoor_containers(d)
    ]
    # every department the catalog names is a process of its own, so deployed here
    assert set(DEPARTMENTS) <= set(processes()), (
        f"no process for {set(DEPARTMENTS) - set(processes())}"
    )
    for process in processes():
        assert running.count(process) == 1, (
            f"overlays/{overlay}: {process} has {running.count(process)} Deployments"
        )
    for process in running:
        # A Deployment may run ahead of its code only for a service the config already knows.
        assert process in processes() or process in config.DEFAULT_PORTS, (
            f"overlays/{overlay} runs {process}, which the code cannot start"
        )


@overlay_params()
def test_every_process_has_its_service_and_account(overlay: str) -> None:
    accounts = {a["metadata"]["name"] for a in of_kind(overlay, "ServiceAccount")}
    for d in deployed(overlay):
        account = d.deployment["spec"]["template"]["spec"].get("serviceAccountName")
        assert account in accounts, f"{d.name} runs as ServiceAccount {account!r}, not its own"
        own = [
            s
            for s in of_kind(overlay, "Service")
            if selects(s["spec"].get("selector", {}), d.pod.labels)
        ]
        assert own, f"overlays/{overlay}: no Service selects {d.name}"
        for service in own:
            assert all("name" in p for p in service["spec"]["ports"]), "name every port"


@overlay_params()
def test_images_come_from_kustomize(overlay: str) -> None:
    images = {d.container["image"] for d in deployed(overlay)}
    assert len(images) == 1, f"every process runs the one image, not {images}"
    image = images.pop()
    assert image != BASE_IMAGE, f"overlays/{overlay} must set the image through images:"
    name, _, tag = image.rpartition(":")
    assert name and tag and tag != "latest" and "/" not in tag, (
        f"overlays/{overlay}: image {image} needs a tag from images:"
    )
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    user = re.search(r"^USER (\d+)", dockerfile, re.MULTILINE)
    assert user, "the Dockerfile must end as a numeric non-root USER"
    for d in deployed(overlay):
        pod = d.deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsUser"] == int(user.group(1))
    assert re.search(r"PYTHONPATH=\S*/gen", dockerfile), "gen/ must be on the image's path"
    assert "grpc_tools.protoc" in dockerfile, "the image generates the protobuf code"


@overlay_params()
def test_variables_read_without_default_are_set(overlay: str) -> None:
    problems = []
    for d in deployed(overlay):
        needed = set(d.facts.reads_required)
        needed |= {f"{s.upper()}_ADDR" for s in d.facts.grpc_calls}
        needed |= {f"{s.upper()}_DATABASE_URL" for s in d.facts.databases}
        needed |= {"AMQP_URI"} if d.facts.amqp else set()
        if d.facts.exports_spans:
            needed.add("OTEL_EXPORTER_OTLP_ENDPOINT")
            if "otlp" not in d.env.get("OTEL_TRACES_EXPORTER", "").split(","):
                problems.append(f"{d.name}: OTEL_TRACES_EXPORTER must include otlp")
        problems += [f"{d.name}: {v} is not set" for v in sorted(needed - d.env.keys())]
        problems += [
            f"{d.name}: {v} must come from a Secret, not the code's development default"
            for v in sorted(d.facts.placeholders)
            if not d.env.get(v, "").startswith("__secret__")
        ]
        problems += [
            f"{d.name}: {k}={v} refers to a variable defined nowhere before it"
            for k, v in d.env.items()
            if re.search(r"\$\([A-Za-z_]", v)
        ]
    assert not problems, "\n".join(problems)


@overlay_params()
def test_container_ports_are_the_default_ports(overlay: str) -> None:
    for d in deployed(overlay):
        # A process beside another in the Pod prefixes its ports' names with its container's
        # (names are the Pod's, not the container's).
        declared = {
            p["containerPort"]: p["name"].removeprefix(f"{d.container['name']}-")
            for p in d.container["ports"]
        }
        if d.in_code:
            defaults = facts_of(d.process, {}).listens
            # The metrics ports differ by process only so that processes can share a machine;
            # in its own pod every process serves /metrics on the customary first one, and a
            # process beside it on the next.
            beside = [c["name"] for _, c in onedoor_containers(d.deployment)].index(
                d.container["name"]
            )
            pod_defaults = {
                config.FIRST_METRICS_PORT + beside if kind == "metrics" else port: kind
                for port, kind in defaults.items()
            }
            assert d.facts.listens == pod_defaults, (
                f"{d.name}: the Deployment moves a port off its default "
                f"(metrics on {config.FIRST_METRICS_PORT}, the rest as the code has them)"
            )
            expected = pod_defaults
        else:
            expected = {config.DEFAULT_PORTS[d.process]: "grpc"}
        assert declared == expected, (
            f"overlays/{overlay}: {d.name} declares {declared}, listens on {expected}"
        )


@overlay_params()
def test_probes_ask_the_processes_themselves(overlay: str) -> None:
    for d in deployed(overlay):
        grpc_ports = [p for p, kind in d.facts.listens.items() if kind == "grpc"]
        if not d.in_code:
            grpc_ports = [config.DEFAULT_PORTS[d.process]]
        # A process that listens on loopback only (NOTIFIER_RECORDS_LISTEN_HOST) is out of the
        # kubelet's gRPC probe's reach (the Pod's address): its own health module asks it.
        loopback = any(
            name.endswith("_LISTEN_HOST") and values == {"127.0.0.1"}
            for name, values in d.facts.settings.items()
        )
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            spec = d.container.get(probe)
            assert spec, f"{d.name} has no {probe}"
            if loopback:
                health = f"{processes()[d.process]}.health"
                assert spec.get("exec", {}).get("command") == ["python", "-m", health], (
                    f"{d.name} {d.container['name']} {probe}: python -m {health}"
                )
                assert _module_file(health) is not None, f"no module {health}"
            elif grpc_ports:
                # the standard health service of the process's gRPC server
                assert spec.get("grpc", {}).get("port") == grpc_ports[0], f"{d.name} {probe}"
                assert spec["grpc"].get("service", "") == ""
            else:
                http = spec.get("httpGet")
                assert http, f"{d.name}: {probe} must ask the process over HTTP"
                assert http["path"] in d.facts.paths, f"{d.name}: the code serves no {http['path']}"
                port = http["port"]
                number = d.pod.port_named(port) if isinstance(port, str) else port
                assert d.facts.listens.get(number) == "http", f"{d.name}: {probe} port {port}"


@overlay_params()
def test_shutdown_grace_covers_the_drain(overlay: str) -> None:
    for d in deployed(overlay):
        pod = d.deployment["spec"]["template"]["spec"]
        grace = pod["terminationGracePeriodSeconds"]
        pre_stop = (
            d.container.get("lifecycle", {}).get("preStop", {}).get("sleep", {}).get("seconds", 0)
        )
        drains = d.facts.settings.get("SHUTDOWN_GRACE_SECONDS", {"10"} if not d.in_code else set())
        if drains:
            drain = max(float(v) for v in drains)
            # the drain, then closing pools and flushing spans, but not much more
            assert pre_stop + drain + 10 <= grace <= pre_stop + drain + 20, (
                f"{d.name}: terminationGracePeriodSeconds {grace} for preStop {pre_stop} + drain {drain}"
            )
            if d.process in called_processes(overlay) or d.process == "gateway":
                assert pre_stop > 0, f"{d.name} takes traffic: it needs a preStop pause"
        else:
            assert grace >= pre_stop + 10, d.name


def called_processes(overlay: str) -> set[str]:
    return {s for d in deployed(overlay) for s in d.facts.grpc_calls}


@overlay_params()
def test_pods_are_locked_down(overlay: str) -> None:
    problems = []
    for workload in workloads(overlay):
        what = f"{workload['kind']}/{workload['metadata']['name']}"
        pod = workload["spec"]["template"]["spec"]
        if pod.get("automountServiceAccountToken") is not False:
            problems.append(f"{what}: mounts an API token it does not use")
        for container in pod.get("initContainers", []) + pod["containers"]:
            context = container.get("securityContext", {})
            if not (
                context.get("runAsNonRoot") or pod.get("securityContext", {}).get("runAsNonRoot")
            ):
                problems.append(f"{what}: may run as root")
            if context.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{what}: root filesystem is writable")
            if context.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{what}: may escalate privileges")
            if context.get("capabilities", {}).get("drop") != ["ALL"]:
                problems.append(f"{what}: keeps capabilities")
            resources = container.get("resources", {})
            for kind in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    if resource not in resources.get(kind, {}):
                        problems.append(f"{what}: no {resource} {kind}")
    assert not problems, "\n".join(problems)


@overlay_params()
def test_service_selectors_match_workloads(overlay: str) -> None:
    for service in of_kind(overlay, "Service"):
        name = service["metadata"]["name"]
        selector = service["spec"].get("selector", {})
        matched = [
            w
            for w in workloads(overlay)
            if selects(selector, w["spec"]["template"]["metadata"]["labels"])
        ]
        assert len(matched) == 1, (
            f"overlays/{overlay}: Service {name} selects {len(matched)} workloads"
        )
        for port in service["spec"]["ports"]:
            resolve(overlay, name, port["port"])
    for workload in workloads(overlay):
        selector = workload["spec"]["selector"]["matchLabels"]
        assert selects(selector, workload["spec"]["template"]["metadata"]["labels"])


def calls(overlay: str) -> Iterator[tuple[Deployed, str, Destination]]:
    """Every connection a process opens, resolved through its environment to a pod and port."""
    for d in deployed(overlay):
        for service in sorted(d.facts.grpc_calls):
            host, port = host_port(d.env[f"{service.upper()}_ADDR"], 0)
            # Loopback: a process beside this one in its own Pod (the notifier's send records).
            destination = (
                Destination(d.pod, port)
                if host in ("127.0.0.1", "localhost")
                else resolve(overlay, host, port)
            )
            yield d, f"gRPC to {service}", destination
        for database in sorted(d.facts.databases):
            host, port = host_port(d.env[f"{database.upper()}_DATABASE_URL"], 5432)
            yield d, f"database {database}", resolve(overlay, host, port)
        if d.facts.amqp:
            host, port = host_port(d.env["AMQP_URI"], 5672)
            yield d, "AMQP", resolve(overlay, host, port)
        if d.facts.exports_spans:
            host, port = host_port(d.env["OTEL_EXPORTER_OTLP_ENDPOINT"], 4318)
            yield d, "OTLP", resolve(overlay, host, port)


@overlay_params()
def test_addresses_lead_to_the_processes_called(overlay: str) -> None:
    by_name = {d.name: d for d in deployed(overlay)}
    for caller, what, destination in calls(overlay):
        if what.startswith("gRPC to "):
            service = what.removeprefix("gRPC to ")
            callee = next((d for d in by_name.values() if d.process == service), None)
            assert callee is not None, f"{caller.name} calls {service}, which is not deployed"
            assert destination.pod == callee.pod, (
                f"{caller.name}: {what} reaches {destination.pod.owner}"
            )
            listens = (
                callee.facts.listens if callee.in_code else {config.DEFAULT_PORTS[service]: "grpc"}
            )
            assert listens.get(destination.port) == "grpc", (
                f"{caller.name}: {what} reaches port {destination.port}; {service} serves gRPC on {listens}"
            )
        if what == "OTLP":
            protocol = caller.env.get("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
            expected = 4318 if protocol == "http/protobuf" else 4317
            assert destination.port == expected, (
                f"{caller.name}: OTLP {protocol} on {destination.port}"
            )


@overlay_params()
def test_network_policies_admit_every_call(overlay: str) -> None:
    problems = [
        f"{caller.name} ({what}): {why}"
        for caller, what, destination in calls(overlay)
        # within a Pod (loopback) no policy applies
        if destination.pod != caller.pod
        and (why := admitted(overlay, caller.pod, destination.pod, destination.port))
    ]
    dns = Pod("kube-dns", "kube-system", {"k8s-app": "kube-dns"}, {"dns": (53, "UDP")})
    for d in deployed(overlay):
        if why := admitted(overlay, d.pod, dns, 53, "UDP"):
            problems.append(f"{d.name} (DNS): {why}")
    # Window front-ends, from outside the namespace (peers: test_gateway_federates_with_its_peers).
    front_end = Pod("front-end", "ingress", {"app.kubernetes.io/name": "ingress-nginx"}, {})
    for d in deployed(overlay):
        if d.process == "gateway":
            for port, kind in d.facts.listens.items():
                # peers: their own test; metrics: Prometheus only (test_metrics_are_scraped)
                if kind in ("peer", "metrics"):
                    continue
                if why := admitted(overlay, front_end, d.pod, port):
                    problems.append(f"front-ends to {d.name}: {why}")
    assert not problems, "\n".join(problems)


@overlay_params(PRODUCTION)
def test_network_policies_deny_by_default(overlay: str) -> None:
    deny = [
        p
        for p in of_kind(overlay, "NetworkPolicy")
        if p["spec"]["podSelector"] == {}
        and set(p["spec"].get("policyTypes", [])) == {"Ingress", "Egress"}
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
    ]
    assert deny, f"overlays/{overlay} has no default-deny NetworkPolicy"
    # and an arrow the architecture does not have stays closed
    ds = {d.process: d for d in deployed(overlay)}
    assert admitted(overlay, ds["gateway"].pod, ds["relay"].pod, 50069)
    rabbit = [p for p in pods(overlay) if p.owner.startswith("RabbitmqCluster/")]
    assert rabbit and admitted(overlay, ds["gateway"].pod, rabbit[0], 5672)


@overlay_params()
def test_every_outbox_is_drained(overlay: str) -> None:
    ds = deployed(overlay)
    drained = set().union(*(d.facts.databases for d in ds if d.facts.amqp))
    written = {
        database
        for d in ds
        if not d.facts.amqp
        for database in d.facts.databases
        if schema.COMMON_MIGRATIONS in schema.directories_for(database)
    }
    assert written <= drained, f"overlays/{overlay}: no relay drains {sorted(written - drained)}"


@overlay_params()
def test_each_database_exists_for_its_url(overlay: str) -> None:
    clusters = of_kind(overlay, "Cluster")
    databases = {d["spec"]["name"]: d for d in of_kind(overlay, "Database")}
    for d in deployed(overlay):
        for database in d.facts.databases:
            url = urlsplit(d.env[f"{database.upper()}_DATABASE_URL"])
            name, user = url.path.lstrip("/"), url.username
            password = re.fullmatch(r"__secret__(.+)__password__", url.password or "")
            assert password, f"{d.name}: the password of {database} must come from a Secret"
            secret = password.group(1)
            if clusters:
                assert name in databases, f"overlays/{overlay}: no Database {name}"
                assert databases[name]["spec"]["owner"] == user
                cluster = next(
                    c
                    for c in clusters
                    if c["metadata"]["name"] == databases[name]["spec"]["cluster"]["name"]
                )
                roles = {r["name"]: r for r in cluster["spec"]["managed"]["roles"]}
                assert roles[user]["passwordSecret"]["name"] == secret, f"{user}'s password"
            else:
                owner = resolve(overlay, url.hostname or "", url.port or 5432).pod.owner
                kind, _, workload = owner.partition("/")
                server = named(overlay, kind, workload)
                assert server is not None, f"overlays/{overlay}: no PostgreSQL at {url.hostname}"
                container = server["spec"]["template"]["spec"]["containers"][0]
                env = container_env(overlay, container)
                assert name == f"onedoor_{user}" and user in env["ONEDOOR_DATABASES"].split()
                assert env[f"{user.upper()}_DB_PASSWORD"] == secret_placeholder(secret, "password")


@overlay_params(PRODUCTION)
def test_production_scales_out_and_survives_drains(overlay: str) -> None:
    budgets = of_kind(overlay, "PodDisruptionBudget")
    autoscalers = {
        h["spec"]["scaleTargetRef"]["name"]: h for h in of_kind(overlay, "HorizontalPodAutoscaler")
    }
    for d in deployed(overlay):
        replicas = d.deployment["spec"]["replicas"]
        assert replicas >= 2, f"{d.name} runs {replicas} replica"
        labels = d.deployment["spec"]["template"]["metadata"]["labels"]
        budget = [b for b in budgets if _matches(b["spec"]["selector"], labels)]
        assert len(budget) == 1, f"{d.name} has {len(budget)} PodDisruptionBudgets"
        spec = budget[0]["spec"]
        assert spec.get("maxUnavailable", 0) >= 1 or spec.get("minAvailable", replicas) < replicas
        hpa = autoscalers.get(d.name)
        assert hpa is not None, f"{d.name} has no HorizontalPodAutoscaler"
        assert hpa["spec"]["scaleTargetRef"]["kind"] == "Deployment"
        assert hpa["spec"]["minReplicas"] >= 2
        # CPU for every process; where another metric leads (the router's backlog), CPU is
        # still what scales it when that metric cannot be read (tests/test_k8s_observability.py).
        resources = [
            m["resource"]["name"] for m in hpa["spec"]["metrics"] if m["type"] == "Resource"
        ]
        assert resources == ["cpu"], f"{d.name}: its autoscaler must scale on CPU"
        assert "cpu" in d.container["resources"]["requests"], (
            f"{d.name}: CPU scaling needs a request"
        )


@overlay_params(PRODUCTION)
def test_connection_pools_fit_postgres(overlay: str) -> None:
    pool_size = inspect.signature(db.open_pool).parameters["max_size"].default
    autoscalers = {
        h["spec"]["scaleTargetRef"]["name"]: h for h in of_kind(overlay, "HorizontalPodAutoscaler")
    }
    wanted = 0
    for d in deployed(overlay):
        databases = len(d.facts.databases) if d.in_code else 1
        most = (
            autoscalers[d.name]["spec"]["maxReplicas"]
            if d.name in autoscalers
            else d.deployment["spec"]["replicas"]
        )
        wanted += most * databases * pool_size
    for cluster in of_kind(overlay, "Cluster"):
        budget = int(cluster["spec"]["postgresql"]["parameters"]["max_connections"])
        # superuser_reserved_connections, replication and the operator's own
        assert wanted + 20 <= budget, (
            f"pools may open {wanted} connections; max_connections is {budget}"
        )


@overlay_params()
def test_router_queues_are_quorum_in_production(overlay: str) -> None:
    """What the router's code declares its queues as, with the overlay's settings: quorum
    (replicated) where RabbitMQ runs three nodes or more, with a delivery limit that outlasts
    a service being down for hours (the router requeues about once a second); classic on one
    node, where a quorum queue gains nothing."""
    (router,) = [d for d in deployed(overlay) if d.process == "router"]
    settings = router.facts.settings
    assert "ROUTER_QUEUE_TYPE" in router.facts.reads, "the router no longer reads its queue type"
    clusters = of_kind(overlay, "RabbitmqCluster")
    if overlay in PRODUCTION:
        assert settings.get("ROUTER_QUEUE_TYPE") == {"quorum"}, settings.get("ROUTER_QUEUE_TYPE")
        (limit,) = settings.get("ROUTER_QUEUE_DELIVERY_LIMIT", {"0"})
        assert int(limit) >= 24 * 3600, f"ROUTER_QUEUE_DELIVERY_LIMIT={limit}"
        assert [c["spec"]["replicas"] for c in clusters] == [3], "quorum needs three nodes"
    else:
        assert settings.get("ROUTER_QUEUE_TYPE") == {"classic"}, settings.get("ROUTER_QUEUE_TYPE")
        assert not clusters


@overlay_params(PRODUCTION)
def test_production_backs_up_postgres_with_its_wal(overlay: str) -> None:
    """Every PostgreSQL cluster archives its WAL to an object store (credentials from a
    Secret) and has a scheduled base backup by the same method; every city's cluster archives
    to a path of its own (two clusters in one path corrupt each other's archive)."""
    for cluster in of_kind(overlay, "Cluster"):
        name = cluster["metadata"]["name"]
        backup = cluster["spec"].get("backup", {})
        store = backup.get("barmanObjectStore")
        assert store, f"{name}: no backup.barmanObjectStore (no WAL archiving)"
        assert "wal" in store, f"{name}: WAL archiving unconfigured"
        credentials = store.get("s3Credentials", {})
        assert set(credentials) == {"accessKeyId", "secretAccessKey"}, name
        assert backup.get("retentionPolicy"), f"{name}: backups kept for ever"
        schedules = [
            s for s in of_kind(overlay, "ScheduledBackup") if s["spec"]["cluster"]["name"] == name
        ]
        assert schedules, f"{name}: no ScheduledBackup"
        assert {s["spec"].get("method", "barmanObjectStore") for s in schedules} == {
            "barmanObjectStore"
        }
    destinations: dict[tuple[str, str], str] = {}
    for other in PRODUCTION:
        for cluster in of_kind(other, "Cluster"):
            store = cluster["spec"]["backup"]["barmanObjectStore"]
            where = (store["destinationPath"], store.get("serverName", cluster["metadata"]["name"]))
            assert where not in destinations, (
                f"{other} and {destinations[where]} archive to {where}"
            )
            destinations[where] = other


@overlay_params()
def test_gateway_jurisdiction_and_standards_are_valid(overlay: str) -> None:
    for d in deployed(overlay):
        if "GATEWAY_JURISDICTION" in d.env:
            assert divisions.is_known(d.env["GATEWAY_JURISDICTION"])
        path = d.env.get("DIBAO_STANDARDS_FILE")
        if path is None:
            continue
        pod = d.deployment["spec"]["template"]["spec"]
        mount = next(
            m for m in d.container["volumeMounts"] if path.startswith(m["mountPath"] + "/")
        )
        volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
        data = configmap_data(overlay, volume["configMap"]["name"])
        text = data[path.removeprefix(mount["mountPath"] + "/")]
        parsed = standards.parse(text)
        jurisdiction = next(
            e.env["GATEWAY_JURISDICTION"]
            for e in deployed(overlay)
            if "GATEWAY_JURISDICTION" in e.env
        )
        assert parsed.for_division(jurisdiction).division, "the city's own standard applies to it"


def gateway_of(overlay: str) -> Deployed:
    found = [d for d in deployed(overlay) if d.process == "gateway"]
    assert len(found) == 1, f"overlays/{overlay} runs {len(found)} gateways"
    return found[0]


def peers_of(overlay: str) -> dict[str, Obj]:
    """The gateway's peers file as the gateway reads it (gateway/peers.py), from its mount."""
    d = gateway_of(overlay)
    path = d.env.get("GATEWAY_PEERS_FILE", "")
    assert path, f"overlays/{overlay}: a deployed gateway federates; set GATEWAY_PEERS_FILE"
    pod = d.deployment["spec"]["template"]["spec"]
    mount, sources = mounted_file(pod, d.container, path)
    assert mount.get("readOnly"), f"{d.name}: mount {mount['mountPath']} read-only"
    texts = [
        data[key]
        for kind, name, key in sources
        if kind == "ConfigMap"
        and (found := named(overlay, "ConfigMap", name)) is not None
        and key in (data := found.get("data", {}))
    ]
    assert len(texts) == 1, f"overlays/{overlay}: {path} must come from one ConfigMap here"
    return dict(tomllib.loads(texts[0]).get("peers", {}))


def _in_cluster(host: str) -> tuple[str, str] | None:
    """(Service, namespace) of a cluster DNS name, None for an address outside the cluster."""
    parts = host.split(".")
    if len(parts) >= 3 and parts[2] == "svc" and ".".join(parts[3:]) in ("", "cluster.local"):
        return parts[0], parts[1]
    return None


@overlay_params()
def test_gateway_federates_with_its_peers(overlay: str) -> None:
    d = gateway_of(overlay)
    pod = d.deployment["spec"]["template"]["spec"]
    me = d.env.get("GATEWAY_NAME", "")
    # its certificate names it: a DNS label, and its key only ever in a Secret
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", me), f"GATEWAY_NAME={me!r}"
    for variable in ("GATEWAY_TLS_CERT_FILE", "GATEWAY_TLS_KEY_FILE"):
        mount, sources = mounted_file(pod, d.container, d.env[variable])
        assert mount.get("readOnly"), f"{d.name}: mount {mount['mountPath']} read-only"
        assert sources and {kind for kind, _, _ in sources} == {"Secret"}, (
            f"{d.name}: {variable} must come from a Secret"
        )
    assert list(d.facts.listens.values()).count("peer") == 1, f"{d.name}: {d.facts.listens}"
    namespaces = {namespace_of(o): o for o in OVERLAYS}
    for name, peer in peers_of(overlay).items():
        what = f"overlays/{overlay}: peer {name}"
        assert name != me, f"{what} is this gateway"
        prefixes = peer.get("prefixes", [])
        assert prefixes and all(re.fullmatch(r"\d{1,6}", p) for p in prefixes), f"{what}: prefixes"
        assert peer.get("ca_file"), f"{what}: ca_file"
        _, sources = mounted_file(pod, d.container, peer["ca_file"])
        assert sources, f"{what}: no ConfigMap or Secret puts {peer['ca_file']} there"
        host, port = host_port(peer.get("address", ""), 0)
        assert port, f"{what}: address {peer['address']!r} needs its port"
        where = _in_cluster(host)
        if where is None:
            continue  # another cluster: its name and port are its operators' word
        service, namespace = where
        assert namespace in namespaces, f"{what}: no overlay deploys namespace {namespace}"
        other = namespaces[namespace]
        theirs = gateway_of(other)
        destination = resolve(other, f"{service}.{namespace}.svc.cluster.local", port)
        assert destination.pod == theirs.pod, f"{what}: {host} is not the gateway of {other}"
        assert theirs.facts.listens.get(destination.port) == "peer", (
            f"{what}: port {port} is not its peer port ({theirs.facts.listens})"
        )
        # Its certificate must name it as this side knows it, and it must know this side.
        assert theirs.env.get("GATEWAY_NAME") == name, (
            f"{what}: overlays/{other} calls itself {theirs.env.get('GATEWAY_NAME')}"
        )
        [jurisdiction] = theirs.facts.settings["GATEWAY_JURISDICTION"]
        assert all(serves(jurisdiction, p) for p in prefixes), (
            f"{what}: prefixes {prefixes} outside its jurisdiction {jurisdiction}"
        )
        assert me in peers_of(other), f"overlays/{other} has no peer {me}: it would refuse us"
        # this side's egress and the peer's ingress
        for policies in (overlay, other):
            problem = admitted(policies, d.pod, destination.pod, destination.port)
            assert not problem, f"{what} (overlays/{policies}): {problem}"
