"""The case ledger's storage: cases, their timeline, progress and open claims, and the
case_accepted event. One of intake's stores (with forwards.py, audit_log.py and
case_people.py), the only modules that hold its SQL."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from dataclasses import dataclass

import asyncpg
from google.protobuf import json_format

from onedoor.case.v1 import case_pb2
from onedoor.events.v1 import events_pb2
from onedoor.intake.v1 import intake_service_pb2
from services.common import catalog, outbox, pagination, personal_data, telemetry, texts
from services.common.clock import BureauClock
from services.common.deadlines import Deadline, resumed_deadline
from services.common.legal_calendar import LegalCalendar
from services.common.stored_json import stored_json
from services.common.timestamps import to_timestamp
from services.intake import forwards
from services.intake.case_people import people_named
from services.intake.status import (
    AWAITING,
    FINAL,
    FINAL_NAMES,
    OPEN,
    PENDING,
    Progress,
    case_status,
    department_state_after,
)
from services.intake.workload import Horizon, Workload

SERVICE = "intake"


_PROGRESS_PREFIX = "PROGRESS_STATE_"


def _progress_word(state: Progress) -> str:
    """A progress state as case_departments stores it: PROGRESS_STATE_AWAITING_MATERIALS is
    "awaiting_materials"."""
    return case_pb2.ProgressState.Name(state).removeprefix(_PROGRESS_PREFIX).lower()


def _progress_of(word: str) -> Progress:
    return case_pb2.ProgressState.Value(_PROGRESS_PREFIX + word.upper())


def _literals(words: list[str]) -> str:
    return ", ".join(f"'{w}'" for w in words)


# A department's progress on a case it has not decided, and the statuses of a final case, as
# SQL literals: the partial indexes of migration 0005 have the same predicates, and a
# parameter in their place would keep the planner from using them.
UNDECIDED_WORDS = [_progress_word(s) for s in (PENDING, OPEN, AWAITING)]
_UNDECIDED = _literals(UNDECIDED_WORDS)
_FINAL = _literals(FINAL_NAMES)

# Every department's undecided cases, with those running past or near their deadline (paused
# ones are neither), in one grouped statement: a merge join of the two partial indexes' undecided
# rows alone (index-only), whatever the number of decided cases the ledger keeps.
_WORKLOAD = f"""
    SELECT p.department,
           count(*) AS open,
           count(*) FILTER (WHERE c.paused_since IS NULL AND c.decision_deadline < $1) AS overdue,
           count(*) FILTER (WHERE c.paused_since IS NULL AND c.decision_deadline >= $1
                              AND c.decision_deadline < $2) AS due_soon
      FROM case_departments p JOIN cases c ON c.receipt = p.receipt
     WHERE p.state IN ({_UNDECIDED}) AND c.status NOT IN ({_FINAL})
     GROUP BY p.department"""


@dataclass(frozen=True)
class Listing:
    """Which cases a listing selects; an empty value selects on nothing."""

    division_prefix: str
    department: str = ""
    matter_code: str = ""
    # A CaseStatus name, e.g. "CASE_STATUS_AWAITING_MATERIALS".
    status: str = ""
    # Only cases accepted at or after this instant.
    accepted_since: dt.datetime | None = None
    # Only open cases running on a deadline before this instant...
    due_before: dt.datetime | None = None
    # ...and at or after this one.
    due_from: dt.datetime | None = None
    # Only cases naming the person of this keyed hash.
    person_key: str = ""


class DuplicateApplication(Exception):
    """Someone the application names already has an open case of the matter."""

    def __init__(self, open_receipt: str) -> None:
        super().__init__(open_receipt)
        self.open_receipt = open_receipt


class RequestIdReused(Exception):
    """The request id was seen before with a different request (AIP-155)."""


# A case with its timeline and its departments' progress in one statement: one round trip
# per look-up (the look-up is the window's most frequent call).
_CASES = """
    SELECT c.*,
           ARRAY(SELECT ROW(t.kind, t.department, t.note, t.trace_id, t.created_at, t.actor_name,
                            t.message)
                   FROM timeline t WHERE t.receipt = c.receipt ORDER BY t.id) AS timeline_entries,
           ARRAY(SELECT ROW(p.department, p.state, p.note, p.message)
                   FROM case_departments p WHERE p.receipt = c.receipt) AS progress_states,
           (EXISTS (SELECT 1 FROM forwards f WHERE f.receipt = c.receipt)
            OR EXISTS (SELECT 1 FROM origins o WHERE o.receipt = c.receipt)) AS crosses_border
      FROM cases c"""


def _basic_case(row: asyncpg.Record) -> case_pb2.Case:
    """The columns every view shows: no personal data, nothing to unseal."""
    return case_pb2.Case(
        name=f"cases/{row['receipt']}",
        receipt=row["receipt"],
        request_id=row["request_id"],
        matter_code=row["matter_code"],
        matter_version=row["matter_version"],
        status=case_pb2.CaseStatus.Value(row["status"]),
        departments=row["departments"],
        accepting_division=row["accepting_division"],
        create_time=to_timestamp(row["created_at"]),
        decision_deadline=to_timestamp(row["decision_deadline"]),
        trace_id=row["trace_id"],
        request_fingerprint=row["request_fingerprint"],
        deadline_provisional=row["deadline_provisional"],
    )


def contacts_view(sealed: case_pb2.Case) -> case_pb2.Case:
    """The contacts view of a case as stored (``sealed``: phones sealed): the basic view's
    columns, the applicant's and the other party's phones and notice preferences, and the
    origin of a case another jurisdiction forwarded here. What the notifier needs, nothing
    more: the GetCase view CASE_VIEW_CONTACTS, and what case_accepted carries."""
    case = case_pb2.Case(
        name=f"cases/{sealed.receipt}",
        receipt=sealed.receipt,
        request_id=sealed.request_id,
        matter_code=sealed.matter_code,
        matter_version=sealed.matter_version,
        status=sealed.status,
        departments=sealed.departments,
        accepting_division=sealed.accepting_division,
        create_time=sealed.create_time,
        decision_deadline=sealed.decision_deadline,
        trace_id=sealed.trace_id,
        request_fingerprint=sealed.request_fingerprint,
        deadline_provisional=sealed.deadline_provisional,
    )
    if sealed.HasField("origin"):
        case.origin.CopyFrom(sealed.origin)
    case.applicant.phone = sealed.applicant.phone
    case.applicant.notices.CopyFrom(sealed.applicant.notices)
    party = sealed.details.other_party
    if party.phone or party.HasField("notices"):
        case.details.other_party.phone = party.phone
        case.details.other_party.notices.CopyFrom(party.notices)
    return case


def _case_from_row(row: asyncpg.Record) -> case_pb2.Case:
    case = _basic_case(row)
    case.materials.extend(row["materials"])
    if row["paused_since"] is not None:
        case.paused_since.CopyFrom(to_timestamp(row["paused_since"]))
    if row["accepted_by"] or row["accepted_by_name"]:
        case.accepted_by.subject = row["accepted_by"]
        case.accepted_by.display_name = row["accepted_by_name"]
    json_format.ParseDict(json.loads(row["applicant"]), case.applicant)
    json_format.ParseDict(json.loads(row["details"]), case.details)
    for member in json.loads(row["household_members"]):
        json_format.ParseDict(member, case.household_members.add())
    for kind, department, note, trace_id, created_at, actor_name, message in row[
        "timeline_entries"
    ]:
        entry = case.timeline.add(
            kind=case_pb2.TimelineEntryKind.Value(kind),
            department=department,
            note=note,
            create_time=to_timestamp(created_at),
            trace_id=trace_id,
            actor_name=actor_name,
        )
        if message is not None:
            json_format.Parse(message, entry.message)
    order = {d: i for i, d in enumerate(row["departments"])}
    for department, state, note, message in sorted(
        row["progress_states"], key=lambda p: order.get(p[0], 99)
    ):
        progress = case.progress.add(department=department, state=_progress_of(state), note=note)
        if message is not None:
            json_format.Parse(message, progress.message)
    return personal_data.unseal_case(case)


async def _load(conn: asyncpg.Connection, receipt: str) -> case_pb2.Case | None:
    row = await conn.fetchrow(f"{_CASES} WHERE c.receipt = $1", receipt)
    if row is None:
        return None
    return (await _cases(conn, [row]))[0]


async def _cases(conn: asyncpg.Connection, rows: list[asyncpg.Record]) -> list[case_pb2.Case]:
    """Cases from rows of ``_CASES``; forwarding and origin only for the few that have one."""
    cases = [_case_from_row(row) for row in rows]
    await forwards.attach(
        conn, [case for case, row in zip(cases, rows, strict=True) if row["crosses_border"]]
    )
    return cases


async def _load_by_request_id(conn: asyncpg.Connection, request_id: str) -> case_pb2.Case:
    receipt = await conn.fetchval("SELECT receipt FROM cases WHERE request_id = $1", request_id)
    existing = await _load(conn, receipt)
    assert existing is not None
    return existing


async def _close_claims(conn: asyncpg.Connection, receipt: str) -> None:
    """A final case holds nothing open: the person may apply again."""
    await conn.execute("DELETE FROM open_claims WHERE receipt = $1", receipt)


async def _basic(conn: asyncpg.Connection, receipt: str) -> case_pb2.Case | None:
    row = await conn.fetchrow(
        """SELECT receipt, request_id, matter_code, matter_version, status, departments,
                  accepting_division, created_at, decision_deadline, trace_id,
                  request_fingerprint, deadline_provisional
             FROM cases WHERE receipt = $1""",
        receipt,
    )
    return None if row is None else _basic_case(row)


# The case, its "accepted" entry, its departments' progress and its case_accepted event in
# one statement: one round trip for the window's busiest write. Nothing but the case is
# written when the request id was seen before (``created`` is then empty).
_CREATE = """
    WITH created AS (
        INSERT INTO cases (receipt, request_id, matter_code, matter_version, status,
                           accepting_division, hukou_division, departments, applicant,
                           household_members, materials, trace_id, created_at,
                           decision_deadline, details, request_fingerprint,
                           deadline_provisional, accepted_by, accepted_by_name)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::jsonb, $11, $12, $13, $14,
                $15::jsonb, $25, $26, $29, $30)
        ON CONFLICT (request_id) DO NOTHING
        RETURNING receipt
    ), claims AS (
        -- A key another open case holds fails the whole statement: nothing is stored.
        INSERT INTO open_claims (claim_key, receipt)
        SELECT claim_key, receipt FROM created, unnest($27::text[]) AS claim_key
    ), accepted AS (
        INSERT INTO timeline (receipt, entry_key, kind, message, trace_id, created_at,
                              actor_name)
        SELECT receipt, receipt || ':accepted', $16, $17::jsonb, $12, $13, $30 FROM created
    ), progress AS (
        INSERT INTO case_departments (receipt, department, state)
        SELECT receipt, department, $18 FROM created, unnest($8::text[]) AS department
    ), people AS (
        INSERT INTO case_people (person_key, receipt)
        SELECT person_key, receipt FROM created, unnest($28::text[]) AS person_key
    ), event AS (
        INSERT INTO outbox (event_id, exchange, event_type, payload, trace_context)
        SELECT $19::uuid, $20, $21, $22::jsonb, $23::jsonb FROM created WHERE $24::bool
    )
    SELECT receipt FROM created"""


# The case an entry is appended to and its departments' progress, a row per department, all
# locked: a lock taken after waiting reads the rows as the transaction waited on left them
# (a subquery would read them as they were when the statement began). A case with no
# department (held for its home jurisdiction) has no row here; _LOCKED_ALONE reads it.
_LOCKED = """
    SELECT c.*, p.department AS progress_department, p.state AS progress_state
      FROM cases c JOIN case_departments p ON p.receipt = c.receipt
     WHERE c.receipt = $1
       FOR UPDATE"""
_LOCKED_ALONE = "SELECT * FROM cases WHERE receipt = $1 FOR UPDATE"

# An entry and what it moves, in one statement: the entry unless its key is taken, and only
# then the touched departments' progress (what the entry says replaces what the progress said,
# an older entry's prose included; an entry that says nothing leaves it) and the case's status
# and deadline clock; answers the case's row after, or nothing when the key was taken.
_APPEND = """
    WITH entry AS (
        INSERT INTO timeline (receipt, entry_key, kind, department, note, trace_id,
                              actor_name, message)
        VALUES ($1, $10, $11, $12, $4, $13, $14, $5::jsonb)
        ON CONFLICT (entry_key) DO NOTHING
        RETURNING id
    ), progress AS (
        UPDATE case_departments p
           SET state = u.state,
               note = CASE WHEN $4 = '' AND $5::jsonb IS NULL THEN p.note ELSE $4 END,
               message = CASE WHEN $4 = '' AND $5::jsonb IS NULL THEN p.message
                              ELSE $5::jsonb END
          FROM unnest($2::text[], $3::text[]) AS u(department, state)
         WHERE p.receipt = $1 AND p.department = u.department AND EXISTS (SELECT FROM entry)
    )
    UPDATE cases
       SET status = $6, paused_since = $7, decision_deadline = $8, deadline_provisional = $9
     WHERE receipt = $1 AND EXISTS (SELECT FROM entry)
    RETURNING *"""


@dataclass(frozen=True)
class _Move:
    """What an entry does to a case: its departments' progress, its status, its clock."""

    touched: list[str]
    states: list[str]
    current: case_pb2.CaseStatus.ValueType
    status: case_pb2.CaseStatus.ValueType
    paused_since: dt.datetime | None
    deadline: dt.datetime
    provisional: bool


