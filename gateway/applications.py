"""The window's operations, shared by the gRPC and the HTTP API."""

from __future__ import annotations

from gateway.backends import Backends
from gateway.validation import check_application
from onedoor.gateway.v1 import gateway_service_pb2 as pb
from onedoor.intake.v1 import case_pb2, intake_service_pb2
from services.common import catalog, identity, telemetry
from services.common.errors import FieldViolation, invalid_argument
from services.common.receipt import is_receipt, receipt_for


class Window:
    def __init__(self, backends: Backends, jurisdiction: str) -> None:
        self.backends = backends
        # Division code of the bureau this gateway serves; cases record it as accepting.
        self.jurisdiction = jurisdiction

    async def submit(self, request: pb.SubmitApplicationRequest) -> pb.SubmitApplicationResponse:
        check_application(request, catalog.load())
        receipt = receipt_for(self.jurisdiction, request.request_id)
        with telemetry.bound_receipt(receipt):
            case = case_pb2.Case(
                matter_code=request.matter_code,
                applicant=request.applicant,
                household_members=request.household_members,
                materials=request.materials,
                accepting_division=self.jurisdiction,
            )
            case.applicant.id_number = identity.normalize(case.applicant.id_number)
            for member in case.household_members:
                member.id_number = identity.normalize(member.id_number)
            created = await self.backends.call(
                self.backends.intake.CreateCase,
                intake_service_pb2.CreateCaseRequest(request_id=request.request_id, case=case),
            )
            stored = created.case
            return pb.SubmitApplicationResponse(
                receipt=stored.receipt,
                status=stored.status,
                departments=stored.departments,
                decision_deadline=stored.decision_deadline,
                trace_id=telemetry.current_trace_id(),
                created=created.created,
            )

    async def get(self, request: pb.GetApplicationRequest) -> pb.GetApplicationResponse:
        if not is_receipt(request.receipt):
            raise invalid_argument(
                [FieldViolation("receipt", "must look like 320585-7K3F9-QX2MA")],
                reason="INVALID_RECEIPT",
            )
        with telemetry.bound_receipt(request.receipt):
            found = await self.backends.call(
                self.backends.intake.GetCase,
                intake_service_pb2.GetCaseRequest(receipt=request.receipt),
            )
            return pb.GetApplicationResponse(
                application=as_application(found.case), trace_id=telemetry.current_trace_id()
            )

    async def matters(self, request: pb.ListMattersRequest) -> pb.ListMattersResponse:
        return pb.ListMattersResponse(
            matters=[
                pb.Matter(
                    code=m.code,
                    version=m.version,
                    title_zh=m.title_zh,
                    title_en=m.title_en,
                    departments=m.departments,
                    required_materials=[
                        pb.RequiredMaterial(code=r.code, title_zh=r.title_zh, title_en=r.title_en)
                        for r in m.required_materials
                    ],
                    time_limit_days=m.time_limit_days,
                    cross_jurisdiction=m.cross_jurisdiction,
                )
                for m in catalog.load().current()
            ]
        )


def as_application(case: case_pb2.Case) -> pb.Application:
    """The case as the window shows it, personal data masked."""
    return pb.Application(
        receipt=case.receipt,
        matter_code=case.matter_code,
        status=case.status,
        departments=case.departments,
        applicant_id_number=identity.mask(case.applicant.id_number),
        applicant_name=identity.mask_name(case.applicant.name),
        hukou_division=case.applicant.hukou_division,
        create_time=case.create_time,
        decision_deadline=case.decision_deadline,
        timeline=case.timeline,
        trace_id=case.trace_id,
    )
