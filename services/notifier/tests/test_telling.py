"""The send records tell an acceptance from the contacts its event carries, without asking
intake; an event without them (written before they travelled with it) still asks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from onedoor.case.v1 import case_pb2
from onedoor.events.v1 import events_pb2
from onedoor.intake.v1 import intake_service_pb2
from onedoor.notifier.v1 import send_records_service_pb2 as pb
from services.common import legal_calendar
from services.common.clock import BureauClock
from services.notifier.records.telling import Rules, Telling

RULES = Rules(BureauClock(), legal_calendar.load(), dt.time(9, 0))


class Records:
    def __init__(self) -> None:
        self.recorded: list[pb.Notice] = []

    async def record(self, notices: Sequence[pb.Notice], now: dt.datetime, due: dt.datetime) -> int:
        self.recorded.extend(notices)
        return len(notices)


class Intake:
    def __init__(self, contacts: case_pb2.Case) -> None:
        self.contacts = contacts
        self.asked: list[str] = []

    async def GetCase(self, request: intake_service_pb2.GetCaseRequest, **_: Any) -> Any:
        assert request.view == intake_service_pb2.CASE_VIEW_CONTACTS
        self.asked.append(request.receipt)
        return intake_service_pb2.GetCaseResponse(case=self.contacts)


def contacts() -> case_pb2.Case:
    case = case_pb2.Case(receipt="320585-288FB-8RAEW", matter_code="assistance.dibao")
    case.applicant.phone = "sealed:v1:applicant"
    case.create_time.FromDatetime(dt.datetime(2026, 12, 2, 1, 30, tzinfo=dt.UTC))
    case.decision_deadline.FromDatetime(dt.datetime(2027, 1, 13, 15, 59, 59, tzinfo=dt.UTC))
    return case


async def test_an_acceptance_is_told_from_the_contacts_its_event_carries() -> None:
    intake, records = Intake(contacts()), Records()
    telling = Telling(intake, records, RULES)  # type: ignore[arg-type]
    event = events_pb2.CaseAccepted(receipt="320585-288FB-8RAEW", contacts=contacts())
    assert await telling.tell(event) == 1
    assert intake.asked == []
    [notice] = records.recorded
    assert (notice.receipt, notice.sealed_phone) == ("320585-288FB-8RAEW", "sealed:v1:applicant")
    assert notice.args["deadline"] == "2027-01-13"


async def test_an_acceptance_written_without_contacts_asks_intake_for_them() -> None:
    intake, records = Intake(contacts()), Records()
    telling = Telling(intake, records, RULES)  # type: ignore[arg-type]
    assert await telling.tell(events_pb2.CaseAccepted(receipt="320585-288FB-8RAEW")) == 1
    assert intake.asked == ["320585-288FB-8RAEW"]
    assert [n.sealed_phone for n in records.recorded] == ["sealed:v1:applicant"]
