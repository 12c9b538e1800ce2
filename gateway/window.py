"""What every use case of the window works with: the services behind the gateway, the bureau
it serves, its clock and calendar, its peers and its audit trail. The use cases (submission,
lookup, materials, divorce, decisions, audit_entries) take a ``Window`` and a request that
validation has already passed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gateway.audit_trail import AuditTrail
from gateway.backends import Backends
from gateway.peers import PeerDirectory
from onedoor.case.v1 import case_pb2
from onedoor.intake.v1 import intake_service_pb2
from services.common.clock import BureauClock
from services.common.legal_calendar import LegalCalendar

if TYPE_CHECKING:
    from gateway.federation import Federation


class Window:
    def __init__(
        self,
        backends: Backends,
        jurisdiction: str,
        peers: PeerDirectory | None = None,
        federation: Federation | None = None,
        trail: AuditTrail | None = None,
        clock: BureauClock | None = None,
        calendar: LegalCalendar | None = None,
        stuck_after_seconds: float = 900.0,
        bureau_contact: str = "",
    ) -> None:
        self.backends = backends
        # Division code of the bureau this gateway serves; cases record it as accepting.
        self.jurisdiction = jurisdiction
        self.peers = peers
        self.federation = federation
        # One trail per gateway, shared with the federation, so that all its entries batch.
        self.audit = trail or AuditTrail(backends)
        # The bureau's clock and calendar: ages, "not in the future", deadlines shown.
        self.clock = clock or BureauClock()
        self.calendar = calendar or LegalCalendar.with_schedules()
        # A forward held longer than this is stuck: an operator should look.
        self.stuck_after_seconds = stuck_after_seconds
        # The contact line the applicant's receipt prints.
        self.bureau_contact = bureau_contact

    async def case(
        self,
        receipt: str,
        view: intake_service_pb2.CaseView.ValueType = intake_service_pb2.CASE_VIEW_UNSPECIFIED,
    ) -> case_pb2.Case:
        """The case as the ledger holds it (NOT_FOUND if there is none)."""
        found = await self.backends.call(
            self.backends.intake.GetCase,
            intake_service_pb2.GetCaseRequest(receipt=receipt, view=view),
        )
        return found.case
