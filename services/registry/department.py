"""Registry and social affairs (社会事务): marriage, divorce, and death registration."""

from __future__ import annotations

import datetime as dt

import asyncpg
import grpc

from onedoor.case.v1 import case_pb2
from onedoor.department.v1 import department_service_pb2 as pb
from onedoor.registry.v1 import registry_service_pb2, registry_service_pb2_grpc
from services.common.clock import BureauClock
from services.common.department.rules import Department, Opening, Problem, StoredCase, fact
from services.common.department.store import DepartmentCases
from services.common.errors import ApiError
from services.common.grpc_server import Registration
from services.common.keyed_hash import person_key
from services.common.legal_calendar import LegalCalendar
from services.common.texts import Code, date, text
from services.registry import cooling_off, marriage, records
from services.registry.divorces import Divorces, RegistryServicer

# 惠民殡葬: basic funeral services free of charge for every resident.


class RegistryDepartment(Department):
    name = "registry"

    def __init__(self, pool: asyncpg.Pool, clock: BureauClock, calendar: LegalCalendar) -> None:
        super().__init__(clock)
        self.divorces = Divorces(pool, DepartmentCases(pool, self.name), clock, calendar)

    async def check(self, conn: asyncpg.Connection, case: case_pb2.Case) -> list[Problem]:
        if case.matter_code == "registry.death":
            died = person_key(case.details.death.deceased_id_number)
            if await records.deceased_among(conn, [died]):
                return [
                    Problem("details.death.deceased_id_number", "the death is already registered")
                ]
            return []
        applicant = person_key(case.applicant.id_number)
        other = person_key(case.details.other_party.id_number)
        if case.matter_code == "registry.marriage":
            found = marriage.problems(
                case.applicant.id_number, case.details.other_party.id_number, self.clock.today()
            )
            for field, key in (
                ("applicant.id_number", applicant),
                ("details.other_party.id_number", other),
            ):
                if await records.current_marriage(conn, key):
                    found.append(Problem(field, "is married according to the registry's records"))
            return found
        # registry.divorce
        current = await records.current_marriage(conn, applicant)
        if current is None or other not in (current["key_a"], current["key_b"]):
            return [
                Problem(
                    "details.other_party.id_number",
                    "is not married to the applicant in the registry's records",
                )
            ]
        if await records.divorce_pending_for(conn, current["id"]):
            return [
                Problem(
                    "details.other_party.id_number",
                    "a divorce application for this marriage is pending",
                )
            ]
        return []

    async def open(self, conn: asyncpg.Connection, case: case_pb2.Case) -> Opening:
        problems = await self.check(conn, case)
        if problems:
            return Opening(pb.Assessment(eligible=False, findings=[p.as_text() for p in problems]))
        if case.matter_code == "registry.death":
            death = case.details.death
            await records.record_death(
                conn,
                person_key(death.deceased_id_number),
                case.receipt,
                dt.date.fromisoformat(death.date_of_death),
            )
            return Opening(
                pb.Assessment(eligible=True, findings=[text(Code.TEXT_CODE_DEATH_RECORDED)])
            )
        if case.matter_code == "registry.divorce":
            filed = case.create_time.ToDatetime(dt.UTC)
            current = await records.current_marriage(conn, person_key(case.applicant.id_number))
            assert current is not None
            await records.file_divorce(
                conn, case.receipt, current["id"], current["key_a"], current["key_b"], filed
            )
            # The bureau's local dates, as intake reckons the case's deadline (K below).
            divorce = cooling_off.periods_of(filed, self.clock, self.divorces.calendar)
            return Opening(
                pb.Assessment(
                    eligible=True,
                    findings=cooling_off.opening_texts(divorce),
                    facts=[
                        fact("filed_on", divorce.filed_on.isoformat(), date(divorce.filed_on)),
                        fact(
                            "cooling_off_last_day",
                            divorce.cooling_off_last_day.isoformat(),
                            date(divorce.cooling_off_last_day),
                        ),
                        fact(
                            "confirmation_last_day",
                            divorce.confirmation_last_day.isoformat(),
                            date(divorce.confirmation_last_day),
                        ),
                        *(
                            [
                                fact(
                                    "provisional_years",
                                    ",".join(map(str, divorce.provisional_years)),
                                )
                            ]
                            if divorce.provisional
                            else []
                        ),
                    ],
                )
            )
        return Opening(pb.Assessment(eligible=True, findings=[text(Code.TEXT_CODE_FREE_TO_MARRY)]))

    async def decided(
        self, conn: asyncpg.Connection, stored: StoredCase, decision: pb.Decision.ValueType
    ) -> list[pb.Fact]:
        if decision != pb.DECISION_APPROVE:
            return []
        case = stored.application
        if case.matter_code == "registry.divorce":
            raise ApiError(
                grpc.StatusCode.FAILED_PRECONDITION,
                "a divorce is registered when both parties confirm after the cooling-off period",
                reason="DIVORCE_NEEDS_CONFIRMATION",
            )
        if case.matter_code == "registry.marriage":
            a, b = (
                person_key(case.applicant.id_number),
                person_key(case.details.other_party.id_number),
            )
            if await records.current_marriage(conn, a) or await records.current_marriage(conn, b):
                raise ApiError(
                    grpc.StatusCode.FAILED_PRECONDITION,
                    "a party married since the application was accepted",
                    reason="ALREADY_MARRIED",
                )
            await records.register_marriage(conn, a, b, case.receipt)
        return []

    async def settle_death(
        self, conn: asyncpg.Connection, person_key: str, date_of_death: dt.date
    ) -> tuple[bool, list[case_pb2.Text]]:
        return True, [text(Code.TEXT_CODE_FUNERAL_SUBSIDY_GRANTED)]

    def extra_registrations(self) -> list[Registration]:
        return [
            Registration(
                registry_service_pb2_grpc.add_RegistryServiceServicer_to_server,
                RegistryServicer(self.divorces),
                registry_service_pb2.DESCRIPTOR.services_by_name["RegistryService"].full_name,
            )
        ]
