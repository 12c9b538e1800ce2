"""Divorce confirmations and withdrawals, the lapse sweep, and RegistryService.

Every decision here is ``cooling_off``'s, on the bureau's local date (``BureauClock.today``)
and the application's local filing date: the hour of filing or of asking never matters.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

import asyncpg
import grpc

from onedoor.department.v1 import department_service_pb2 as dpb
from onedoor.events.v1 import events_pb2
from onedoor.registry.v1 import registry_service_pb2 as pb
from onedoor.registry.v1 import registry_service_pb2_grpc
from services.common import identity, telemetry
from services.common.clock import BureauClock
from services.common.department.store import DepartmentCases
from services.common.errors import ApiError, FieldViolation, invalid_argument, not_found
from services.common.keyed_hash import person_key
from services.common.legal_calendar import LegalCalendar
from services.common.texts import Code, text
from services.common.timestamps import to_timestamp
from services.registry import cooling_off, records
from services.registry.cooling_off import DivorcePeriods, Phase
from services.registry.records import PENDING, Divorce, DivorceState

log = logging.getLogger(__name__)


def _refuse(message: str, reason: str, metadata: Mapping[str, str] | None = None) -> ApiError:
    return ApiError(
        grpc.StatusCode.FAILED_PRECONDITION, message, reason=reason, metadata=metadata or {}
    )


def _closed(state: DivorceState) -> ApiError:
    word = pb.DivorceState.Name(state).removeprefix("DIVORCE_STATE_").lower()
    return _refuse(f"the divorce is {word}", "DIVORCE_CLOSED")


class Divorces:
    def __init__(
        self,
        pool: asyncpg.Pool,
        cases: DepartmentCases,
        clock: BureauClock,
        calendar: LegalCalendar,
    ) -> None:
        self.pool = pool
        self.cases = cases
        self.clock = clock
        self.calendar = calendar

    def periods(self, row: Divorce) -> DivorcePeriods:
        return cooling_off.periods_of(row.filed_at, self.clock, self.calendar)

    def as_proto(self, row: Divorce) -> pb.Divorce:
        cooling_off_end, confirmation_end = cooling_off.end_times(self.periods(row), self.clock)
        return pb.Divorce(
            receipt=row.receipt,
            state=row.state,
            filed_time=to_timestamp(row.filed_at),
            cooling_off_end_time=to_timestamp(cooling_off_end),
            confirmation_end_time=to_timestamp(confirmation_end),
            confirmations=int(row.confirmed_a) + int(row.confirmed_b),
        )

    async def _party(
        self, conn: asyncpg.Connection, receipt: str, id_number: str
    ) -> tuple[Divorce, str]:
        row = await records.divorce(conn, receipt, lock=True)
        if row is None:
            raise not_found("divorce", receipt)
        key = person_key(id_number)
        if key == row.key_a:
            return row, "a"
        if key == row.key_b:
            return row, "b"
        raise ApiError(
            grpc.StatusCode.PERMISSION_DENIED,
            "the identity presented is not a party to this divorce",
            reason="NOT_A_PARTY",
        )

    async def _lapse(
        self, conn: asyncpg.Connection, row: Divorce, divorce: DivorcePeriods
    ) -> Divorce:
        updated = await records.set_divorce(
            conn, row.receipt, state=pb.DIVORCE_STATE_LAPSED, ended_at=self.clock.now()
        )
        await self.cases.move(
            conn,
            row.receipt,
            dpb.CASE_STATE_LAPSED,
            # Nobody typed it: what the registry says is the message alone.
            "",
            events_pb2.OUTCOME_LAPSED,
            message=cooling_off.lapsed_text(divorce),
        )
        return updated

    async def _lapsed_by_now(
        self, conn: asyncpg.Connection, row: Divorce, divorce: DivorcePeriods
    ) -> bool:
        """Whether the application has lapsed, recording the lapse if the sweep has not yet:
        a party who comes too late gets the same answer before the sweep as after it."""
        if row.state == pb.DIVORCE_STATE_LAPSED:
            return True
        if row.state in PENDING and cooling_off.phase(divorce, self.clock.today()) is Phase.LAPSED:
            await self._lapse(conn, row, divorce)
            return True
        return False

    async def confirm(self, receipt: str, id_number: str, staff_name: str = "") -> pb.Divorce:
        """A party's confirmation, recorded by the clerk ``staff_name`` (for the timeline)."""
        async with self.pool.acquire() as conn:
            async with conn.transaction():
                row, side = await self._party(conn, receipt, id_number)
                divorce = self.periods(row)
                if not await self._lapsed_by_now(conn, row, divorce):
                    return await self._confirm(conn, row, side, divorce, staff_name)
            # Refused only once the lapse's own transaction has committed: raising inside it
            # would roll the lapse back, and the next attempt would find the divorce pending.
            raise _refuse(cooling_off.lapsed(divorce), "DIVORCE_LAPSED")

    async def _confirm(
        self,
        conn: asyncpg.Connection,
        row: Divorce,
        side: str,
        divorce: DivorcePeriods,
        staff_name: str,
    ) -> pb.Divorce:
        receipt = row.receipt
        if row.state not in PENDING:
            raise _closed(row.state)
        if cooling_off.phase(divorce, self.clock.today()) is Phase.COOLING_OFF:
            raise _refuse(
                cooling_off.still_cooling_off(divorce),
                "COOLING_OFF",
                cooling_off.period_dates(divorce),
            )
        if row.confirmed_by(side):
            return self.as_proto(row)
        row = await records.set_divorce(
            conn,
            receipt,
            **{f"confirmed_{side}": True, "state": pb.DIVORCE_STATE_AWAITING_CONFIRMATION},
        )
        if not (row.confirmed_a and row.confirmed_b):
            await self.cases.move(
                conn,
                receipt,
                dpb.CASE_STATE_OPEN,
                "",
                events_pb2.OUTCOME_CONFIRMED,
                officer_name=staff_name,
                message=text(Code.TEXT_CODE_DIVORCE_CONFIRMED_BY_ONE),
            )
        else:
            row = await records.set_divorce(
                conn, receipt, state=pb.DIVORCE_STATE_CONFIRMED, ended_at=self.clock.now()
            )
            await records.end_marriage(conn, row.marriage_id, "divorce")
            await self.cases.move(
                conn,
                receipt,
                dpb.CASE_STATE_APPROVED,
                "",
                events_pb2.OUTCOME_APPROVED,
                officer_name=staff_name,
                message=text(Code.TEXT_CODE_DIVORCE_REGISTERED),
            )
        return self.as_proto(row)

    async def withdraw(self, receipt: str, id_number: str, staff_name: str = "") -> pb.Divorce:
        """A party's withdrawal, recorded by the clerk ``staff_name`` (for the timeline)."""
        async with self.pool.acquire() as conn:
            async with conn.transaction():
                row, _ = await self._party(conn, receipt, id_number)
                divorce = self.periods(row)
                if not await self._lapsed_by_now(conn, row, divorce):
                    return await self._withdraw(conn, row, divorce, staff_name)
            # As for a late confirmation: the lapse commits first, then the refusal.
            raise _refuse(
                cooling_off.withdrawal_closed(divorce, self.clock.today()), "NOT_COOLING_OFF"
            )

    async def _withdraw(
        self, conn: asyncpg.Connection, row: Divorce, divorce: DivorcePeriods, staff_name: str
    ) -> pb.Divorce:
        receipt = row.receipt
        if row.state not in PENDING:
            raise _closed(row.state)
        if row.state != pb.DIVORCE_STATE_COOLING_OFF or not cooling_off.may_withdraw(
            divorce, self.clock.today()
        ):
            raise _refuse(
                cooling_off.withdrawal_closed(divorce, self.clock.today()), "NOT_COOLING_OFF"
            )
        row = await records.set_divorce(
            conn, receipt, state=pb.DIVORCE_STATE_WITHDRAWN, ended_at=self.clock.now()
        )
        await self.cases.move(
            conn,
            receipt,
            dpb.CASE_STATE_WITHDRAWN,
            "",
            events_pb2.OUTCOME_WITHDRAWN,
            officer_name=staff_name,
            message=text(Code.TEXT_CODE_DIVORCE_WITHDRAWN),
        )
        return self.as_proto(row)

    async def sweep(self) -> int:
        """Lapses every divorce whose last day to confirm has passed; returns how many."""
        lapsed = 0
        today = self.clock.today()
        async with self.pool.acquire() as conn:
            for row in await records.pending_divorces(conn):
                divorce = self.periods(row)
                if cooling_off.phase(divorce, today) is not Phase.LAPSED:
                    continue
                async with conn.transaction():
                    locked = await records.divorce(conn, row.receipt, lock=True)
                    # A party may have confirmed or withdrawn since the list was read.
                    if locked is not None and locked.state == row.state:
                        with telemetry.bound_receipt(row.receipt):
                            await self._lapse(conn, locked, divorce)
                        lapsed += 1
        return lapsed

    async def sweep_forever(self, interval_seconds: float) -> None:
        while True:
            try:
                await self.sweep()
            except (OSError, asyncpg.PostgresError) as error:
                log.warning("divorce sweep failed (%s); retrying", type(error).__name__)
            await asyncio.sleep(interval_seconds)


