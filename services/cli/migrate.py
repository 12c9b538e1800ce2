"""``onedoor migrate``: the operator's step that brings a service's database to this version's
schema (a Kubernetes Job per version runs it), and ``--status`` to see where it stands. It
talks to the database, not to the gateway."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

import asyncpg

from services.cli import tables
from services.cli.outcome import CliError, ExitCode
from services.cli.settings import DATABASES
from services.common import db, schema

SERVICES = DATABASES


async def _run(service: str, url: str, only_status: bool) -> list[schema.Status] | list[str]:
    plan = schema.plan(schema.directories_for(service))
    if not only_status:
        await db.ensure_database(url)
    conn = await asyncpg.connect(url)
    try:
        if only_status:
            return await schema.status(conn, plan)
        return await schema.apply(conn, plan)
    finally:
        await conn.close()


def _migrate(args: argparse.Namespace) -> int:
    url = args.database_url
    try:
        found: Any = asyncio.run(_run(args.service, url, args.status))
    except schema.SchemaMismatch as error:
        raise CliError(str(error), ExitCode.FAILED) from None
    except (OSError, asyncpg.PostgresError) as error:
        raise CliError(
            f"cannot reach the {args.service} database ({type(error).__name__})",
            ExitCode.UNAVAILABLE,
            hint=f"check {args.service.upper()}_DATABASE_URL or --database-url",
        ) from None
    if args.status:
        rows = [
            {"migration": s.name, "state": s.state.value, "applied": s.applied_at} for s in found
        ]
        if args.json:
            tables.emit_json(rows, sys.stdout)
        else:
            print(tables.table(["migration", "state", "applied"], [list(r.values()) for r in rows]))
        behind = any(s.state is not schema.State.APPLIED for s in found)
        return int(ExitCode.FAILED if behind else ExitCode.OK)
    if args.json:
        tables.emit_json({"service": args.service, "applied": found}, sys.stdout)
    elif found:
        print(f"==> {args.service}: applied {', '.join(found)}")
    else:
        print(f"==> {args.service}: already at this version's schema")
    return int(ExitCode.OK)


def register(commands: argparse._SubParsersAction) -> None:
    migrate = commands.add_parser(
        "migrate",
        help="bring a service's database to this version's schema (operators)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Applies the service's pending migrations in order, recording each file's "
        "checksum; refuses if an applied file has changed. --status lists every migration "
        "(applied, pending, changed, unchecked, or unknown: applied by a newer version) and "
        "exits 1 unless all are applied. The services themselves only check the schema where "
        "ONEDOOR_MIGRATE_AT_START is off (the cluster).",
        epilog="""examples:
  onedoor migrate intake
  onedoor migrate assistance --status
  INTAKE_DATABASE_URL=postgresql://onedoor@db/onedoor_intake onedoor migrate intake""",
    )
    migrate.add_argument("service", choices=SERVICES)
    migrate.add_argument("--status", action="store_true", help="list, apply nothing")
    migrate.add_argument(
        "--database-url", help="instead of <SERVICE>_DATABASE_URL (or the local default)"
    )
    migrate.add_argument("--json", action="store_true", help="machine-readable output")
    migrate.set_defaults(run=_migrate)
