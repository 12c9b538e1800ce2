"""Settings: each process reads the environment once, in its settings module, and nowhere else.

- No module of services/ or gateway/ reads the environment (``os.environ``, ``os.getenv``,
  or the settings' own reader) but the few named in ALLOWED.
- Each process's settings module declares what it reads, builds its settings from the
  defaults alone, reads every variable it declares, and fails naming the variable when one
  is missing or malformed.
- The keys read deep in the call graph refuse to work before they are configured.
- The departments come from the catalog wherever a list of them is needed.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from services.common import catalog, config
from services.common.catalog import DEPARTMENTS
from services.common.config import ConfigError

ROOT = Path(__file__).resolve().parents[1]

# The one reader of the process's environment, and the launcher, which hands its children
# this environment plus the platform's settings.
READS_OS_ENVIRON = {"services/common/config.py", "services/launcher/platform.py"}
# The environment is read through config.environment only in the settings modules.
SETTINGS_MODULE = "settings.py"

PROCESSES = {
    "gateway": "gateway",
    "intake": "services.intake",
    **{d: f"services.{d}" for d in DEPARTMENTS},
    "relay": "services.relay",
    "router": "services.router",
    "ingest": "services.ingest",
    "notifier": "services.notifier",
    # Beside the notifier in its Pod: its send records (grpc.aio + asyncpg).
    "notifier_records": "services.notifier.records",
    "cli": "services.cli",
    "launcher": "services.launcher",
}


def _modules() -> Iterator[Path]:
    for top in ("services", "gateway"):
        for path in sorted((ROOT / top).rglob("*.py")):
            if "tests" not in path.relative_to(ROOT).parts:
                yield path


def _environment_reads(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb"):
            yield node.lineno, f"os.{node.attr}"
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            for alias in node.names:
                if alias.name in ("environ", "getenv", "environb"):
                    yield node.lineno, f"from os import {alias.name}"
        elif isinstance(node, ast.Name | ast.Attribute):
            name = node.id if isinstance(node, ast.Name) else node.attr
            if name in ("env_str", "env_int", "env_float", "environment", "Environment"):
                yield node.lineno, name
        elif isinstance(node, ast.ImportFrom) and node.module == "services.common.config":
            for alias in node.names:
                if alias.name in ("environment", "Environment"):
                    yield node.lineno, f"import {alias.name}"


def test_only_the_settings_modules_read_the_environment() -> None:
    found = []
    for path in _modules():
        relative = str(path.relative_to(ROOT))
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=relative)
        for line, what in _environment_reads(tree):
            if relative in READS_OS_ENVIRON:
                continue
            if path.name == SETTINGS_MODULE and not what.startswith(("os.", "from os")):
                continue
            found.append(f"{relative}:{line}: {what}")
    assert not found, (
        "read the environment in the process's settings module and pass the value down:\n"
        + "\n".join(found)
    )


def test_the_scan_sees_a_read() -> None:
    reads = list(_environment_reads(ast.parse("import os\nx = os.environ.get('A')\n")))
    assert reads == [(2, "os.environ")]
    assert list(_environment_reads(ast.parse("from os import getenv\n")))


def settings_of(process: str) -> ModuleType:
    return importlib.import_module(f"{PROCESSES[process]}.settings")


def test_every_process_has_a_settings_module() -> None:
    found = {p.parent.name for p in (ROOT / "services").glob("*/__main__.py")}
    found |= {
        f"{p.parent.parent.name}_{p.parent.name}"
        for p in (ROOT / "services").glob("*/*/__main__.py")
    }
    assert found | {"gateway"} == set(PROCESSES)
    for process in PROCESSES:
        module = settings_of(process)
        assert callable(module.variables) and callable(module.from_env), process


class Recording(dict[str, str]):
    """An environment that notes every variable asked for."""

    def __init__(self, *args: object, **kwargs: str) -> None:
        super().__init__(*args, **kwargs)
        self.asked: set[str] = set()

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
        self.asked.add(key)
        return super().get(key, default)


@pytest.mark.parametrize("process", sorted(PROCESSES))
def test_settings_build_from_the_defaults_and_read_what_they_declare(process: str) -> None:
    module = settings_of(process)
    environ = Recording()
    module.from_env(environ)
    names = [v.name for v in module.variables({})]
    assert len(names) == len(set(names)), f"{process} declares a variable twice"
    assert environ.asked == set(names), (
        f"{process}: declared but not read {sorted(set(names) - environ.asked)}, "
        f"read but not declared {sorted(environ.asked - set(names))}"
    )


@pytest.mark.parametrize("process", sorted(PROCESSES))
def test_a_malformed_number_stops_the_process_naming_the_variable(process: str) -> None:
    module = settings_of(process)
    numeric = [
        v.name
        for v in module.variables({})
        if v.default is not None and v.default.replace(".", "", 1).isdigit()
    ]
    for name in numeric:
        with pytest.raises(ConfigError, match=name):
            module.from_env({name: "many"})


def test_a_missing_variable_stops_the_process_naming_it() -> None:
    module = settings_of("gateway")
    environ = {"GATEWAY_PEERS_FILE": "/etc/onedoor/peers.toml"}
    required = [v.name for v in module.variables(environ) if v.required]
    assert required == ["GATEWAY_NAME", "GATEWAY_TLS_CERT_FILE", "GATEWAY_TLS_KEY_FILE"]
    with pytest.raises(ConfigError, match="GATEWAY_NAME is not set"):
        module.from_env(environ)


def test_bad_values_stop_the_process_naming_the_variable() -> None:
    cases = [
        ("intake", {"PERSONAL_DATA_KEY": "abcd"}, "PERSONAL_DATA_KEY"),
        ("intake", {"BUREAU_TIME_ZONE": "Mars/Olympus"}, "Mars/Olympus"),
        ("intake", {"OTEL_TRACES_EXPORTER": "jaeger"}, "OTEL_TRACES_EXPORTER"),
        ("intake", {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, "OTEL_EXPORTER_OTLP_PROTOCOL"),
        ("gateway", {"GATEWAY_JURISDICTION": "999999"}, "GATEWAY_JURISDICTION"),
        ("relay", {"RELAY_SOURCES": "intake,parking"}, "RELAY_SOURCES"),
        ("assistance", {"ECONOMIC_CHECK_ADAPTER": "bank"}, "ECONOMIC_CHECK_ADAPTER"),
        ("assistance", {"DIBAO_STANDARDS_FILE": "/nowhere.toml"}, "DIBAO_STANDARDS_FILE"),
        ("router", {"ROUTER_QUEUE_TYPE": "stream"}, "ROUTER_QUEUE_TYPE"),
    ]
    for process, environ, named in cases:
        with pytest.raises(ConfigError, match=named):
            settings_of(process).from_env(environ)


def test_the_relay_reads_the_databases_of_its_sources() -> None:
    module = settings_of("relay")
    chosen = module.from_env({"RELAY_SOURCES": "intake, registry"})
    assert list(chosen.database_urls) == ["intake", "registry"]
    names = {v.name for v in module.variables({"RELAY_SOURCES": "intake"})}
    assert "INTAKE_DATABASE_URL" in names and "REGISTRY_DATABASE_URL" not in names


def test_secrets_are_the_keys_and_each_process_holds_only_its_own() -> None:
    held = {
        process: {v.name for v in settings_of(process).variables({}) if v.secret}
        for process in PROCESSES
    }
    assert held["gateway"] == {
        "IDENTITY_HASH_KEY",
        "AUTH_JWT_KEY",
        "SERVICE_TOKEN",
        "GATEWAY_STATUS_PAGE_KEY",
    }
    assert held["relay"] == set()
    assert held["router"] == {"SERVICE_TOKEN"}
    # The one process that opens a phone, and the one that holds the provider's credentials.
    assert held["notifier"] == {"SERVICE_TOKEN", "PERSONAL_DATA_KEY", "NOTIFIER_PROVIDER_SECRET"}
    # The send records keep phones sealed and never open one.
    assert held["notifier_records"] == {"SERVICE_TOKEN"}
    for department in ("intake", *DEPARTMENTS):
        assert "PERSONAL_DATA_KEY" in held[department]


@pytest.mark.parametrize(
    "code",
    [
        "from services.common import keyed_hash; keyed_hash.person_key('110101199003074477')",
        "from services.common import personal_data; personal_data.seal('13800000000')",
        "from services.common import auth; auth.issue('auditor', '320585')",
        "from services.common import auth; auth.service_metadata()",
    ],
)
def test_keys_refuse_to_work_unconfigured(code: str) -> None:
    # In a process of its own: this one's conftest configured the development keys.
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "Keys.configure()" in result.stderr, result.stderr[-500:]


def test_the_router_refuses_to_start_its_service_without_its_settings() -> None:
    from services.router import settings

    assert settings._installed is None
    with pytest.raises(RuntimeError, match="not installed"):
        settings.installed()


def test_the_departments_come_from_the_catalog() -> None:
    from gateway.backends import SERVICES
    from services.launcher.platform import Platform, Ports
    from services.relay import settings as relay
    from services.router import settings as router

    named = {d for matter in catalog.load().versions.values() for d in matter.departments}
    assert set(DEPARTMENTS) == named and len(DEPARTMENTS) == len(named)
    for department in DEPARTMENTS:
        assert department in config.DEFAULT_PORTS
        assert department in relay.OUTBOXES and department in router.CALLS
        assert department in SERVICES
        assert department in Ports().departments
        assert department in {s.name for s in Platform(log_dir=ROOT).specs}
    assert relay.SOURCES.default == ",".join(("intake", *DEPARTMENTS))
