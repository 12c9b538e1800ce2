"""Migrations as an operator's step: applied with checksums, listed, and checked by a
service before it serves. Against real PostgreSQL, in a scratch database."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from services.common import db, schema
from services.common.config import DEFAULT_POSTGRES

pytestmark = pytest.mark.platform


@pytest.fixture
async def conn() -> AsyncIterator[asyncpg.Connection]:
    url = f"{DEFAULT_POSTGRES}/onedoor_schema_test_{uuid.uuid4().hex[:8]}"
    await db.ensure_database(url)
    connection = await asyncpg.connect(url)
    try:
        yield connection
    finally:
        await connection.close()
        admin = await asyncpg.connect(f"{DEFAULT_POSTGRES}/postgres")
        try:
            await admin.execute(f'DROP DATABASE "{url.rsplit("/", 1)[1]}"')
        finally:
            await admin.close()


def _directory(root: Path, files: dict[str, str]) -> Path:
    directory = root / "svc" / "migrations"
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


async def test_apply_records_checksums_and_a_second_run_applies_nothing(conn, tmp_path):
    directory = _directory(
        tmp_path,
        {"0001_a.sql": "CREATE TABLE a (x int);", "0002_b.sql": "CREATE TABLE b (y int);"},
    )
    plan = schema.plan([directory])
    assert await schema.apply(conn, plan) == ["svc/0001_a.sql", "svc/0002_b.sql"]
    assert await schema.apply(conn, plan) == []
    states = [(s.name, s.state) for s in await schema.status(conn, plan)]
    assert states == [
        ("svc/0001_a.sql", schema.State.APPLIED),
        ("svc/0002_b.sql", schema.State.APPLIED),
    ]
    await schema.check(conn, plan, "svc")


async def test_a_service_refuses_a_schema_behind_its_version_naming_what_to_run(conn, tmp_path):
    directory = _directory(tmp_path, {"0001_a.sql": "CREATE TABLE a (x int);"})
    await schema.apply(conn, schema.plan([directory]))
    _directory(tmp_path, {"0002_b.sql": "CREATE TABLE b (y int);"})
    newer = schema.plan([directory])
    with pytest.raises(schema.SchemaMismatch, match=r"svc/0002_b\.sql.*onedoor migrate svc"):
        await schema.check(conn, newer, "svc")
    # Nothing was applied by the check.
    assert await conn.fetchval("SELECT to_regclass('b')") is None


async def test_an_applied_file_that_changed_is_found_and_not_applied_again(conn, tmp_path):
    directory = _directory(tmp_path, {"0001_a.sql": "CREATE TABLE a (x int);"})
    await schema.apply(conn, schema.plan([directory]))
    (directory / "0001_a.sql").write_text("CREATE TABLE a (x int, z int);", encoding="utf-8")
    changed = schema.plan([directory])
    assert [s.state for s in await schema.status(conn, changed)] == [schema.State.CHANGED]
    with pytest.raises(schema.SchemaMismatch, match="changed after it was applied"):
        await schema.apply(conn, changed)
    with pytest.raises(schema.SchemaMismatch, match="changed since applied"):
        await schema.check(conn, changed, "svc")


async def test_an_older_version_refuses_a_schema_a_newer_one_migrated(conn, tmp_path):
    directory = _directory(
        tmp_path,
        {"0001_a.sql": "CREATE TABLE a (x int);", "0002_b.sql": "CREATE TABLE b (y int);"},
    )
    await schema.apply(conn, schema.plan([directory]))
    (directory / "0002_b.sql").unlink()
    with pytest.raises(schema.SchemaMismatch, match=r"applied by a newer version: svc/0002_b\.sql"):
        await schema.check(conn, schema.plan([directory]), "svc")


async def test_rows_recorded_before_checksums_are_adopted(conn, tmp_path):
    directory = _directory(tmp_path, {"0001_a.sql": "CREATE TABLE a (x int);"})
    # As the platform recorded migrations before this change: a name and a time only.
    await conn.execute(
        """CREATE TABLE schema_migrations (name text PRIMARY KEY,
                                           applied_at timestamptz NOT NULL DEFAULT now());
           CREATE TABLE a (x int);
           INSERT INTO schema_migrations (name) VALUES ('svc/0001_a.sql')"""
    )
    plan = schema.plan([directory])
    assert [s.state for s in await schema.status(conn, plan)] == [schema.State.UNCHECKED]
    with pytest.raises(schema.SchemaMismatch):
        await schema.check(conn, plan, "svc")
    assert await schema.apply(conn, plan) == []
    await schema.check(conn, plan, "svc")


def test_onedoor_migrate_applies_lists_and_exits_by_the_state(capsys):
    from services.cli.__main__ import main

    url = f"{DEFAULT_POSTGRES}/onedoor_schema_test_{uuid.uuid4().hex[:8]}"
    try:
        assert main(["migrate", "orgs", "--database-url", url]) == 0
        assert "applied common/0001_outbox.sql" in capsys.readouterr().out
        assert main(["migrate", "orgs", "--database-url", url]) == 0
        assert "already at this version's schema" in capsys.readouterr().out
        assert main(["migrate", "orgs", "--status", "--database-url", url]) == 0
        listed = capsys.readouterr().out
        assert "orgs/0001_organisations.sql" in listed and "pending" not in listed
    finally:

        async def drop() -> None:
            admin = await asyncpg.connect(f"{DEFAULT_POSTGRES}/postgres")
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}"')
            finally:
                await admin.close()

        import asyncio

        asyncio.run(drop())


def test_a_service_told_not_to_migrate_refuses_an_unmigrated_database_then_serves(tmp_path):
    """As in a cluster (ONEDOOR_MIGRATE_AT_START=false): the service stops naming what to
    run; once `onedoor migrate` has run, the same service serves."""
    import asyncio
    import os
    import subprocess
    import sys
    import time

    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from services.cli.__main__ import main
    from services.launcher.platform import ROOT, free_port

    url = f"{DEFAULT_POSTGRES}/onedoor_schema_test_{uuid.uuid4().hex[:8]}"
    asyncio.run(db.ensure_database(url))
    port = free_port()
    env = {
        **os.environ,
        "ORGS_DATABASE_URL": url,
        "ORGS_GRPC_PORT": str(port),
        "BIND_HOST": "127.0.0.1",
        "ONEDOOR_MIGRATE_AT_START": "false",
        "PYTHONWARNINGS": "ignore::DeprecationWarning",
    }
    try:
        refused = subprocess.run(
            [sys.executable, "-m", "services.orgs"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert refused.returncode != 0
        assert "run `onedoor migrate orgs`" in refused.stdout + refused.stderr
        assert main(["migrate", "orgs", "--database-url", url]) == 0
        serving = subprocess.Popen(
            [sys.executable, "-m", "services.orgs"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                        status = health_pb2_grpc.HealthStub(channel).Check(
                            health_pb2.HealthCheckRequest(), timeout=1
                        )
                    if status.status == health_pb2.HealthCheckResponse.SERVING:
                        break
                except grpc.RpcError:
                    pass
                assert serving.poll() is None, "the migrated service exited"
                assert time.monotonic() < deadline, "the migrated service did not serve"
                time.sleep(0.2)
        finally:
            serving.terminate()
            serving.wait(timeout=20)
    finally:

        async def drop() -> None:
            admin = await asyncpg.connect(f"{DEFAULT_POSTGRES}/postgres")
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}"')
            finally:
                await admin.close()

        asyncio.run(drop())
