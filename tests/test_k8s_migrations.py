"""The migration Jobs in the rendered manifests: one per service database, running this
version's `onedoor migrate`, locked down like the Deployments, and let through to PostgreSQL
in production."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.common.catalog import DEPARTMENTS

ROOT = Path(__file__).resolve().parents[1]
DATABASES = ("intake", *DEPARTMENTS, "ingest", "notifier")


def _render(overlay: str) -> list[dict[str, Any]]:
    rendered = subprocess.run(
        ["kubectl", "kustomize", str(ROOT / "deploy" / "k8s" / "overlays" / overlay)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [d for d in yaml.safe_load_all(rendered) if d]


@pytest.fixture(scope="module", params=["dev", "prod"])
def manifests(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return _render(request.param)


def _jobs(manifests: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        m["metadata"]["labels"]["app.kubernetes.io/instance"]: m
        for m in manifests
        if m["kind"] == "Job"
        and m["metadata"]["labels"].get("app.kubernetes.io/component") == "migration"
    }


def test_every_service_database_has_a_migration_job(manifests):
    jobs = _jobs(manifests)
    assert sorted(jobs) == sorted(DATABASES)
    for service, job in jobs.items():
        container = job["spec"]["template"]["spec"]["containers"][0]
        assert container["command"] == ["python", "-m", "services.cli", "migrate", service]
        env = {e["name"]: e for e in container["env"]}
        assert f"onedoor_{service}" in env[f"{service.upper()}_DATABASE_URL"]["value"]
        secret = env[f"{service.upper()}_DB_PASSWORD"]["valueFrom"]["secretKeyRef"]
        assert secret["name"] == f"onedoor-db-{service}"


def test_migration_jobs_are_locked_down_like_the_services(manifests):
    for job in _jobs(manifests).values():
        pod = job["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["automountServiceAccountToken"] is False
        context = pod["containers"][0]["securityContext"]
        assert context == {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        }
        assert job["spec"]["ttlSecondsAfterFinished"] > 0


def test_production_lets_the_migrations_reach_postgres_and_nothing_else():
    policies = {m["metadata"]["name"]: m for m in _render("prod") if m["kind"] == "NetworkPolicy"}
    migrations = policies["migrations"]["spec"]
    assert migrations["podSelector"] == {
        "matchLabels": {"app.kubernetes.io/name": "onedoor-migrate"}
    }
    assert "ingress" not in migrations and migrations["policyTypes"] == ["Ingress", "Egress"]
    assert [p["port"] for rule in migrations["egress"] for p in rule["ports"]] == [5432]
    pg_ingress = policies["onedoor-pg"]["spec"]["ingress"][0]["from"][0]["podSelector"]
    assert "onedoor-migrate" in pg_ingress["matchExpressions"][0]["values"]
