"""PostgreSQL's own ceiling for the ledger: pgbench running what accepting one application
writes to intake's database, on a scratch database with the ledger's real schema.

Intake stores an accepted application in one statement, one commit (services/intake/store.py,
``_CREATE``): the case row, its open-case claims, its ``accepted`` timeline entry, its
departments' progress, the people it names (keyed hashes) and its ``case_accepted`` outbox
row. The script here is that statement over the same tables, indexes, uniques and triggers
(intake's migrations, applied to the scratch database), its values those of a real case the
platform stored in the same run (the :class:`Template`), made unique per transaction. It is the
create alone: the relay's mark of the outbox row as published, the department's ``routed`` entry
and the departments' and notifier's writes are further commits the script leaves out.

A second script is intake's database's whole share of an application (the create, the relay's
published mark, the department's ``routed`` entry: three commits). The create also runs with
``synchronous_commit`` off (the platform keeps PostgreSQL's default, on: nothing in onedoor sets
it), to show what waiting for the WAL flush costs, and with the outbox's NOTIFY trigger
disabled, to show what PostgreSQL's one lock over notifying commits costs.
"""

from __future__ import annotations

import asyncio
import os
import re
import statistics
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from services.common import schema
from services.common.config import DEFAULT_POSTGRES

DATABASE = "onedoor_bench_pgbench"
PGBENCH = "/usr/bin/pgbench"

# What intake's create statement writes, for a receipt and an event id given as SQL.
_CREATE = """\
WITH made AS (
    SELECT {receipt} AS receipt, gen_random_uuid()::text AS request_id, t.*
      FROM bench_template t
), created AS (
    INSERT INTO cases (receipt, request_id, matter_code, matter_version, status,
                       accepting_division, hukou_division, departments, applicant,
                       household_members, materials, trace_id, created_at,
                       decision_deadline, details, request_fingerprint,
                       deadline_provisional, accepted_by, accepted_by_name)
    SELECT receipt, request_id, matter_code, matter_version, 'CASE_STATUS_ACCEPTED',
           accepting_division, hukou_division, departments, applicant, household_members,
           materials, trace_id, now(), now() + interval '30 days', details,
           md5(request_id) || md5(receipt), false, accepted_by, accepted_by_name
      FROM made
    ON CONFLICT (request_id) DO NOTHING
    RETURNING receipt
), claims AS (
    INSERT INTO open_claims (claim_key, receipt)
    SELECT encode(sha256(convert_to(k || c.receipt, 'UTF8')), 'hex'), c.receipt
      FROM created c, bench_template t, unnest(t.claims) AS k
), accepted AS (
    -- chr(58) is the colon, which pgbench would take, before a name, for one of its variables.
    INSERT INTO timeline (receipt, entry_key, kind, message, trace_id, created_at, actor_name)
    SELECT c.receipt, c.receipt || chr(58) || 'accepted', 'TIMELINE_ENTRY_KIND_ACCEPTED',
           t.message, t.trace_id, now(), t.accepted_by_name
      FROM created c, bench_template t
), progress AS (
    INSERT INTO case_departments (receipt, department, state)
    SELECT c.receipt, d, 'pending' FROM created c, bench_template t, unnest(t.departments) AS d
), people AS (
    INSERT INTO case_people (person_key, receipt)
    SELECT encode(sha256(convert_to(k || c.receipt, 'UTF8')), 'hex'), c.receipt
      FROM created c, bench_template t, unnest(t.people) AS k
), event AS (
    INSERT INTO outbox (event_id, exchange, event_type, payload, trace_context)
    SELECT {event_id}, t.exchange, t.event_type, t.payload, t.trace_context
      FROM created c, bench_template t
)
SELECT receipt FROM created;
"""

# The create alone: one statement, one commit, as intake accepts an application.
CREATE_SCRIPT = _CREATE.format(
    receipt="'320585-B' || lpad(nextval('bench_receipts')::text, 10, '0')",
    event_id="gen_random_uuid()",
)

