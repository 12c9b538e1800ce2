"""What an event tells people, recorded: the case's contacts (phones sealed, preferences),
carried by case_accepted or else asked from intake, the notices the rules call for
(services.notifier.notices), and each kept once in the send records, whatever the
deliveries. The notifier sends them later, from
these records (services.notifier.sending).

Here, beside the records, rather than in the notifier: nameko-grpc's pure-Python HTTP/2
cost the notifier about 2 ms of CPU per call, two calls per event (issue 19)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from google.protobuf.message import Message

from onedoor.case.v1 import case_pb2
from onedoor.events.v1 import events_pb2
from onedoor.intake.v1 import intake_service_pb2, intake_service_pb2_grpc
from onedoor.notifier.v1 import send_records_service_pb2 as pb
from services.common import auth
from services.common.clock import BureauClock
from services.common.legal_calendar import LegalCalendar
from services.common.timestamps import to_timestamp
from services.notifier import notices, sending
from services.notifier.records.store import SendRecordsStore

log = logging.getLogger(__name__)

CALL_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Rules:
    clock: BureauClock
    calendar: LegalCalendar
    # When a dated notice (the divorce calendar) is due on its day, bureau time.
    morning: dt.time


def wire(notice: notices.Notice) -> pb.Notice:
    return pb.Notice(
        receipt=notice.receipt,
        notice_key=notice.key,
        recipient=notice.contact.recipient.value,
        event=notice.event.value,
        matter_code=notice.matter,
        language=notice.contact.language,
        sealed_phone=notice.contact.sealed_phone,
        args=dict(notice.args),
        opted_out=notice.contact.opted_out,
        due_time=to_timestamp(notice.due) if notice.due else None,
    )


class Telling:
    def __init__(
        self,
        intake: intake_service_pb2_grpc.IntakeServiceStub,
        store: SendRecordsStore,
        rules: Rules,
    ) -> None:
        self.intake = intake
        self.store = store
        self.rules = rules

    async def _contacts(self, receipt: str) -> case_pb2.Case:
        # wait_for_ready: intake restarting is waited for within the deadline; past it, the
        # event goes back to its queue.
        answer = await self.intake.GetCase(
            intake_service_pb2.GetCaseRequest(
                receipt=receipt, view=intake_service_pb2.CASE_VIEW_CONTACTS
            ),
            metadata=auth.service_metadata(),
            timeout=CALL_TIMEOUT_SECONDS,
            wait_for_ready=True,
        )
        return answer.case

    def _found(self, event: Message, case: case_pb2.Case) -> list[notices.Notice]:
        clock, calendar = self.rules.clock, self.rules.calendar
        if isinstance(event, events_pb2.CaseAccepted):
            return notices.accepted(case, clock, calendar, self.rules.morning, event.proactive)
        if isinstance(event, events_pb2.CaseProgressed):
            return notices.progressed(event, case, clock, calendar)
        if isinstance(event, events_pb2.CaseDecided):
            return notices.decided(event, case, clock, calendar)
        raise TypeError(f"no notices for a {event.DESCRIPTOR.full_name}")

    async def tell(
        self, event: events_pb2.CaseAccepted | events_pb2.CaseProgressed | events_pb2.CaseDecided
    ) -> int:
        """Records the notices ``event`` calls for; returns how many were new (none for a
        redelivered event). Raises grpc.aio.AioRpcError when intake does not answer."""
        case = (
            # Carried by the event since it was written with it: intake is not asked.
            event.contacts
            if isinstance(event, events_pb2.CaseAccepted) and event.HasField("contacts")
            else await self._contacts(event.receipt)
        )
        found = self._found(event, case)
        if not found:
            return 0
        clock = self.rules.clock
        new = await self.store.record([wire(n) for n in found], clock.now(), sending.due_now(clock))
        sending.counted_opt_outs(found, new)
        if new:
            log.info("recorded %d message(s)", new)
        return new
