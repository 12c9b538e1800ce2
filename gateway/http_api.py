"""The HTTP/JSON API over the window's use cases, for front-ends that do not speak gRPC: it
only translates (path, query and body to the request message; the answer or error to JSON).

Bodies use the proto JSON mapping (camelCase field names, enum names); errors use Google's
JSON error shape with the field violations and the trace id. ``GET /healthz`` answers 200 only
when the gateway and every service behind it report SERVING.
"""

from __future__ import annotations

import contextvars
import functools
import json
import logging
import re
from collections.abc import Awaitable, Callable, Collection
from typing import Any

import grpc
from aiohttp import web
from google.protobuf import json_format
from google.protobuf.message import Message

from gateway import (
    audit_entries,
    case_file,
    console,
    cors,
    decisions,
    divorce,
    forwards,
    http_routes,
    lookup,
    materials,
    openapi,
    permissions,
    rendering,
    search,
    status_page,
    submission,
    warnings,
)
from gateway.access_log import access_log
from gateway.openapi import Route
from gateway.window import Window
from onedoor.gateway.v1 import gateway_service_pb2 as pb
from services.common import auth, telemetry
from services.common.auth import Principal
from services.common.errors import ApiError, FieldViolation, invalid_argument

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
TRACE_HEADER = "X-Trace-Id"
CALLER = web.RequestKey("caller", Principal)
PUBLIC_PATHS = frozenset(r.path for r in http_routes.ROUTES if r.public)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# json_format's messages quote the offending value; keep only the path of fields they name.
_PARSED_FIELD = re.compile(r'Failed to parse (\w+) field|no field named "(\w+)"')
_CAMEL_HUMP = re.compile(r"(?<!^)(?=[A-Z])")


def _field_path(parse_error: str) -> tuple[str, bool]:
    """The proto field path a json_format error is about, and whether its last field is
    unknown (rather than holding a value of the wrong type)."""
    names = [
        (outer or unknown, bool(unknown)) for outer, unknown in _PARSED_FIELD.findall(parse_error)
    ]
    if not names:
        return "body", False
    path = ".".join(_CAMEL_HUMP.sub("_", name).lower() for name, _ in names)
    return path, names[-1][1]


def _json(body: dict[str, Any], status: int = 200) -> web.Response:
    response = web.json_response(
        body, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False)
    )
    trace_id = telemetry.current_trace_id()
    if trace_id:
        response.headers[TRACE_HEADER] = trace_id
    return response


# The caller's language for this request (Accept-Language), set by the middleware below.
_LANGUAGE: contextvars.ContextVar[str] = contextvars.ContextVar(
    "language", default=rendering.DEFAULT_LANGUAGE
)


@web.middleware
async def language(request: web.Request, handler: Handler) -> web.StreamResponse:
    _LANGUAGE.set(rendering.negotiate(request.headers.get("Accept-Language")))
    response = await handler(request)
    response.headers.setdefault("Content-Language", _LANGUAGE.get())
    return response


def _message_json(message: Message) -> dict[str, Any]:
    # Codes and parameters for integrators, with each text rendered for people.
    rendering.localize(message, _LANGUAGE.get())
    return json_format.MessageToDict(message, always_print_fields_with_no_presence=True)


