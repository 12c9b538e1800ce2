"""The interface between the shared officer workflow and one department's rules and records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from onedoor.case.v1 import case_pb2
from onedoor.department.v1 import department_service_pb2 as pb
from onedoor.department.v1 import known_persons_pb2
from services.common import texts
from services.common.clock import BureauClock
from services.common.department import turning
from services.common.grpc_server import Registration


@dataclass(frozen=True)
class Problem:
    """Something the department's records or rules forbid, found at the window."""

    field: str
    description: str

    def as_text(self) -> case_pb2.Text:
        """The problem in an assessment (found again when the case opens): the field path, a
        code; the description is the window's error message, not a text for the case."""
        return texts.text(texts.Code.TEXT_CODE_OPENING_PROBLEM, field=texts.code(self.field))


@dataclass(frozen=True)
class Opening:
    """What opening a case produced: the assessment, and the household file it joined."""

    assessment: pb.Assessment
    household_file: str = ""


@dataclass(frozen=True)
class StoredCase:
    """A department case as the store holds it: the department's record of it (state,
    assessment, household file) and the application the window accepted."""

    record: pb.DepartmentCase
    application: case_pb2.Case


# The facts' stable names: the gateway's catalogs label each one in every language.
FACT_NAMES = (
    "age",
    "band",
    "cap_yuan",
    "confirmation_last_day",
    "cooling_off_last_day",
    "credit_code",
    "disability_grade",
    "filed_on",
    "has_legal_supporter",
    "household_on_dibao",
    "kind",
    "per_capita_income_yuan",
    "provisional_years",
    "requested_yuan",
    "standard_division",
    "standard_yuan",
    "unable_to_work",
)


def fact(name: str, value: object, typed: case_pb2.TextArg | None = None) -> pb.Fact:
    """A fact under its stable name, with its value as text (what older readers show) and
    typed, so that it renders in each language."""
    if name not in FACT_NAMES:
        raise ValueError(f"fact {name!r} is not in FACT_NAMES (and the gateway's catalogs)")
    if typed is None:
        typed = texts.flag(value) if isinstance(value, bool) else texts.code(value)
    return pb.Fact(name=name, value=str(value), typed=typed)


class Department:
    """One department's rules and records. The servicer calls each rule on the connection of
    the transaction that changes the case, so a record the rule writes commits (or not) with
    the case change that caused it; the rule answers, and the servicer writes the case."""

    name: str = ""
    # Whether its cases name the persons the daily sweep's age milestones ask about (those
    # who receive something for themselves: assistance's households, elderly care's seniors).
    holds_persons_cases: bool = False

    def __init__(self, clock: BureauClock) -> None:
        # Every date a department reasons about is the bureau's (an age, a report year).
        self.clock = clock

    async def check(self, conn: asyncpg.Connection, case: case_pb2.Case) -> list[Problem]:
        """The department's checks against its own records, at the window."""
        return []

    async def open(self, conn: asyncpg.Connection, case: case_pb2.Case) -> Opening:
        """Assesses a newly accepted case (and records what opening it means)."""
        raise NotImplementedError

    async def decided(
        self, conn: asyncpg.Connection, case: StoredCase, decision: pb.Decision.ValueType
    ) -> list[pb.Fact]:
        """What an officer's decision does to the department's records (a marriage registered,
        a card issued); returns the facts it established, for the case's assessment."""
        return []

    async def settle_death(
        self, conn: asyncpg.Connection, person_key: str, date_of_death: dt.date
    ) -> tuple[bool, list[case_pb2.Text]]:
        """Stops what the department holds for a deceased person; (held something, outcome)."""
        return False, [texts.text(texts.Code.TEXT_CODE_NOTHING_TO_DO)]

    async def known(
        self, conn: asyncpg.Connection, person_keys: list[str]
    ) -> known_persons_pb2.LookupPersonsResponse:
        """What the department knows of these persons (KnownPersonsService): nothing, unless
        it holds something for people."""
        return known_persons_pb2.LookupPersonsResponse()

    async def identified_households(
        self, conn: asyncpg.Connection, size: int, after: str
    ) -> tuple[list[known_persons_pb2.HouseholdFile], str]:
        """A page of the household files identified here, by file id after ``after``, and the
        last id shown when there may be more (KnownPersonsService): none, unless the
        department keeps household files."""
        return [], ""

    async def persons_turning(
        self,
        conn: asyncpg.Connection,
        ages: Sequence[int],
        first: dt.date,
        last: dt.date,
        size: int,
        after: str,
    ) -> tuple[list[known_persons_pb2.PersonTurning], str]:
        """A page of the persons known here who reach one of ``ages`` on a day from ``first``
        to ``last``, by person key after ``after``, and the last key shown when there may be
        more (KnownPersonsService): none, unless the department holds persons' cases, whose
        applicants and household members are then asked about (turning.turning)."""
        if not self.holds_persons_cases:
            return [], ""
        return await turning.turning(conn, ages, first, last, size, after)

    def extra_registrations(self) -> list[Registration]:
        """Department-specific gRPC services served beside DepartmentService."""
        return []
