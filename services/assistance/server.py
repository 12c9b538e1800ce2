"""AssistanceService: social assistance's gRPC face."""

from __future__ import annotations

import grpc

from onedoor.assistance.v1 import assistance_service_pb2 as pb
from onedoor.assistance.v1 import assistance_service_pb2_grpc
from services.assistance import dibao
from services.assistance.decisions import check_request
from services.assistance.standards import DibaoStandards
from services.assistance.store import AssistanceCases
from services.common import telemetry
from services.common.errors import FieldViolation, invalid_argument, not_found
from services.common.receipt import is_request_id

DIBAO = "assistance.dibao"


class AssistanceServicer(assistance_service_pb2_grpc.AssistanceServiceServicer):
    def __init__(self, cases: AssistanceCases, standards: DibaoStandards) -> None:
        self.cases = cases
        self.standards = standards

    async def OpenCase(
        self, request: pb.OpenCaseRequest, context: grpc.aio.ServicerContext
    ) -> pb.OpenCaseResponse:
        case = request.case
        if case.matter_code != DIBAO:
            raise invalid_argument(
                [FieldViolation("case.matter_code", "is not a matter social assistance decides")]
            )
        if not case.household_members:
            raise invalid_argument([FieldViolation("case.household_members", "is required")])
        with telemetry.bound_receipt(case.receipt):
            standard = self.standards.for_division(case.applicant.hukou_division)
            assessment = dibao.assess(
                [m.monthly_income_fen for m in case.household_members], standard
            )
            opened, created = await self.cases.open(case, assessment)
            return pb.OpenCaseResponse(case=opened, opened=created)

    async def GetCase(
        self, request: pb.GetCaseRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetCaseResponse:
        with telemetry.bound_receipt(request.receipt):
            found = await self.cases.get(request.receipt)
            if found is None:
                raise not_found("case", request.receipt)
            return pb.GetCaseResponse(case=found)

    async def DecideCase(
        self, request: pb.DecideCaseRequest, context: grpc.aio.ServicerContext
    ) -> pb.DecideCaseResponse:
        if not is_request_id(request.request_id):
            raise invalid_argument(
                [FieldViolation("request_id", "must be 8-64 letters, digits or ._:-")]
            )
        check_request(request.decision, request.reason, request.officer_id)
        with telemetry.bound_receipt(request.receipt):
            decided = await self.cases.decide(
                request.request_id,
                request.receipt,
                request.decision,
                request.reason,
                request.officer_id,
            )
            if decided is None:
                raise not_found("case", request.receipt)
            return pb.DecideCaseResponse(case=decided)