# Intake's database's whole share of one application to one department: the create; the
# relay's mark of its event as published; the department's ``routed`` entry, appended as intake
# appends (services/intake/store.py, ``append``: the case locked, the entry, the
# department's progress and the case's status moved, the basic view read back). Three
# commits, in the order the platform makes them.
APPLICATION_SCRIPT = (
    "SELECT '320585-B' || lpad(nextval('bench_receipts')::text, 10, '0') AS receipt,"
    " gen_random_uuid()::text AS event_id \\gset\n"
    + _CREATE.format(receipt="CAST(:receipt AS text)", event_id="CAST(:event_id AS uuid)")
    + """\
UPDATE outbox SET published_at = now() WHERE event_id = CAST(:event_id AS uuid);
BEGIN;
SELECT * FROM cases WHERE receipt = :receipt FOR UPDATE;
INSERT INTO timeline (receipt, entry_key, kind, department, note, trace_id, actor_name, message)
SELECT :receipt, :receipt || chr(58) || 'routed' || chr(58) || t.departments[1],
       'TIMELINE_ENTRY_KIND_ROUTED', t.departments[1], '', t.trace_id, '', t.message
  FROM bench_template t
ON CONFLICT (entry_key) DO NOTHING RETURNING id;
SELECT department, state FROM case_departments WHERE receipt = :receipt;
UPDATE case_departments SET state = 'open', note = '', message = t.message
  FROM bench_template t WHERE receipt = :receipt AND department = t.departments[1];
UPDATE cases SET status = 'CASE_STATUS_ROUTED' WHERE receipt = :receipt;
SELECT receipt, request_id, matter_code, matter_version, status, departments,
       accepting_division, created_at, decision_deadline, trace_id, request_fingerprint,
       deadline_provisional
  FROM cases WHERE receipt = :receipt;
COMMIT;
"""
)

SCRIPTS = {"create": CREATE_SCRIPT, "application": APPLICATION_SCRIPT}


@dataclass(frozen=True)
class Template:
    """One accepted case as intake stored it: every value the script writes, but the keys."""

    row: dict[str, Any]

    COLUMNS = (
        "matter_code",
        "matter_version",
        "status",
        "accepting_division",
        "hukou_division",
        "departments",
        "applicant",
        "household_members",
        "materials",
        "trace_id",
        "details",
        "accepted_by",
        "accepted_by_name",
    )

    @classmethod
    async def read(cls, conn: asyncpg.Connection, receipt: str) -> Template:
        """The case ``receipt`` in intake's ledger ``conn``, its entry, claims, people and
        event."""
        case = await conn.fetchrow(
            f"SELECT {', '.join(cls.COLUMNS)} FROM cases WHERE receipt = $1", receipt
        )
        assert case is not None, receipt
        row = dict(case)
        row["message"] = await conn.fetchval(
            "SELECT message FROM timeline WHERE entry_key = $1", f"{receipt}:accepted"
        )
        row["claims"] = [
            r[0]
            for r in await conn.fetch(
                "SELECT claim_key FROM open_claims WHERE receipt = $1", receipt
            )
        ]
        row["people"] = [
            r[0]
            for r in await conn.fetch(
                "SELECT person_key FROM case_people WHERE receipt = $1", receipt
            )
        ]
        event = await conn.fetchrow(
            """SELECT exchange, event_type, payload, trace_context FROM outbox
                WHERE payload->>'receipt' = $1 ORDER BY id LIMIT 1""",
            receipt,
        )
        assert event is not None, f"no case_accepted event for {receipt}"
        row.update(dict(event))
        return cls(row)

    def sizes(self) -> dict[str, int]:
        """What one transaction writes besides the case row: the rows of each kind."""
        return {
            "claims": len(self.row["claims"]),
            "people": len(self.row["people"]),
            "departments": len(self.row["departments"]),
        }