@web.middleware
async def errors_as_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    # Each refusal also as people read it, in the caller's language (AIP-193).
    language = rendering.negotiate(request.headers.get("Accept-Language"))
    try:
        return await handler(request)
    except ApiError as error:
        rendering.localize_error(error, language)
        return _json(error.to_json(telemetry.current_trace_id()), error.http_status)
    except web.HTTPRequestEntityTooLarge:
        too_large = ApiError(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"the body is larger than {MAX_BODY_BYTES} bytes",
            reason="BODY_TOO_LARGE",
            violations=(FieldViolation("body", f"must be at most {MAX_BODY_BYTES} bytes"),),
            http_status_override=413,
        )
        rendering.localize_error(too_large, language)
        return _json(too_large.to_json(telemetry.current_trace_id()), 413)
    except web.HTTPException as http_error:
        if http_error.status < 400:
            raise
        status_name = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(
            http_error.status, "INVALID_ARGUMENT"
        )
        refused = ApiError(
            grpc.StatusCode.NOT_FOUND
            if http_error.status == 404
            else grpc.StatusCode.INVALID_ARGUMENT,
            http_error.reason,
        )
        body = {
            "error": {
                "code": http_error.status,
                "status": status_name,
                "message": http_error.reason,
                "details": [],
                "localizedMessage": _localized_message(refused, language),
            },
            "traceId": telemetry.current_trace_id(),
        }
        return _json(body, http_error.status)
    except Exception as unexpected:
        log.error("%s %s failed with %s", request.method, request.path, type(unexpected).__name__)
        trace_id = telemetry.current_trace_id()
        body = {
            "error": {
                "code": 500,
                "status": "INTERNAL",
                "message": f"internal error; quote trace id {trace_id} to the operators",
                "details": [],
                "localizedMessage": _localized_message(
                    ApiError(grpc.StatusCode.INTERNAL, "internal error"), language
                ),
            },
            "traceId": trace_id,
        }
        return _json(body, 500)


def _localized_message(error: ApiError, language: str) -> dict[str, str]:
    said = rendering.localized_error(error, language)
    return {"locale": said.locale, "message": said.message}


async def _parse_body(request: web.Request, message: Message) -> None:
    if request.content_type != "application/json":
        raise invalid_argument(
            [FieldViolation("body", "must be JSON (Content-Type: application/json)")]
        )
    raw = await request.read()
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        position = getattr(error, "pos", 0)
        raise invalid_argument(
            [FieldViolation("body", f"is not valid JSON (near byte {position})")],
            reason="MALFORMED_JSON",
        ) from None
    except RecursionError:
        # A few thousand nested brackets fit in a body of the allowed size.
        raise invalid_argument(
            [FieldViolation("body", "is nested too deeply")], reason="MALFORMED_JSON"
        ) from None
    if not isinstance(data, dict):
        raise invalid_argument(
            [FieldViolation("body", "must be a JSON object")], reason="MALFORMED_JSON"
        )
    try:
        json_format.ParseDict(data, message)
    except (json_format.ParseError, ValueError, TypeError, RecursionError) as error:
        field, unknown = _field_path(str(error))
        description = (
            "is not a field of this request"
            if unknown
            else "has the wrong type or an unknown value"
        )
        raise invalid_argument(
            [FieldViolation(field, description)], reason="MALFORMED_REQUEST"
        ) from None


def _authenticate(sign_in: auth.SignIn) -> Any:
    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        """Every call carries a bearer token, checked before the body is even read."""
        if (
            console.is_public(request.path)
            or request.path in PUBLIC_PATHS
            or status_page.is_public(request.path)
        ):
            return await handler(request)
        request[CALLER] = await sign_in.principal(request.headers.get("Authorization", ""))
        return await handler(request)

    return authenticate


def _caller(request: web.Request) -> Principal:
    return request[CALLER]


INT32 = range(-(2**31), 2**31)


def _query_int(request: web.Request, name: str) -> int:
    """A whole-number query parameter; it lands in an int32 request field, which refuses
    anything wider with a ValueError of its own."""
    raw = request.query.get(name, "")
    if not raw:
        return 0
    try:
        value = int(raw)
    except ValueError:
        raise invalid_argument([FieldViolation(name, "must be a whole number")]) from None
    if value not in INT32:
        raise invalid_argument([FieldViolation(name, "is out of range")])
    return value


def _query_bool(request: web.Request, name: str) -> bool:
    raw = request.query.get(name, "false").lower()
    if raw not in ("true", "false", "1", "0"):
        raise invalid_argument([FieldViolation(name, "must be true or false")])
    return raw in ("true", "1")