def _message_json(entry: case_pb2.TimelineEntry) -> str | None:
    return stored_json(entry.message) if entry.HasField("message") else None


def _as_created(case: case_pb2.Case, accepted: case_pb2.Text) -> case_pb2.Case:
    """What ``_load`` would read back right after ``create`` stored the case: built from what
    was written rather than read again, as acceptance is the hottest write."""
    created = case_pb2.Case()
    created.CopyFrom(case)
    created.timeline.add(
        kind=case_pb2.TIMELINE_ENTRY_KIND_ACCEPTED,
        message=accepted,
        create_time=case.create_time,
        trace_id=case.trace_id,
        actor_name=case.accepted_by.display_name,
    )
    for department in case.departments:
        created.progress.add(department=department, state=PENDING)
    return created


# What a final status at home becomes on the accepting side's timeline.
_FINAL_KIND = {
    case_pb2.CASE_STATUS_APPROVED: case_pb2.TIMELINE_ENTRY_KIND_APPROVED,
    case_pb2.CASE_STATUS_REJECTED: case_pb2.TIMELINE_ENTRY_KIND_REJECTED,
    case_pb2.CASE_STATUS_COMPLETED: case_pb2.TIMELINE_ENTRY_KIND_COMPLETED,
    case_pb2.CASE_STATUS_WITHDRAWN: case_pb2.TIMELINE_ENTRY_KIND_WITHDRAWN,
    case_pb2.CASE_STATUS_LAPSED: case_pb2.TIMELINE_ENTRY_KIND_LAPSED,
}


