"""Every route of the HTTP API, declared once: the HTTP adapter registers its handlers from
these (a handler without a declaration, or a declaration without a handler, stops it at
start-up), refuses query parameters a route does not declare, and the OpenAPI description
is made from the same list (``GET /openapi.json``, ``docs/openapi.json``)."""

from __future__ import annotations

from gateway import warnings
from gateway.openapi import JsonSchema, Route
from onedoor.gateway.v1 import gateway_service_pb2 as pb

_INT: JsonSchema = {"type": "integer", "format": "int32"}
_PAGE = (
    ("pageSize", {**_INT, "minimum": 0, "maximum": 1000}, "how many at most (AIP-158; default 50)"),
    ("pageToken", {"type": "string"}, "nextPageToken of the page before"),
)
_RECEIPT = ("receipt", "the receipt, e.g. 320585-7K3F9-QX2MA")
_DEPARTMENT = ("department", "assistance, elderly, orgs or registry")

ROUTES: tuple[Route, ...] = (
    Route(
        "POST",
        "/v1/applications",
        "submitApplication",
        "Accept an application at the window (idempotent by requestId, AIP-155)",
        response=pb.SubmitApplicationResponse.DESCRIPTOR,
        body=pb.SubmitApplicationRequest.DESCRIPTOR,
    ),
    Route(
        "GET",
        "/v1/applications",
        "listApplications",
        "The window's applications, newest first, or those past or near their deadline",
        response=pb.ListApplicationsResponse.DESCRIPTOR,
        query=(
            ("overdue", {"type": "boolean"}, "only open cases past or near their deadline"),
            ("dueWithinDays", {**_INT, "minimum": 0}, "with overdue: how near, in working days"),
            ("department", {"type": "string"}, "one department's (an officer must set it)"),
            (
                "workList",
                {"type": "string", "enum": ["today", "awaiting_materials", "due_soon", "overdue"]},
                "one of the window's work lists: accepted today, awaiting materials, due within "
                "dueWithinDays, past the deadline (not with overdue)",
            ),
            ("matterCode", {"type": "string"}, "one matter's, e.g. assistance.dibao"),
            ("status", {"type": "string"}, "those in one status, e.g. awaiting_materials"),
            *_PAGE,
        ),
    ),
    Route(
        "POST",
        "/v1/applications:search",
        "searchApplications",
        "A person's applications by the identity number presented (in the body, never the "
        "URL; window clerks; audited, masked)",
        response=pb.SearchApplicationsResponse.DESCRIPTOR,
        body=pb.SearchApplicationsRequest.DESCRIPTOR,
    ),
    Route(
        "GET",
        "/v1/applications/{receipt}",
        "getApplication",
        "An application's status, progress and timeline, personal data masked",
        response=pb.GetApplicationResponse.DESCRIPTOR,
        path_params=(_RECEIPT,),
    ),
    Route(
        "POST",
        "/v1/applications/{receipt}:supplyMaterials",
        "supplyMaterials",
        "Record the materials handed in; the deadline clock runs again",
        response=pb.SupplyMaterialsResponse.DESCRIPTOR,
        body=pb.SupplyMaterialsRequest.DESCRIPTOR,
        path_params=(_RECEIPT,),
    ),
    Route(
        "POST",
        "/v1/applications/{receipt}:confirmDivorce",
        "confirmDivorce",
        "A party confirms a divorce after its cooling-off period",
        response=pb.ConfirmDivorceResponse.DESCRIPTOR,
        body=pb.ConfirmDivorceRequest.DESCRIPTOR,
        path_params=(_RECEIPT,),
    ),
    Route(
        "POST",
        "/v1/applications/{receipt}:withdrawDivorce",
        "withdrawDivorce",
        "A party withdraws a divorce within its cooling-off period",
        response=pb.WithdrawDivorceResponse.DESCRIPTOR,
        body=pb.WithdrawDivorceRequest.DESCRIPTOR,
        path_params=(_RECEIPT,),
    ),
    Route(
        "GET",
        "/v1/departments/{department}/cases",
        "listDepartmentCases",
        "A department's queue, oldest first (its officers)",
        response=pb.ListDepartmentCasesResponse.DESCRIPTOR,
        path_params=(_DEPARTMENT,),
        query=_PAGE,
    ),
    Route(
        "POST",
        "/v1/departments/{department}/cases/{receipt}:decide",
        "decideCase",
        "An officer approves, rejects or asks for materials (recorded as the signed-in officer)",
        response=pb.DecideCaseResponse.DESCRIPTOR,
        body=pb.DecideCaseRequest.DESCRIPTOR,
        path_params=(_DEPARTMENT, _RECEIPT),
    ),
    Route(
        "GET",
        "/v1/departments/{department}/cases/{receipt}/file",
        "getCaseFile",
        "The case file an officer reads before deciding: members masked with their incomes, "
        "materials, assessment, the household file's other cases, reason templates (its "
        "department's officers; audited)",
        response=pb.GetCaseFileResponse.DESCRIPTOR,
        path_params=(_DEPARTMENT, _RECEIPT),
    ),
    Route(
        "GET",
        "/v1/audit",
        "listAuditEntries",
        "The audit log, oldest first (auditors)",
        response=pb.ListAuditEntriesResponse.DESCRIPTOR,
        query=(
            ("receipt", {"type": "string"}, "one case's entries"),
            ("actor", {"type": "string"}, "one actor's entries, e.g. officer:officer-320585"),
            (
                "sinceDate",
                {"type": "string", "format": "date"},
                "entries from this day on (the bureau's local date)",
            ),
            (
                "untilDate",
                {"type": "string", "format": "date"},
                "entries up to and including this day (the bureau's local date)",
            ),
            *_PAGE,
        ),
    ),
    Route(
        "GET",
        "/v1/audit:verify",
        "verifyAuditChain",
        "Walk the audit log's hash chain: intact, or the first entry that breaks it (auditors)",
        response=pb.VerifyAuditChainResponse.DESCRIPTOR,
    ),
    Route(
        "GET",
        "/v1/forwards",
        "listForwards",
        "Cases held for delivery to peer bureaus, oldest first, with why the last attempt "
        "failed (operators; no personal data)",
        response=pb.ListForwardsResponse.DESCRIPTOR,
        query=(
            (
                "state",
                {"type": "string", "enum": ["waiting", "stuck", "delivered"]},
                "only those waiting, stuck (waiting longer than the gateway's threshold) or "
                "delivered; every forward when absent",
            ),
            *_PAGE,
        ),
    ),
    Route(
        "GET",
        "/v1/matters",
        "listMatters",
        "The catalog: matters, materials, time limits and their legal sources",
        response=pb.ListMattersResponse.DESCRIPTOR,
    ),
    Route(
        "GET",
        "/healthz",
        "health",
        "Every service's health (operators); 200 only when all are SERVING",
        response=None,
    ),
    Route(
        "GET",
        "/livez",
        "live",
        "Whether the gateway's process answers (load balancers; no token, nothing but the status)",
        response=None,
        public=True,
    ),
    Route(
        "GET",
        "/readyz",
        "ready",
        "Whether the gateway takes requests: 503 once it is draining (no token, only the status)",
        response=None,
        public=True,
    ),
    Route(
        "GET",
        "/openapi.json",
        "openapi",
        "This description",
        response=None,
        public=True,
    ),
)
# The departments' warnings queues, declared beside their handlers.
ROUTES = (*ROUTES, *warnings.ROUTES)


def aiohttp_path(route: Route) -> str:
    """The route's path as aiohttp matches it: a path parameter stops at / and at the : of a
    custom method (AIP-136)."""
    path = route.path
    for name, _ in route.path_params:
        path = path.replace(f"{{{name}}}", f"{{{name}:[^/:]+}}")
    return path
