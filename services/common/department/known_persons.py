"""KnownPersonsService, served by every department beside DepartmentService: what the
department knows of persons named by keyed hashes, answered from its own tables through the
department's :meth:`~services.common.department.rules.Department.known` (the ingest service
matches other agencies' records with it, a batch at a time)."""

from __future__ import annotations

import base64
import datetime as dt

import grpc

from onedoor.department.v1 import known_persons_pb2 as pb
from onedoor.department.v1 import known_persons_pb2_grpc
from services.common import pagination
from services.common.department.rules import Department
from services.common.department.store import DepartmentCases
from services.common.errors import ApiError, FieldViolation, invalid_argument

# Keys per call: a batch of records is looked up a chunk at a time, never one call per record.
MAX_KEYS = 1000
# The ages asked at once and the longest range of days (a year: a sweep catching up).
MAX_AGES = 10
MAX_AGE = 150
MAX_RANGE_DAYS = 366
_KEY_LENGTH = 64

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["KnownPersonsService"].full_name


def check_keys(keys: list[str]) -> list[str]:
    if len(keys) > MAX_KEYS:
        raise invalid_argument([FieldViolation("person_keys", f"at most {MAX_KEYS} per call")])
    bad = [
        FieldViolation(f"person_keys[{i}]", "must be a keyed hash: 64 lowercase hex digits")
        for i, key in enumerate(keys)
        if len(key) != _KEY_LENGTH or any(c not in "0123456789abcdef" for c in key)
    ]
    if bad:
        raise invalid_argument(bad[:10])
    return list(dict.fromkeys(keys))


class KnownPersonsServicer(known_persons_pb2_grpc.KnownPersonsServiceServicer):
    def __init__(self, department: Department, cases: DepartmentCases) -> None:
        self.department = department
        self.cases = cases

    async def LookupPersons(
        self, request: pb.LookupPersonsRequest, context: grpc.aio.ServicerContext
    ) -> pb.LookupPersonsResponse:
        try:
            keys = check_keys(list(request.person_keys))
        except ApiError as error:
            status = error.to_grpc_status()
            await context.abort(status.code, status.details, status.trailing_metadata)
        if not keys:
            return pb.LookupPersonsResponse()
        async with self.cases.connection() as conn:
            return await self.department.known(conn, keys)

    async def ListIdentifiedHouseholds(
        self, request: pb.ListIdentifiedHouseholdsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListIdentifiedHouseholdsResponse:
        try:
            size = pagination.page_size(request.page_size)
            after = _file_after(request.page_token)
        except ApiError as error:
            status = error.to_grpc_status()
            await context.abort(status.code, status.details, status.trailing_metadata)
        async with self.cases.connection() as conn:
            files, last = await self.department.identified_households(conn, size, after)
        token = base64.urlsafe_b64encode(last.encode()).decode() if last else ""
        return pb.ListIdentifiedHouseholdsResponse(household_files=files, next_page_token=token)

    async def ListPersonsTurning(
        self, request: pb.ListPersonsTurningRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListPersonsTurningResponse:
        try:
            ages, first, last_day = check_turning(request)
            size = pagination.page_size(request.page_size)
            after = _file_after(request.page_token)
        except ApiError as error:
            status = error.to_grpc_status()
            await context.abort(status.code, status.details, status.trailing_metadata)
        async with self.cases.connection() as conn:
            persons, last = await self.department.persons_turning(
                conn, ages, first, last_day, size, after
            )
        token = base64.urlsafe_b64encode(last.encode()).decode() if last else ""
        return pb.ListPersonsTurningResponse(persons=persons, next_page_token=token)


def check_turning(
    request: pb.ListPersonsTurningRequest,
) -> tuple[tuple[int, ...], dt.date, dt.date]:
    problems = []
    ages = tuple(dict.fromkeys(request.ages))
    if not ages or len(ages) > MAX_AGES or any(not 1 <= a <= MAX_AGE for a in ages):
        problems.append(FieldViolation("ages", f"1 to {MAX_AGES} ages, each from 1 to {MAX_AGE}"))
    days = []
    for name in ("from_date", "to_date"):
        try:
            days.append(dt.date.fromisoformat(getattr(request, name)))
        except ValueError:
            problems.append(FieldViolation(name, "must be an ISO date (YYYY-MM-DD)"))
    if len(days) == 2 and not 0 <= (days[1] - days[0]).days < MAX_RANGE_DAYS:
        problems.append(
            FieldViolation("to_date", f"must be from from_date to {MAX_RANGE_DAYS - 1} days after")
        )
    if problems:
        raise invalid_argument(problems)
    return ages, days[0], days[1]


def _file_after(token: str) -> str:
    if not token:
        return ""
    try:
        after = base64.urlsafe_b64decode(token.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        after = ""
    if not after or len(after) > 64 or not after.isprintable():
        raise invalid_argument([FieldViolation("page_token", "must come from a previous response")])
    return after
