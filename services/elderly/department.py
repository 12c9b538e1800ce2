"""Elderly care (养老服务): senior cards, age allowances, home-care orders, renovations."""

from __future__ import annotations

import datetime as dt

import asyncpg

from onedoor.case.v1 import case_pb2
from onedoor.department.v1 import department_service_pb2 as pb
from onedoor.department.v1 import known_persons_pb2
from services.common import identity, texts
from services.common.clock import BureauClock
from services.common.department.rules import Department, Opening, Problem, StoredCase, fact
from services.common.keyed_hash import person_key
from services.common.texts import Code, code, count, text
from services.elderly import known_persons
from services.elderly.allowance import SENIOR_AGE, AllowanceTable

CARE_SERVICES = ("meals", "cleaning", "bathing", "nursing", "companionship")
MAX_CARE_HOURS = 120


class ElderlyDepartment(Department):
    name = "elderly"
    holds_persons_cases = True

    def __init__(self, clock: BureauClock, allowances: AllowanceTable) -> None:
        super().__init__(clock)
        self.allowances = allowances

    async def check(self, conn: asyncpg.Connection, case: case_pb2.Case) -> list[Problem]:
        key = person_key(case.applicant.id_number)
        problems = []
        if case.matter_code == "elderly.senior_card" and await conn.fetchval(
            "SELECT 1 FROM senior_cards WHERE person_key = $1 AND cancelled_at IS NULL", key
        ):
            problems.append(Problem("applicant", "already holds a senior card"))
        if case.matter_code == "elderly.age_allowance" and await conn.fetchval(
            "SELECT 1 FROM age_allowances WHERE person_key = $1 AND stopped_at IS NULL", key
        ):
            problems.append(Problem("applicant", "already receives the age allowance"))
        if case.matter_code == "elderly.home_care":
            care = case.details.care
            if care.service not in CARE_SERVICES:
                problems.append(
                    Problem("details.care.service", f"must be one of {', '.join(CARE_SERVICES)}")
                )
            if not 1 <= care.hours_per_month <= MAX_CARE_HOURS:
                problems.append(
                    Problem("details.care.hours_per_month", f"must be 1 to {MAX_CARE_HOURS}")
                )
        return problems

    async def open(self, conn: asyncpg.Connection, case: case_pb2.Case) -> Opening:
        age = identity.age_on(case.applicant.id_number, self.clock.today())
        division = case.applicant.hukou_division
        facts = [fact("age", age, count(age))]
        if case.matter_code == "elderly.age_allowance":
            band = self.allowances.band_of(age, division)
            if band is None:
                return Opening(
                    pb.Assessment(
                        eligible=False,
                        findings=[text(Code.TEXT_CODE_BELOW_FIRST_BAND, age=count(age))],
                        facts=facts,
                    )
                )
            amount = self.allowances.amount_fen(band, division)
            return Opening(
                pb.Assessment(
                    eligible=True,
                    findings=[
                        text(
                            Code.TEXT_CODE_ALLOWANCE_BAND,
                            age=count(age),
                            band=code(band.label),
                            amount=texts.amount(amount),
                        )
                    ],
                    facts=[*facts, fact("band", band.label, code(band.label))],
                    amount_fen=amount,
                )
            )
        eligible = age >= SENIOR_AGE
        said = {
            "elderly.senior_card": (
                Code.TEXT_CODE_SENIOR_CARD_ELIGIBLE,
                Code.TEXT_CODE_SENIOR_CARD_UNDER_AGE,
            ),
            "elderly.home_care": (
                Code.TEXT_CODE_HOME_CARE_ELIGIBLE,
                Code.TEXT_CODE_HOME_CARE_UNDER_AGE,
            ),
            "elderly.renovation": (
                Code.TEXT_CODE_RENOVATION_ELIGIBLE,
                Code.TEXT_CODE_RENOVATION_UNDER_AGE,
            ),
        }[case.matter_code][0 if eligible else 1]
        args = {"age": count(age)}
        if not eligible:
            args["minimum"] = count(SENIOR_AGE)
        if case.matter_code == "elderly.home_care":
            args["hours"] = count(case.details.care.hours_per_month)
            args["service"] = texts.care_service(case.details.care.service)
        return Opening(pb.Assessment(eligible=eligible, findings=[text(said, **args)], facts=facts))

    async def decided(
        self, conn: asyncpg.Connection, stored: StoredCase, decision: pb.Decision.ValueType
    ) -> list[pb.Fact]:
        if decision != pb.DECISION_APPROVE:
            return []
        case = stored.application
        key = person_key(case.applicant.id_number)
        if case.matter_code == "elderly.senior_card":
            await conn.execute(
                """INSERT INTO senior_cards (person_key, card_number, receipt) VALUES ($1, $2, $3)
                   ON CONFLICT (person_key) DO UPDATE
                      SET card_number = EXCLUDED.card_number, receipt = EXCLUDED.receipt,
                          issued_at = now(), cancelled_at = NULL""",
                key,
                f"SC{case.applicant.hukou_division}{case.receipt[-5:]}",
                case.receipt,
            )
        elif case.matter_code == "elderly.age_allowance":
            assessment = stored.record.assessment
            band = next((f.value for f in assessment.facts if f.name == "band"), "")
            await conn.execute(
                """INSERT INTO age_allowances (person_key, receipt, band, amount_fen) VALUES ($1, $2, $3, $4)
                   ON CONFLICT (person_key) DO UPDATE
                      SET receipt = EXCLUDED.receipt, band = EXCLUDED.band,
                          amount_fen = EXCLUDED.amount_fen, started_at = now(), stopped_at = NULL""",
                key,
                case.receipt,
                band,
                assessment.amount_fen,
            )
        elif case.matter_code == "elderly.home_care":
            await conn.execute(
                """INSERT INTO care_orders (receipt, person_key, service, hours_per_month)
                   VALUES ($1, $2, $3, $4) ON CONFLICT (receipt) DO NOTHING""",
                case.receipt,
                key,
                case.details.care.service,
                case.details.care.hours_per_month,
            )
        elif case.matter_code == "elderly.renovation":
            await conn.execute(
                "INSERT INTO renovations (receipt, person_key) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                case.receipt,
                key,
            )
        return []

    async def settle_death(
        self, conn: asyncpg.Connection, person_key: str, date_of_death: dt.date
    ) -> tuple[bool, list[case_pb2.Text]]:
        done = []
        if await conn.fetchval(
            """UPDATE senior_cards SET cancelled_at = now()
                WHERE person_key = $1 AND cancelled_at IS NULL RETURNING 1""",
            person_key,
        ):
            done.append(text(Code.TEXT_CODE_SENIOR_CARD_CANCELLED))
        if await conn.fetchval(
            """UPDATE age_allowances SET stopped_at = now()
                WHERE person_key = $1 AND stopped_at IS NULL RETURNING 1""",
            person_key,
        ):
            done.append(text(Code.TEXT_CODE_AGE_ALLOWANCE_STOPPED, date=texts.date(date_of_death)))
        orders = await conn.fetch(
            """UPDATE care_orders SET cancelled_at = now()
                WHERE person_key = $1 AND cancelled_at IS NULL RETURNING receipt""",
            person_key,
        )
        if orders:
            done.append(text(Code.TEXT_CODE_CARE_ORDERS_CANCELLED, orders=count(len(orders))))
        if not done:
            return False, [text(Code.TEXT_CODE_NOTHING_TO_DO)]
        return True, done

    async def known(
        self, conn: asyncpg.Connection, person_keys: list[str]
    ) -> known_persons_pb2.LookupPersonsResponse:
        return await known_persons.known(conn, person_keys)