@dataclass(frozen=True)
class Figures:
    """What pgbench printed for one run."""

    transactions: int
    failed: int
    latency_ms: float
    tps: float


_PROCESSED = re.compile(r"^number of transactions actually processed: (\d+)", re.M)
_FAILED = re.compile(r"^number of failed transactions: (\d+)", re.M)
_LATENCY = re.compile(r"^latency average = ([\d.]+) ms", re.M)
_TPS = re.compile(r"^tps = ([\d.]+) \(without initial connection time\)", re.M)


def parse(output: str) -> Figures:
    """pgbench's summary (PostgreSQL 15's wording); a run that printed none raises."""
    found = {
        name: pattern.search(output)
        for name, pattern in (("processed", _PROCESSED), ("latency", _LATENCY), ("tps", _TPS))
    }
    missing = [name for name, match in found.items() if match is None]
    if missing:
        raise ValueError(f"pgbench printed no {', '.join(missing)}:\n{output[-2000:]}")
    failed = _FAILED.search(output)
    return Figures(
        transactions=int(found["processed"].group(1)),  # type: ignore[union-attr]
        failed=int(failed.group(1)) if failed else 0,
        latency_ms=float(found["latency"].group(1)),  # type: ignore[union-attr]
        tps=float(found["tps"].group(1)),  # type: ignore[union-attr]
    )


async def _admin(statement: str) -> None:
    conn = await asyncpg.connect(f"{DEFAULT_POSTGRES}/postgres")
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def drop() -> None:
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))