def _declared(route: Route, handler: Handler) -> Handler:
    """The handler of a declared route: a query parameter the route does not declare is
    refused, naming it (a misspelt filter would otherwise silently list everything)."""
    known = {name for name, _, _ in route.query}

    async def checked(request: web.Request) -> web.StreamResponse:
        unknown = sorted(set(request.query) - known)
        if unknown:
            raise invalid_argument(
                [
                    FieldViolation(name, "is not a query parameter of this route")
                    for name in unknown
                ],
                reason="UNKNOWN_QUERY_PARAMETER",
            )
        return await handler(request)

    return checked


@functools.cache
def description() -> dict[str, Any]:
    """The OpenAPI description of the routes this adapter registers."""
    return openapi.document(http_routes.ROUTES, title="onedoor HTTP API", version="v1")


class Readiness:
    """Whether the gateway takes requests: true until it starts draining on SIGTERM, so a load
    balancer's plain HTTP check (GET /readyz) stops sending new ones before it goes."""

    def __init__(self) -> None:
        self.ready = True

    def draining(self) -> None:
        self.ready = False


def create_app(
    window: Window,
    cors_origins: Collection[str] = (),
    readiness: Readiness | None = None,
    sign_in: auth.SignIn | None = None,
    console_sign_in: console.ConsoleSignIn | None = None,
) -> web.Application:
    """The HTTP API; without ``sign_in`` (in-process tests) it takes development tokens only."""
    readiness = readiness or Readiness()
    sign_in = sign_in or auth.development_sign_in()
    app = web.Application(
        client_max_size=MAX_BODY_BYTES,
        middlewares=[
            access_log,
            language,
            cors.middleware(cors_origins),
            errors_as_json,
            _authenticate(sign_in),
        ],
    )

    def receipt_of(request: web.Request) -> str:
        return request.match_info["receipt"]

    async def submit(request: web.Request) -> web.Response:
        message = pb.SubmitApplicationRequest()
        await _parse_body(request, message)
        return _json(_message_json(await submission.submit(window, _caller(request), message)))

    async def get(request: web.Request) -> web.Response:
        message = pb.GetApplicationRequest(receipt=receipt_of(request))
        return _json(_message_json(await lookup.get_application(window, _caller(request), message)))

    async def list_applications(request: web.Request) -> web.Response:
        message = pb.ListApplicationsRequest(
            overdue=_query_bool(request, "overdue"),
            due_within_days=_query_int(request, "dueWithinDays"),
            page_size=_query_int(request, "pageSize"),
            page_token=request.query.get("pageToken", ""),
            department=request.query.get("department", ""),
            work_list=lookup.work_list_named(request.query.get("workList", "")),
            matter_code=request.query.get("matterCode", ""),
            status=lookup.status_named(request.query.get("status", "")),
        )
        answer = await lookup.list_applications(window, _caller(request), message)
        return _json(_message_json(answer))

    async def search_applications(request: web.Request) -> web.Response:
        message = pb.SearchApplicationsRequest()
        await _parse_body(request, message)
        answer = await search.search_applications(window, _caller(request), message)
        return _json(_message_json(answer))

    async def supply_materials(request: web.Request) -> web.Response:
        message = pb.SupplyMaterialsRequest()
        await _parse_body(request, message)
        message.receipt = receipt_of(request)
        answer = await materials.supply_materials(window, _caller(request), message)
        return _json(_message_json(answer))

    async def confirm_divorce(request: web.Request) -> web.Response:
        message = pb.ConfirmDivorceRequest()
        await _parse_body(request, message)
        message.receipt = receipt_of(request)
        answer = await divorce.confirm_divorce(window, _caller(request), message)
        return _json(_message_json(answer))

    async def withdraw_divorce(request: web.Request) -> web.Response:
        message = pb.WithdrawDivorceRequest()
        await _parse_body(request, message)
        message.receipt = receipt_of(request)
        answer = await divorce.withdraw_divorce(window, _caller(request), message)
        return _json(_message_json(answer))

    async def department_cases(request: web.Request) -> web.Response:
        message = pb.ListDepartmentCasesRequest(
            department=request.match_info["department"],
            page_size=_query_int(request, "pageSize"),
            page_token=request.query.get("pageToken", ""),
        )
        answer = await decisions.list_department_cases(window, _caller(request), message)
        return _json(_message_json(answer))

    async def decide(request: web.Request) -> web.Response:
        message = pb.DecideCaseRequest()
        await _parse_body(request, message)
        message.department = request.match_info["department"]
        message.receipt = receipt_of(request)
        return _json(_message_json(await decisions.decide_case(window, _caller(request), message)))

    async def audit(request: web.Request) -> web.Response:
        message = pb.ListAuditEntriesRequest(
            receipt=request.query.get("receipt", ""),
            actor=request.query.get("actor", ""),
            since_date=request.query.get("sinceDate", ""),
            until_date=request.query.get("untilDate", ""),
            page_size=_query_int(request, "pageSize"),
            page_token=request.query.get("pageToken", ""),
        )
        answer = await audit_entries.list_audit_entries(window, _caller(request), message)
        return _json(_message_json(answer))

    async def verify_audit(request: web.Request) -> web.Response:
        answer = await audit_entries.verify_audit_chain(
            window, _caller(request), pb.VerifyAuditChainRequest()
        )
        return _json(_message_json(answer))

    async def get_case_file(request: web.Request) -> web.Response:
        message = pb.GetCaseFileRequest(
            department=request.match_info["department"], receipt=receipt_of(request)
        )
        answer = await case_file.get_case_file(window, _caller(request), message)
        return _json(_message_json(answer))

    async def list_forwards(request: web.Request) -> web.Response:
        message = pb.ListForwardsRequest(
            state=forwards.state_named(request.query.get("state", "")),
            page_size=_query_int(request, "pageSize"),
            page_token=request.query.get("pageToken", ""),
        )
        answer = await forwards.list_forwards(window, _caller(request), message)
        return _json(_message_json(answer))

    async def matters(request: web.Request) -> web.Response:
        answer = await lookup.list_matters(window, _caller(request), pb.ListMattersRequest())
        return _json(_message_json(answer))

    async def healthz(request: web.Request) -> web.Response:
        permissions.require_role(_caller(request), "operator")
        services = {"gateway": "SERVING", **(await window.backends.health())}
        serving = all(status == "SERVING" for status in services.values())
        return _json(
            {"status": "SERVING" if serving else "NOT_SERVING", "services": services},
            200 if serving else 503,
        )

    async def livez(request: web.Request) -> web.Response:
        return _json({"status": "SERVING"})

    async def readyz(request: web.Request) -> web.Response:
        if readiness.ready:
            return _json({"status": "SERVING"})
        return _json({"status": "NOT_SERVING"}, 503)

    async def openapi_json(request: web.Request) -> web.Response:
        return _json(description())

    handlers: dict[str, Handler] = {
        "submitApplication": submit,
        "listApplications": list_applications,
        "searchApplications": search_applications,
        "getApplication": get,
        "supplyMaterials": supply_materials,
        "confirmDivorce": confirm_divorce,
        "withdrawDivorce": withdraw_divorce,
        "listDepartmentCases": department_cases,
        "decideCase": decide,
        "listAuditEntries": audit,
        "verifyAuditChain": verify_audit,
        "getCaseFile": get_case_file,
        "listForwards": list_forwards,
        "listMatters": matters,
        "health": healthz,
        "live": livez,
        "ready": readyz,
        "openapi": openapi_json,
        **warnings.http_handlers(
            window, _caller, _parse_body, _query_int, lambda m: _json(_message_json(m))
        ),
    }
    for route in http_routes.ROUTES:
        handler = handlers.pop(route.operation_id)
        app.router.add_route(
            route.method, http_routes.aiohttp_path(route), _declared(route, handler)
        )
    if handlers:
        raise RuntimeError(f"handlers without a declared route: {', '.join(handlers)}")
    console.add_routes(app, console_sign_in or console.ConsoleSignIn())
    return app
