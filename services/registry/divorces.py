"""Divorce confirmations and withdrawals, the lapse sweep, and RegistryService."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable

import asyncpg
import grpc

from onedoor.department.v1 import department_service_pb2 as dpb
from onedoor.registry.v1 import registry_service_pb2 as pb
from onedoor.registry.v1 import registry_service_pb2_grpc
from services.common import identity, telemetry
from services.common.department.store import DepartmentCases
from services.common.errors import ApiError, FieldViolation, invalid_argument, not_found
from services.common.personal_data import person_key
from services.common.timestamps import to_timestamp
from services.registry import cooling_off, records

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]


def _as_proto(row: asyncpg.Record) -> pb.Divorce:
    filed = row["filed_at"]
    return pb.Divorce(
        receipt=row["receipt"],
        state=pb.DivorceState.Value(row["state"]),
        filed_time=to_timestamp(filed),
        cooling_off_end_time=to_timestamp(cooling_off.cooling_off_end(filed)),
        confirmation_end_time=to_timestamp(cooling_off.confirmation_end(filed)),
        confirmations=int(row["confirmed_a"]) + int(row["confirmed_b"]),
    )


def _refuse(message: str, reason: str) -> ApiError:
    return ApiError(grpc.StatusCode.FAILED_PRECONDITION, message, reason=reason)


class Divorces:
    def __init__(self, pool: asyncpg.Pool, cases: DepartmentCases, clock: Clock) -> None:
        self.pool = pool
        self.cases = cases
        self.clock = clock

    async def _party(
        self, conn: asyncpg.Connection, receipt: str, id_number: str
    ) -> tuple[asyncpg.Record, str]:
        row = await records.divorce(conn, receipt, lock=True)
        if row is None:
            raise not_found("divorce", receipt)
        key = person_key(id_number)
        if key == row["key_a"]:
            return row, "a"
        if key == row["key_b"]:
            return row, "b"
        raise ApiError(
            grpc.StatusCode.PERMISSION_DENIED,
            "the identity presented is not a party to this divorce",
            reason="NOT_A_PARTY",
        )

    async def _lapse(self, conn: asyncpg.Connection, row: asyncpg.Record) -> asyncpg.Record:
        updated = await records.set_divorce(
            conn, row["receipt"], state="DIVORCE_STATE_LAPSED", ended_at=self.clock()
        )
        await self.cases.move(
            conn,
            row["receipt"],
            dpb.CASE_STATE_LAPSED,
            "both parties did not confirm within 30 days after the cooling-off period",
            "lapsed",
        )
        return updated

    async def confirm(self, receipt: str, id_number: str) -> pb.Divorce:
        async with self.pool.acquire() as conn, conn.transaction():
            row, side = await self._party(conn, receipt, id_number)
            state = row["state"]
            if state not in ("DIVORCE_STATE_COOLING_OFF", "DIVORCE_STATE_AWAITING_CONFIRMATION"):
                raise _refuse(
                    f"the divorce is {state.removeprefix('DIVORCE_STATE_').lower()}",
                    "DIVORCE_CLOSED",
                )
            now = self.clock()
            phase = cooling_off.phase(row["filed_at"], now)
            if phase is cooling_off.Phase.COOLING_OFF:
                until = cooling_off.cooling_off_end(row["filed_at"])
                raise _refuse(
                    f"the cooling-off period runs until {until:%Y-%m-%d %H:%M} UTC", "COOLING_OFF"
                )
            if phase is cooling_off.Phase.LAPSED:
                await self._lapse(conn, row)
                return _as_proto(await records.divorce(conn, receipt))
            if row[f"confirmed_{side}"]:
                return _as_proto(row)
            row = await records.set_divorce(
                conn,
                receipt,
                **{f"confirmed_{side}": True, "state": "DIVORCE_STATE_AWAITING_CONFIRMATION"},
            )
            if not (row["confirmed_a"] and row["confirmed_b"]):
                await self.cases.move(
                    conn,
                    receipt,
                    dpb.CASE_STATE_OPEN,
                    "one party confirmed the divorce",
                    "confirmed",
                )
            else:
                row = await records.set_divorce(
                    conn, receipt, state="DIVORCE_STATE_CONFIRMED", ended_at=now
                )
                await records.end_marriage(conn, row["marriage_id"], "divorce")
                await self.cases.move(
                    conn,
                    receipt,
                    dpb.CASE_STATE_APPROVED,
                    "both parties confirmed: divorce registered",
                    "approved",
                )
            return _as_proto(row)

    async def withdraw(self, receipt: str, id_number: str) -> pb.Divorce:
        async with self.pool.acquire() as conn, conn.transaction():
            row, _ = await self._party(conn, receipt, id_number)
            if row["state"] != "DIVORCE_STATE_COOLING_OFF" or not cooling_off.may_withdraw(
                row["filed_at"], self.clock()
            ):
                raise _refuse(
                    "a divorce can be withdrawn only within its cooling-off period",
                    "NOT_COOLING_OFF",
                )
            row = await records.set_divorce(
                conn, receipt, state="DIVORCE_STATE_WITHDRAWN", ended_at=self.clock()
            )
            await self.cases.move(
                conn, receipt, dpb.CASE_STATE_WITHDRAWN, "withdrawn by a party", "withdrawn"
            )
            return _as_proto(row)

    async def sweep(self) -> int:
        """Lapses every divorce whose confirmation period has ended; returns how many."""
        lapsed = 0
        async with self.pool.acquire() as conn:
            for row in await records.pending_divorces(conn):
                if cooling_off.phase(row["filed_at"], self.clock()) is cooling_off.Phase.LAPSED:
                    async with conn.transaction():
                        locked = await records.divorce(conn, row["receipt"], lock=True)
                        if locked is not None and locked["state"] == row["state"]:
                            with telemetry.bound_receipt(row["receipt"]):
                                await self._lapse(conn, locked)
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
        for i, number in enumerate(request.id_numbers):
            try:
                keys.append(person_key(identity.validate(number)))
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
                divorce=await self.divorces.confirm(request.receipt, request.id_number)
            )

    async def WithdrawDivorce(
        self, request: pb.WithdrawDivorceRequest, context: grpc.aio.ServicerContext
    ) -> pb.WithdrawDivorceResponse:
        with telemetry.bound_receipt(request.receipt):
            return pb.WithdrawDivorceResponse(
                divorce=await self.divorces.withdraw(request.receipt, request.id_number)
            )
