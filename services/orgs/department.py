"""Social organisations (社会组织): registration, annual reports and deregistration."""

from __future__ import annotations

import asyncpg

from onedoor.case.v1 import case_pb2
from onedoor.department.v1 import department_service_pb2 as pb
from services.common.department.rules import Department, Opening, Problem, StoredCase, fact
from services.common.department.store import open_applications
from services.common.texts import Code, code, text
from services.orgs import registration


class OrgsDepartment(Department):
    name = "orgs"

    async def _name_taken(self, conn: asyncpg.Connection, case: case_pb2.Case) -> bool:
        # Taken by a registered organisation, or by another application still being decided.
        name = registration.normalized_name(case.details.organisation.name)
        division = case.accepting_division
        registered = await conn.fetchval(
            """SELECT 1 FROM organisations
                WHERE division = $1 AND normalized_name = $2 AND deregistered_at IS NULL""",
            division,
            name,
        )
        pending = await open_applications(conn, "orgs.register", division, case.receipt)
        return bool(registered) or any(
            registration.normalized_name(p.details.organisation.name) == name for p in pending
        )

    async def _active(self, conn: asyncpg.Connection, credit_code: str) -> asyncpg.Record | None:
        return await conn.fetchrow(
            "SELECT * FROM organisations WHERE credit_code = $1 AND deregistered_at IS NULL",
            credit_code,
        )

    async def check(self, conn: asyncpg.Connection, case: case_pb2.Case) -> list[Problem]:
        organisation = case.details.organisation
        if case.matter_code == "orgs.register":
            found = registration.problems(organisation)
            if await self._name_taken(conn, case):
                found.append(
                    Problem(
                        "details.organisation.name",
                        "is already registered or applied for in this jurisdiction",
                    )
                )
            return found
        if await self._active(conn, organisation.credit_code) is None:
            return [
                Problem(
                    "details.organisation.credit_code",
                    "is not a registered organisation of this bureau",
                )
            ]
        if case.matter_code == "orgs.annual_report":
            year = organisation.report_year
            if not 2000 <= year <= self.clock.today().year:
                return [
                    Problem(
                        "details.organisation.report_year", "must be a past or the current year"
                    )
                ]
            if await conn.fetchval(
                "SELECT 1 FROM annual_reports WHERE credit_code = $1 AND year = $2",
                organisation.credit_code,
                year,
            ):
                return [
                    Problem(
                        "details.organisation.report_year",
                        "the report for this year is already filed",
                    )
                ]
        return []

    async def open(self, conn: asyncpg.Connection, case: case_pb2.Case) -> Opening:
        problems = await self.check(conn, case)
        organisation = case.details.organisation
        facts = [fact("kind", case_pb2.OrganisationKind.Name(organisation.kind))]
        findings = (
            [p.as_text() for p in problems]
            if problems
            else [
                {
                    "orgs.register": text(Code.TEXT_CODE_ORG_NAME_FREE),
                    "orgs.annual_report": text(
                        Code.TEXT_CODE_ORG_ANNUAL_REPORT, year=code(organisation.report_year)
                    ),
                    "orgs.deregister": text(Code.TEXT_CODE_ORG_DEREGISTRATION),
                }[case.matter_code]
            ]
        )
        return Opening(pb.Assessment(eligible=not problems, findings=findings, facts=facts))

    async def decided(
        self, conn: asyncpg.Connection, stored: StoredCase, decision: pb.Decision.ValueType
    ) -> list[pb.Fact]:
        if decision != pb.DECISION_APPROVE:
            return []
        case = stored.application
        organisation = case.details.organisation
        if case.matter_code == "orgs.register":
            code = registration.assign_credit_code(
                organisation.kind, case.accepting_division, case.receipt
            )
            await conn.execute(
                """INSERT INTO organisations (credit_code, name, normalized_name, kind, division, receipt)
                   VALUES ($1, $2, $3, $4, $5, $6)""",
                code,
                organisation.name.strip(),
                registration.normalized_name(organisation.name),
                case_pb2.OrganisationKind.Name(organisation.kind),
                case.accepting_division,
                case.receipt,
            )
            return [fact("credit_code", code)]
        elif case.matter_code == "orgs.annual_report":
            await conn.execute(
                "INSERT INTO annual_reports (credit_code, year, receipt) VALUES ($1, $2, $3)",
                organisation.credit_code,
                organisation.report_year,
                case.receipt,
            )
        elif case.matter_code == "orgs.deregister":
            await conn.execute(
                "UPDATE organisations SET deregistered_at = now() WHERE credit_code = $1",
                organisation.credit_code,
            )
        return []