class CaseLedger:
    def __init__(self, pool: asyncpg.Pool, clock: BureauClock, calendar: LegalCalendar) -> None:
        self.pool = pool
        self.clock = clock
        self.calendar = calendar

    async def get(self, receipt: str) -> case_pb2.Case | None:
        async with self.pool.acquire() as conn:
            # One statement reads the case row, its timeline and its progress from one
            # snapshot; only a case crossing a border has more to read, in a snapshot too.
            row = await conn.fetchrow(f"{_CASES} WHERE c.receipt = $1", receipt)
            if row is None or not row["crosses_border"]:
                return None if row is None else _case_from_row(row)
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                return await _load(conn, receipt)

    async def get_basic(self, receipt: str) -> case_pb2.Case | None:
        async with self.pool.acquire() as conn:
            return await _basic(conn, receipt)

    async def get_contacts(self, receipt: str) -> case_pb2.Case | None:
        """The basic view with the applicant's and the other party's phones as stored (sealed,
        not opened here) and their notice preferences: what the notifier needs, nothing more;
        and, for a case another jurisdiction accepted and forwarded here, its origin: that
        jurisdiction's notifier tells the applicant, this one must not tell them again."""
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                """SELECT c.*, o.peer AS origin_peer, o.accepting_receipt AS origin_receipt,
                          o.accepting_division AS origin_division,
                          o.clerk_jurisdiction AS origin_clerk_jurisdiction
                     FROM cases c LEFT JOIN origins o USING (receipt)
                    WHERE c.receipt = $1""",
                receipt,
            )
        if row is None:
            return None
        stored = _basic_case(row)
        if row["origin_peer"] is not None:
            stored.origin.peer = row["origin_peer"]
            stored.origin.accepting_receipt = row["origin_receipt"]
            stored.origin.accepting_division = row["origin_division"]
            stored.origin.clerk_jurisdiction = row["origin_clerk_jurisdiction"]
        json_format.ParseDict(json.loads(row["applicant"]), stored.applicant)
        json_format.ParseDict(json.loads(row["details"]), stored.details)
        return contacts_view(stored)

    async def create(
        self,
        case: case_pb2.Case,
        claims: list[str],
        proactive: intake_service_pb2.ProactiveOrigin | None = None,
    ) -> tuple[case_pb2.Case, bool]:
        """Stores a fully assigned case with its ``accepted`` entry, its departments' progress,
        its open-case ``claims`` and its ``case_accepted`` event, atomically. A request id
        seen before with the same request returns the stored case; with another request it
        raises RequestIdReused. A claim another open case holds raises DuplicateApplication."""
        sealed = personal_data.seal_case(case)
        forwarded = case.HasField("forwarding")
        crossing = forwarded or case.HasField("origin") or proactive is not None
        accepted = (
            texts.text(texts.Code.TEXT_CODE_OPENED_FROM_WARNING, proactive.reason)
            if proactive is not None
            else texts.text(
                texts.Code.TEXT_CODE_ACCEPTED_FOR_HOME,
                division=texts.division(case.forwarding.home_division),
            )
            if forwarded
            else texts.text(
                texts.Code.TEXT_CODE_ACCEPTED_FROM_PEER,
                division=texts.division(case.origin.accepting_division),
                receipt=texts.code(case.origin.accepting_receipt),
            )
            if case.HasField("origin")
            else texts.text(texts.Code.TEXT_CODE_ACCEPTED_AT_WINDOW)
        )
        event = outbox.event_row(
            SERVICE,
            events_pb2.CaseAccepted(
                receipt=case.receipt,
                matter_code=case.matter_code,
                matter_version=case.matter_version,
                departments=case.departments,
                accepting_division=case.accepting_division,
                hukou_division=case.applicant.hukou_division,
                proactive=proactive is not None,
                accept_time=case.create_time,
                contacts=contacts_view(sealed),
                sealed_case=personal_data.seal_for_transit(case),
            ),
        )
        # One statement is atomic by itself; a case crossing jurisdictions writes more.
        async with (
            self.pool.acquire() as conn,
            conn.transaction() if crossing else contextlib.nullcontext(),
        ):
            try:
                inserted = await self._insert(conn, case, sealed, accepted, event, claims)
            except asyncpg.UniqueViolationError as error:
                if error.table_name != "open_claims":
                    raise
                holder = await conn.fetchval(
                    "SELECT receipt FROM open_claims WHERE claim_key = ANY($1::text[]) LIMIT 1",
                    claims,
                )
                if holder is None:
                    # The holder became final in between: the claims are free now.
                    inserted = await self._insert(conn, case, sealed, accepted, event, claims)
                else:
                    raise DuplicateApplication(holder) from None
            if inserted is None:
                existing = await _load_by_request_id(conn, case.request_id)
                if (
                    existing.request_fingerprint
                    and existing.request_fingerprint != case.request_fingerprint
                ):
                    raise RequestIdReused()
                return existing, False
            if forwarded:
                await forwards.hold(conn, case, dict(telemetry.inject({})))
                stored = await _load(conn, case.receipt)
                assert stored is not None
                return stored, True
            if case.HasField("origin"):
                await forwards.record_origin(conn, case)
            if proactive is not None:
                # One case per warning: a second warning id under another request id fails
                # here and the transaction takes the case back with it.
                await conn.execute(
                    "INSERT INTO proactive_origins (receipt, warning_id, department, "
                    "batch_trace_id) VALUES ($1, $2::uuid, $3, $4)",
                    case.receipt,
                    proactive.warning_id,
                    proactive.department,
                    proactive.batch_trace_id,
                )
        return _as_created(case, accepted), True

    async def _insert(
        self,
        conn: asyncpg.Connection,
        case: case_pb2.Case,
        sealed: case_pb2.Case,
        accepted: case_pb2.Text,
        event: tuple[object, ...],
        claims: list[str],
    ) -> str | None:
        forwarded = case.HasField("forwarding")
        # Inside a transaction a refused claim must not abort it: a savepoint keeps it usable.
        async with conn.transaction() if conn.is_in_transaction() else contextlib.nullcontext():
            return await conn.fetchval(  # type: ignore[no-any-return]
                _CREATE,
                case.receipt,
                case.request_id,
                case.matter_code,
                case.matter_version,
                case_pb2.CaseStatus.Name(case.status),
                case.accepting_division,
                case.applicant.hukou_division,
                list(case.departments),
                stored_json(sealed.applicant),
                json.dumps([json_format.MessageToDict(m) for m in sealed.household_members]),
                list(case.materials),
                case.trace_id,
                case.create_time.ToDatetime(dt.UTC),
                case.decision_deadline.ToDatetime(dt.UTC),
                stored_json(sealed.details),
                case_pb2.TimelineEntryKind.Name(case_pb2.TIMELINE_ENTRY_KIND_ACCEPTED),
                stored_json(accepted),
                _progress_word(PENDING),
                *event,
                # Held for the home jurisdiction: nothing is routed here.
                not forwarded,
                case.request_fingerprint,
                case.deadline_provisional,
                claims,
                people_named(case),
                case.accepted_by.subject,
                case.accepted_by.display_name,
            )

    async def append(
        self, receipt: str, entry_key: str, entry: case_pb2.TimelineEntry
    ) -> tuple[case_pb2.Case | None, bool]:
        """Appends an entry unless its key is taken, and moves the department's progress, the
        case's status and its deadline clock; returns the case's basic view after it (None if
        there is no such case) and whether anything was appended. The router appends for every
        case it routes, so an entry costs two statements: the case locked with its progress,
        and the entry with the progress and case moved (which answers the view)."""
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(_LOCKED, receipt)
            row = rows[0] if rows else await conn.fetchrow(_LOCKED_ALONE, receipt)
            if row is None:
                return None, False
            progress = {r["progress_department"]: _progress_of(r["progress_state"]) for r in rows}
            move = self._move(row, progress, entry)
            moved = await conn.fetchrow(
                _APPEND,
                receipt,
                move.touched,
                move.states,
                entry.note,
                _message_json(entry),
                case_pb2.CaseStatus.Name(move.status),
                move.paused_since,
                move.deadline,
                move.provisional,
                entry_key,
                case_pb2.TimelineEntryKind.Name(entry.kind),
                entry.department,
                entry.trace_id,
                entry.actor_name,
            )
            if moved is None:
                return _basic_case(row), False
            await self._after_move(conn, receipt, move, entry)
            if entry.kind == case_pb2.TIMELINE_ENTRY_KIND_MATERIALS_SUPPLIED:
                # In the entry's transaction, so the applicant is told once it is recorded.
                await outbox.add(
                    conn,
                    "intake",
                    events_pb2.CaseProgressed(
                        receipt=receipt, kind=entry.kind, matter_code=row["matter_code"]
                    ),
                )
            return _basic_case(moved), True

    async def _insert_entry(
        self, conn: asyncpg.Connection, receipt: str, entry_key: str, entry: case_pb2.TimelineEntry
    ) -> bool:
        return bool(
            await conn.fetchval(
                """INSERT INTO timeline (receipt, entry_key, kind, department, note, trace_id,
                                       actor_name, message)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)
                   ON CONFLICT (entry_key) DO NOTHING
                   RETURNING id""",
                receipt,
                entry_key,
                case_pb2.TimelineEntryKind.Name(entry.kind),
                entry.department,
                entry.note,
                entry.trace_id,
                entry.actor_name,
                _message_json(entry),
            )
        )

    def _move(
        self, row: asyncpg.Record, progress: dict[str, Progress], entry: case_pb2.TimelineEntry
    ) -> _Move:
        """What ``entry`` does to the departments' ``progress`` (changed in place), the case's
        status and its deadline clock."""
        touched = (
            [d for d, s in progress.items() if s == AWAITING]
            if entry.kind == case_pb2.TIMELINE_ENTRY_KIND_MATERIALS_SUPPLIED
            else [entry.department]
            if entry.department in progress
            else []
        )
        for department in touched:
            progress[department] = department_state_after(progress[department], entry.kind)
        matter = catalog.load().version(row["matter_code"], row["matter_version"])
        joint = matter.joint if matter else False
        current = case_pb2.CaseStatus.Value(row["status"])
        status = case_status(current, entry.kind, progress, joint)
        paused_since, deadline, provisional = (
            row["paused_since"],
            row["decision_deadline"],
            row["deadline_provisional"],
        )
        if entry.kind == case_pb2.TIMELINE_ENTRY_KIND_MATERIALS_REQUESTED:
            paused_since = paused_since or self.clock.now()
        elif status != case_pb2.CASE_STATUS_AWAITING_MATERIALS and paused_since is not None:
            resumed = self._resumed(row, matter)
            if resumed is not None:
                deadline, provisional = resumed.at, provisional or resumed.provisional
                paused_since = None
        return _Move(
            touched,
            [_progress_word(progress[d]) for d in touched],
            current,
            status,
            paused_since,
            deadline,
            provisional,
        )

    async def _after_move(
        self, conn: asyncpg.Connection, receipt: str, move: _Move, entry: case_pb2.TimelineEntry
    ) -> None:
        """A case that became final holds nothing open; one all departments reported on is
        completed, and its timeline says so."""
        if move.status in FINAL and move.current not in FINAL:
            await _close_claims(conn, receipt)
        if move.status == case_pb2.CASE_STATUS_COMPLETED and move.current != move.status:
            await self._insert_entry(
                conn,
                receipt,
                f"{receipt}:completed",
                case_pb2.TimelineEntry(
                    kind=case_pb2.TIMELINE_ENTRY_KIND_COMPLETED,
                    message=texts.text(texts.Code.TEXT_CODE_ALL_DEPARTMENTS_REPORTED),
                    trace_id=entry.trace_id,
                ),
            )

    def _resumed(self, row: asyncpg.Record, matter: catalog.Matter | None) -> Deadline | None:
        """The clock runs again: what was left of the limit when the case paused runs from
        today, in the limit's unit (working days stay working days)."""
        if matter is None:
            return None
        return resumed_deadline(
            row["decision_deadline"],
            row["paused_since"],
            self.clock.now(),
            matter.time_limit,
            self.clock,
            self.calendar,
        )

    async def page(
        self, listing: Listing, size: int, token: str
    ) -> tuple[list[case_pb2.Case], str]:
        """The cases ``listing`` selects, keyset-paginated: by deadline when it asks for those
        running out, by acceptance otherwise."""
        after = pagination.decode_time_key(token)
        order = "decision_deadline" if listing.due_before is not None else "created_at"
        async with (
            self.pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            return await self._list(conn, order, after, size, listing)

    async def _list(
        self,
        conn: asyncpg.Connection,
        order: str,
        after: tuple[dt.datetime, str] | None,
        size: int,
        listing: Listing,
    ) -> tuple[list[case_pb2.Case], str]:
        # Running out of time: open, the clock not paused for materials, the deadline before
        # due_before (and, for "due soon", not yet passed).
        rows = await conn.fetch(
            f"""{_CASES}
                 WHERE ($1::timestamptz IS NULL
                        OR (status <> ALL($2::text[]) AND paused_since IS NULL
                            AND decision_deadline < $1
                            AND ($9::timestamptz IS NULL OR decision_deadline >= $9)))
                   AND ($3 = '' OR $3 = ANY(departments))
                   AND accepting_division LIKE $4 || '%'
                   AND ($5 = '' OR matter_code = $5)
                   AND ($6 = '' OR status = $6)
                   AND ($7::timestamptz IS NULL OR created_at >= $7)
                   AND ($10::text = '' OR receipt IN (SELECT receipt FROM case_people
                                                       WHERE person_key = $10))
                   AND ($11::timestamptz IS NULL OR ({order}, receipt) > ($11, $12))
                 ORDER BY {order}, receipt
                 LIMIT $8""",
            listing.due_before,
            FINAL_NAMES,
            listing.department,
            listing.division_prefix,
            listing.matter_code,
            listing.status,
            listing.accepted_since,
            size + 1,
            listing.due_from,
            listing.person_key,
            after[0] if after else None,
            after[1] if after else "",
        )
        page, next_token = pagination.split_page(
            rows, size, lambda r: pagination.encode_time_key(r[order], r["receipt"])
        )
        return await _cases(conn, page), next_token

    async def workload(self, horizon: Horizon) -> dict[str, Workload]:
        """Each department's undecided cases (departments with none are left out), overdue
        and due soon as ``horizon`` divides them."""
        rows = await self.pool.fetch(_WORKLOAD, horizon.overdue_before, horizon.due_before)
        return {r["department"]: Workload(r["open"], r["overdue"], r["due_soon"]) for r in rows}

    async def claim_forwards(
        self, delivered: bool, limit: int, lease: dt.timedelta
    ) -> list[tuple[case_pb2.Case, dict[str, str], str]]:
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await forwards.claim(conn, delivered, limit, lease)
            cases = await _cases(
                conn,
                list(
                    await conn.fetch(
                        f"{_CASES} WHERE c.receipt = ANY($1::text[])",
                        [r["receipt"] for r in rows],
                    )
                ),
            )
        contexts = {r["receipt"]: json.loads(r["trace_context"]) for r in rows}
        causes = {r["receipt"]: r["cause"] for r in rows}
        return [(c, contexts[c.receipt], causes[c.receipt]) for c in cases]

    async def record_forward(
        self,
        receipt: str,
        remote_receipt: str,
        remote_status: int,
        remote_timeline: list[case_pb2.TimelineEntry],
        error: str,
        cause: str = "",
    ) -> case_pb2.Case | None:
        """A failed attempt is retried later; a delivery or a status from home shows on the
        case: 'forwarded' once, and the home jurisdiction's final decision once."""
        async with self.pool.acquire() as conn, conn.transaction():
            if error and remote_status == case_pb2.CASE_STATUS_UNSPECIFIED:
                await forwards.record_failure(conn, receipt, error, cause)
                return await _load(conn, receipt)
            before = await forwards.record_remote(
                conn, receipt, remote_receipt, remote_status, remote_timeline, cause, error
            )
            if before is None:
                return None
            delivered = await self._insert_entry(
                conn,
                receipt,
                f"{receipt}:forwarded",
                case_pb2.TimelineEntry(
                    kind=case_pb2.TIMELINE_ENTRY_KIND_FORWARDED,
                    department="",
                    message=texts.text(
                        texts.Code.TEXT_CODE_RECEIVED_BY_HOME,
                        division=texts.division(before["home_division"]),
                        receipt=texts.code(remote_receipt),
                    ),
                ),
            )
            matter = await conn.fetchval(
                "SELECT matter_code FROM cases WHERE receipt = $1", receipt
            )
            if delivered and remote_receipt:
                # In the entry's transaction: the applicant is told once home has the case (a
                # refusal by home has no receipt there: only its decision is told).
                await outbox.add(
                    conn,
                    SERVICE,
                    events_pb2.CaseProgressed(
                        receipt=receipt,
                        kind=case_pb2.TIMELINE_ENTRY_KIND_FORWARDED,
                        matter_code=matter,
                    ),
                )
            if remote_status in _FINAL_KIND:
                deciding = next(
                    (e for e in reversed(remote_timeline) if e.kind == _FINAL_KIND[remote_status]),
                    None,
                )
                # The home officer's words (or what home said) explain the decision.
                why = []
                if deciding is not None and deciding.HasField("message"):
                    why.append(deciding.message)
                elif deciding is not None and deciding.note:
                    why.append(texts.as_typed(deciding.note))
                appended = await self._insert_entry(
                    conn,
                    receipt,
                    f"{receipt}:decided-at-home",
                    case_pb2.TimelineEntry(
                        kind=_FINAL_KIND[remote_status],
                        message=texts.text(
                            texts.Code.TEXT_CODE_DECIDED_AT_HOME,
                            *why,
                            status=texts.status(remote_status),
                        ),
                    ),
                )
                if appended:
                    await conn.execute(
                        "UPDATE cases SET status = $2 WHERE receipt = $1",
                        receipt,
                        case_pb2.CaseStatus.Name(remote_status),
                    )
                    await _close_claims(conn, receipt)
                    await outbox.add(
                        conn,
                        SERVICE,
                        events_pb2.CaseProgressed(
                            receipt=receipt,
                            kind=_FINAL_KIND[remote_status],
                            matter_code=matter,
                            home_status=remote_status,
                        ),
                    )
            return await _load(conn, receipt)

    async def list_forwards(
        self, state: str, stuck_after: dt.timedelta, size: int, token: str
    ) -> tuple[list[tuple[asyncpg.Record, str]], str]:
        after = pagination.decode_time_key(token)
        async with (
            self.pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            rows, states, next_token = await forwards.page(conn, state, stuck_after, size, after)
        return list(zip(rows, states, strict=True)), next_token

    async def forward_backlog(self) -> list[asyncpg.Record]:
        async with self.pool.acquire() as conn:
            return await forwards.backlog(conn)

    async def unreported_origins(self, limit: int) -> list[case_pb2.Case]:
        async with (
            self.pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            receipts = await forwards.unreported(conn, limit)
            rows = await conn.fetch(f"{_CASES} WHERE c.receipt = ANY($1::text[])", receipts)
            return await _cases(conn, list(rows))

    async def mark_origin_reported(self, receipt: str, length: int) -> None:
        async with self.pool.acquire() as conn:
            await forwards.mark_reported(conn, receipt, length)

    async def find_by_origin(self, peer: str, accepting_receipt: str) -> case_pb2.Case | None:
        async with (
            self.pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            receipt = await conn.fetchval(
                "SELECT receipt FROM origins WHERE peer = $1 AND accepting_receipt = $2",
                peer,
                accepting_receipt,
            )
            return await _load(conn, receipt) if receipt else None