async def _prepare(template: Template) -> None:
    await _admin(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    await _admin(f'CREATE DATABASE "{DATABASE}"')
    conn = await asyncpg.connect(f"{DEFAULT_POSTGRES}/{DATABASE}")
    try:
        await schema.apply(conn, schema.plan(schema.directories_for("intake")))
        await conn.execute("CREATE SEQUENCE bench_receipts")
        row = template.row
        await conn.execute(
            """CREATE TABLE bench_template (
                   matter_code text, matter_version integer, status text,
                   accepting_division text, hukou_division text, departments text[],
                   applicant jsonb, household_members jsonb, materials text[], trace_id text,
                   details jsonb, accepted_by text, accepted_by_name text, message jsonb,
                   claims text[], people text[], exchange text, event_type text,
                   payload jsonb, trace_context jsonb)"""
        )
        names = [*Template.COLUMNS, "message", "claims", "people"]
        names += ["exchange", "event_type", "payload", "trace_context"]
        await conn.execute(
            f"INSERT INTO bench_template ({', '.join(names)}) VALUES "
            f"({', '.join(f'${i + 1}' for i in range(len(names)))})",
            # As asyncpg read them: jsonb as text, arrays as lists.
            *(row[name] for name in names),
        )
    finally:
        await conn.close()


def run_level(script: Path, clients: int, seconds: float, synchronous_commit: bool) -> Figures:
    env = {
        **os.environ,
        "PGOPTIONS": f"-c synchronous_commit={'on' if synchronous_commit else 'off'}",
    }
    threads = min(clients, os.cpu_count() or 1)
    completed = subprocess.run(
        [
            PGBENCH,
            "--no-vacuum",
            "--protocol=prepared",
            f"--client={clients}",
            f"--jobs={threads}",
            f"--time={max(1, round(seconds))}",
            f"--file={script}",
            "--host=127.0.0.1",
            "--port=5432",
            "--username=postgres",
            DATABASE,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=seconds + 120,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"pgbench failed ({completed.returncode}):\n{completed.stderr[-2000:]}")
    return parse(completed.stdout)


async def _server_settings() -> dict[str, str]:
    conn = await asyncpg.connect(f"{DEFAULT_POSTGRES}/postgres")
    try:
        found = {"version": str(await conn.fetchval("SHOW server_version"))}
        for name in ("synchronous_commit", "fsync", "wal_level", "shared_buffers"):
            found[name] = str(await conn.fetchval(f"SHOW {name}"))
        return found
    finally:
        await conn.close()


@dataclass(frozen=True)
class Variant:
    """One script run one way at every level."""

    label: str
    script: str
    synchronous_commit: bool = True
    # The outbox's trigger (pg_notify, so the relay wakes at once) left on. PostgreSQL commits
    # the transactions that notify one at a time, holding one lock for the whole server until
    # each commit is flushed: off, the create shows what that lock costs.
    notify: bool = True


VARIANTS = (
    Variant("create", "create"),
    Variant("create, sync off", "create", synchronous_commit=False),
    Variant("create, no NOTIFY", "create", notify=False),
    Variant("application", "application"),
)


async def _notify(on: bool) -> None:
    conn = await asyncpg.connect(f"{DEFAULT_POSTGRES}/{DATABASE}")
    try:
        await conn.execute(
            f"ALTER TABLE outbox {'ENABLE' if on else 'DISABLE'} TRIGGER outbox_notify"
        )
    finally:
        await conn.close()


def measure(
    template: Template,
    clients: tuple[int, ...],
    seconds: float,
    rounds: int,
    say: Callable[[str], None],
) -> dict[str, Any]:
    """Each of VARIANTS at each number of ``clients`` for ``seconds``, in ``rounds`` rounds (the
    order reversed every other round: the machine and its disk are shared, and what else runs
    on them comes and goes); each level's figure is the median of its rounds. The scratch
    database is made first and dropped after, whatever happens."""
    settings = asyncio.run(_server_settings())
    say(
        f"==> pgbench: {', '.join(v.label for v in VARIANTS)}, at"
        f" {', '.join(map(str, clients))} clients, {rounds} x {seconds:g}s each"
        f" (PostgreSQL {settings['version']}, synchronous_commit {settings['synchronous_commit']})"
    )
    plan = [(variant, n) for n in clients for variant in VARIANTS]
    measured: dict[tuple[str, int], list[Figures]] = {(v.label, n): [] for v, n in plan}
    try:
        asyncio.run(_prepare(template))
        with tempfile.TemporaryDirectory() as scratch:
            for name, text in SCRIPTS.items():
                (Path(scratch) / f"{name}.sql").write_text(text)
            notifying = True
            for round_ in range(rounds):
                for variant, n in plan if round_ % 2 == 0 else reversed(plan):
                    if variant.notify != notifying:
                        asyncio.run(_notify(variant.notify))
                        notifying = variant.notify
                    script = Path(scratch) / f"{variant.script}.sql"
                    figures = run_level(script, n, seconds, variant.synchronous_commit)
                    measured[(variant.label, n)].append(figures)
                    say(
                        f"    {variant.label:<18} {n:>3} clients: {figures.tps:8.1f}/s, latency"
                        f" {figures.latency_ms:.2f} ms (round {round_ + 1} of {rounds})"
                    )
    finally:
        drop()
    return {
        "server": settings,
        "seconds": seconds,
        "rounds": rounds,
        "rows_per_create": {"cases": 1, "timeline": 1, "outbox": 1, **template.sizes()},
        "levels": [level(v, n, measured[(v.label, n)]) for v, n in plan],
    }


def level(variant: Variant, clients: int, rounds: list[Figures]) -> dict[str, Any]:
    """One level's record: the median of its rounds, and each round's rate."""
    return {
        "variant": variant.label,
        "script": variant.script,
        "synchronous_commit": "on" if variant.synchronous_commit else "off",
        "notify": variant.notify,
        "clients": clients,
        "tps": round(statistics.median(f.tps for f in rounds), 1),
        "latency_ms": round(statistics.median(f.latency_ms for f in rounds), 2),
        "round_tps": [round(f.tps, 1) for f in rounds],
        "transactions": sum(f.transactions for f in rounds),
        "failed": sum(f.failed for f in rounds),
    }
