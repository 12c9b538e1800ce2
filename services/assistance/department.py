"""Social assistance (社会救助): its matters, household files and economic-status checks."""

from __future__ import annotations

import datetime as dt

import asyncpg

from onedoor.case.v1 import case_pb2
from onedoor.department.v1 import department_service_pb2 as pb
from onedoor.department.v1 import known_persons_pb2
from services.assistance import economic_check, eligibility, household_files, known_persons
from services.assistance.standards import Standards
from services.common.clock import BureauClock
from services.common.department.rules import Department, Opening, StoredCase
from services.common.keyed_hash import person_key
from services.common.texts import Code, count, text
from services.common.timestamps import to_timestamp

# Matters whose benefit is paid every month (temporary assistance is paid once).
RECURRING = {
    "assistance.dibao",
    "assistance.hardship",
    "assistance.disability_subsidy",
}


class AssistanceDepartment(Department):
    name = "assistance"
    # A household's elders too: the age allowance is theirs whoever applied for the dibao.
    holds_persons_cases = True

    def __init__(
        self, clock: BureauClock, standards: Standards, assets: economic_check.AssetRecords
    ) -> None:
        super().__init__(clock)
        self.standards = standards
        self.assets = assets

    def _economic_check(self, case: case_pb2.Case, kind: str) -> pb.EconomicCheck:
        now = self.clock.now()
        gap = economic_check.consent_gap(case, now)
        if gap:
            return pb.EconomicCheck(performed=False, message=gap)
        members = len(case.household_members)
        standard = self.standards.for_division(case.applicant.hukou_division)
        limit = standard.fen_per_person * economic_check.ASSET_LIMIT_MONTHS[kind] * members
        assets = self.assets.assets_fen([m.id_number for m in case.household_members])
        return pb.EconomicCheck(
            performed=True,
            assets_fen=assets,
            limit_fen=limit,
            within_limit=assets <= limit,
            source=self.assets.source,
            check_time=to_timestamp(now),
            message=text(Code.TEXT_CODE_CONSENT_COVERS_MEMBERS, members=count(members)),
        )

    async def open(self, conn: asyncpg.Connection, case: case_pb2.Case) -> Opening:
        keys = [person_key(m.id_number) for m in case.household_members]
        file_id = await household_files.file_for(conn, keys)
        division = case.applicant.hukou_division
        standard = self.standards.for_division(division)
        incomes = [m.monthly_income_fen for m in case.household_members]
        matter = case.matter_code
        if matter == "assistance.dibao":
            assessment = eligibility.assess_dibao(
                incomes, standard, self._economic_check(case, "dibao")
            )
        elif matter == "assistance.hardship":
            assessment = eligibility.assess_hardship(
                incomes, standard, case.details.hardship, self._economic_check(case, "hardship")
            )
        elif matter == "assistance.low_income":
            assessment = eligibility.assess_low_income(
                incomes, standard, self._economic_check(case, "low_income")
            )
        elif matter == "assistance.temporary":
            assessment = eligibility.assess_temporary(
                case.details.requested_amount_fen, len(incomes), standard
            )
        elif matter == "assistance.disability_subsidy":
            assessment = eligibility.assess_disability(
                case.details.disability.grade,
                await household_files.on_dibao(conn, file_id),
                self.standards.lookup("disability_living", division),
                self.standards.lookup("disability_care", division),
            )
        else:
            raise ValueError(f"assistance does not decide {matter}")
        return Opening(assessment, household_file=file_id)

    async def decided(
        self, conn: asyncpg.Connection, stored: StoredCase, decision: pb.Decision.ValueType
    ) -> list[pb.Fact]:
        if decision != pb.DECISION_APPROVE:
            return []
        case = stored.application
        await household_files.grant(
            conn,
            case.receipt,
            stored.record.household_file,
            case.matter_code,
            person_key(case.applicant.id_number),
            stored.record.assessment.amount_fen,
            case.matter_code in RECURRING,
        )
        return []

    async def settle_death(
        self, conn: asyncpg.Connection, person_key: str, date_of_death: dt.date
    ) -> tuple[bool, list[case_pb2.Text]]:
        return await household_files.record_death(conn, person_key, date_of_death)

    async def known(
        self, conn: asyncpg.Connection, person_keys: list[str]
    ) -> known_persons_pb2.LookupPersonsResponse:
        return await known_persons.known(conn, person_keys, self.clock.zone)

    async def identified_households(
        self, conn: asyncpg.Connection, size: int, after: str
    ) -> tuple[list[known_persons_pb2.HouseholdFile], str]:
        return await known_persons.identified_households(conn, size, after, self.clock.zone)
