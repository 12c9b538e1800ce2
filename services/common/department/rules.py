"""The interface between the shared officer workflow and one department's rules and records."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import asyncpg

from onedoor.case.v1 import case_pb2
from onedoor.department.v1 import department_service_pb2 as pb
from services.common.clock import BureauClock
from services.common.grpc_server import Registration


@dataclass(frozen=True)
class Problem:
    """Something the department's records or rules forbid, found at the window."""

    field: str
    description: str


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


def fact(name: str, value: object) -> pb.Fact:
    return pb.Fact(name=name, value=str(value))


class Department:
    """One department's rules and records. The servicer calls each rule on the connection of
    the transaction that changes the case, so a record the rule writes commits (or not) with
    the case change that caused it; the rule answers, and the servicer writes the case."""

    name: str = ""

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
    ) -> tuple[bool, str]:
        """Stops what the department holds for a deceased person; (held something, outcome)."""
        return False, "nothing to do: no records for the person"

    def extra_registrations(self) -> list[Registration]:
        """Department-specific gRPC services served beside DepartmentService."""
        return []