class RegistryServicer(registry_service_pb2_grpc.RegistryServiceServicer):
    def __init__(self, divorces: Divorces) -> None:
        self.divorces = divorces

    async def FindDeceased(
        self, request: pb.FindDeceasedRequest, context: grpc.aio.ServicerContext
    ) -> pb.FindDeceasedResponse:
        keys = []
        today = self.divorces.clock.today()
        for i, number in enumerate(request.id_numbers):
            try:
                keys.append(person_key(identity.validate(number, today=today)))
            except identity.IdentityError as error:
                raise invalid_argument([FieldViolation(f"id_numbers[{i}]", str(error))]) from None
        async with self.divorces.pool.acquire() as conn:
            deceased = await records.deceased_among(conn, keys)
        return pb.FindDeceasedResponse(
            deceased_indexes=[i for i, k in enumerate(keys) if k in deceased]
        )

    async def ConfirmDivorce(
        self, request: pb.ConfirmDivorceRequest, context: grpc.aio.ServicerContext
    ) -> pb.ConfirmDivorceResponse:
        with telemetry.bound_receipt(request.receipt):
            return pb.ConfirmDivorceResponse(
                divorce=await self.divorces.confirm(
                    request.receipt, request.id_number, request.staff_name
                )
            )

    async def WithdrawDivorce(
        self, request: pb.WithdrawDivorceRequest, context: grpc.aio.ServicerContext
    ) -> pb.WithdrawDivorceResponse:
        with telemetry.bound_receipt(request.receipt):
            return pb.WithdrawDivorceResponse(
                divorce=await self.divorces.withdraw(
                    request.receipt, request.id_number, request.staff_name
                )
            )
