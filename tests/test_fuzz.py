"""Bad input at the window (issue 5): generated bodies thrown at the HTTP and gRPC APIs.

Every answer must be a 2xx or a 4xx (gRPC: OK or a client-error code) with a readable
message that quotes no personal data, within a per-request timeout; a refused submission
stores nothing, and an accepted one stored a case the window's own validation passes.

The tests are synchronous on purpose: hypothesis's @given does not drive coroutines, so they
use http.client and a blocking gRPC channel against the session's platform, and reach the
intake database through a private event loop in a thread of its own (pytest-asyncio's session
loop is not running while a synchronous test runs, and must not be replaced).
"""

from __future__ import annotations

import asyncio
import base64
import copy
import datetime as dt
import http.client
import json
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import asyncpg
import grpc
import pytest
from google.protobuf import json_format
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st

from gateway.validation import check_application
from onedoor.gateway.v1 import gateway_service_pb2 as pb
from onedoor.gateway.v1 import gateway_service_pb2_grpc
from onedoor.intake.v1 import intake_service_pb2, intake_service_pb2_grpc
from services.common import auth, catalog
from services.common.clock import BureauClock
from services.common.errors import ApiError
from services.common.identity import compose
from services.common.receipt import receipt_for
from services.launcher.platform import Platform
from tests.conftest import bearer
from tests.factories import Person, application, consent, party

T = TypeVar("T")

JURISDICTION = "320585"
# A hang is an answer slower than this; the slowest honest answer (an accepted application
# checked by every deciding department) takes well under a second.
REQUEST_TIMEOUT = 15.0
MAX_BODY_BYTES = 64 * 1024
GRPC_MAX_MESSAGE_BYTES = 4 * 1024 * 1024
# aiohttp's limit on the request line ("GET <target> HTTP/1.1").
MAX_REQUEST_LINE = 8190 - len("GET  HTTP/1.1")
CLIENT_ERRORS = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.ALREADY_EXISTS,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.OUT_OF_RANGE,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
}
SUBMIT_METHOD = "/onedoor.gateway.v1.GatewayService/SubmitApplication"
# Lines a process writes only when a request made it fail rather than refused it.
FAILURE_MARKS = (" failed with ", "Error handling request", "Unhandled exception", "Traceback")
TOLERATED = (
    # aiohttp logs its parser's refusals of malformed requests (answered 400) as errors too.
    "aiohttp.http_exceptions.",
)

# Fixed examples (derandomize) so CI sees the same inputs every run; no example database, so
# a developer's earlier failures do not change what CI runs.
FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.filter_too_much,
    ],
)


def fuzz(examples: int) -> settings:
    return settings(FUZZ, max_examples=examples)


# --- the platform, as a synchronous client sees it ------------------------------------------


class IntakeLedger:
    """The intake database, asked from a private event loop in its own thread."""

    def __init__(self, database_url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.conn: asyncpg.Connection = self._run(asyncpg.connect(database_url))

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(REQUEST_TIMEOUT)

    def case_count(self) -> int:
        return int(self._run(self.conn.fetchval("SELECT count(*) FROM cases")))

    def has_case(self, receipt: str) -> bool:
        return bool(
            self._run(self.conn.fetchval("SELECT count(*) FROM cases WHERE receipt = $1", receipt))
        )

    def close(self) -> None:
        self._run(self.conn.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Window:
    platform: Platform
    ledger: IntakeLedger
    channel: grpc.Channel
    gateway: gateway_service_pb2_grpc.GatewayServiceStub
    intake: intake_service_pb2_grpc.IntakeServiceStub
    clerk: dict[str, str] = field(default_factory=bearer)
    officer: dict[str, str] = field(
        default_factory=lambda: bearer("officer", department="assistance")
    )
    # A case accepted before the fuzzing, for look-ups and decisions on a real receipt.
    known_receipt: str = ""
    # Where each process's log stood before the fuzzing, so only its lines are looked at.
    log_offsets: dict[str, int] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Window(gateway http {self.platform.ports.gateway_http})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # Hypothesis prints the arguments of a falsifying example; tokens are noise there.
        printer.text(repr(self))

    def http(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> HttpAnswer:
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.platform.ports.gateway_http, timeout=REQUEST_TIMEOUT
        )
        started = time.monotonic()
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            answer = HttpAnswer(response.status, response.read(), time.monotonic() - started)
        finally:
            connection.close()
        assert answer.seconds < REQUEST_TIMEOUT, "the gateway took too long to answer"
        return answer

    def grpc_metadata(self, headers: dict[str, str]) -> tuple[tuple[str, str], ...]:
        return (("authorization", headers["Authorization"]),)


@pytest.fixture(scope="module")
def window(platform: Platform) -> Iterator[Window]:
    ledger = IntakeLedger(platform.database_url("intake"))
    channel = grpc.insecure_channel(f"127.0.0.1:{platform.ports.gateway_grpc}")
    intake_channel = grpc.insecure_channel(f"127.0.0.1:{platform.ports.intake}")
    found = Window(
        platform=platform,
        ledger=ledger,
        channel=channel,
        gateway=gateway_service_pb2_grpc.GatewayServiceStub(channel),
        intake=intake_service_pb2_grpc.IntakeServiceStub(intake_channel),
        log_offsets={
            name: platform.log_path(name).stat().st_size
            for name in platform.processes
            if platform.log_path(name).exists()
        },
    )
    applicant = Person("周秀英", compose(JURISDICTION, dt.date(1961, 3, 14), 23), "13912345678")
    body = application(
        "assistance.dibao",
        applicant,
        household=[(applicant, 50000)],
        economicCheckConsent=consent(applicant, [applicant]),
    )
    answer = found.http("POST", "/v1/applications", json.dumps(body).encode(), _json_headers(found))
    assert answer.status == 200, answer.body
    found.known_receipt = answer.json()["receipt"]
    yield found
    channel.close()
    intake_channel.close()
    ledger.close()


def _json_headers(window: Window, headers: dict[str, str] | None = None) -> dict[str, str]:
    return {**(headers or window.clerk), "Content-Type": "application/json"}


# --- what every answer must be ----------------------------------------------------------------


def _quotes_personal_data(text: str, secrets: set[str]) -> bool:
    return any(secret and secret in text for secret in secrets)


def assert_http_client_answer(answer: HttpAnswer, secrets: set[str] = frozenset()) -> Any:
    """A 2xx, or a 4xx in Google's JSON error shape that names what is wrong; never a 5xx."""
    assert 200 <= answer.status < 300 or 400 <= answer.status < 500, (
        f"answered HTTP {answer.status}"
    )
    text = answer.body.decode("utf-8")
    assert not _quotes_personal_data(text, secrets), "the answer quotes personal data it was sent"
    body = json.loads(text)
    if answer.status >= 400:
        error = body["error"]
        assert error["code"] == answer.status
        assert isinstance(error["message"], str) and error["message"].strip()
        assert error["message"].isprintable(), "the message holds control characters"
        if error["status"] == "INVALID_ARGUMENT":
            violations = [
                v for d in error["details"] for v in d.get("fieldViolations", ()) if v["field"]
            ]
            assert violations or ":" in error["message"], "a 400 that names no field"
    return body


def assert_grpc_client_error(error: grpc.RpcError, secrets: set[str] = frozenset()) -> None:
    assert isinstance(error, grpc.Call)
    code = error.code()
    assert code in CLIENT_ERRORS, f"answered {code.name}"
    message = error.details() or ""
    assert message.strip() and message.isprintable(), f"{code.name} without a readable message"
    assert not _quotes_personal_data(message, secrets), "the message quotes personal data"
    status = rpc_status.from_call(error)
    if status is not None:
        for detail in status.details:
            if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                described = " ".join(f"{v.field} {v.description}" for v in bad.field_violations)
                assert not _quotes_personal_data(described, secrets), (
                    "a field violation quotes personal data"
                )


def assert_stored_case_is_valid(window: Window, receipt: str) -> None:
    """An accepted application was a valid one: the stored case passes the window's checks."""
    found = window.intake.GetCase(
        intake_service_pb2.GetCaseRequest(receipt=receipt),
        metadata=auth.service_metadata(),
        timeout=REQUEST_TIMEOUT,
    ).case
    as_submitted = pb.SubmitApplicationRequest(
        request_id=found.request_id,
        matter_code=found.matter_code,
        applicant=found.applicant,
        household_members=found.household_members,
        materials=found.materials,
        details=found.details,
    )
    try:
        check_application(as_submitted, catalog.load(), JURISDICTION, clock=BureauClock())
    except ApiError as error:
        fields = sorted(v.field for v in error.violations)
        pytest.fail(f"an accepted case fails the window's validation: {fields}")


@dataclass(frozen=True)
class Submission:
    """A body to submit, what it says its request id is, and the personal data in it."""

    body: bytes
    request_id: str | None
    secrets: frozenset[str]
    content_type: str = "application/json"


def submit_and_check(window: Window, submission: Submission) -> HttpAnswer:
    before = window.ledger.case_count()
    receipt = (
        receipt_for(JURISDICTION, submission.request_id)
        if submission.request_id is not None
        else None
    )
    stored_before = receipt is not None and window.ledger.has_case(receipt)
    headers = {**window.clerk}
    if submission.content_type:
        headers["Content-Type"] = submission.content_type
    answer = window.http("POST", "/v1/applications", submission.body, headers)
    body = assert_http_client_answer(answer, set(submission.secrets))
    if currently_in_test_context():
        event(f"HTTP {answer.status}")
    after = window.ledger.case_count()
    if answer.status < 300:
        assert after - before == (1 if body["created"] else 0)
        assert_stored_case_is_valid(window, body["receipt"])
    else:
        assert after == before, "a refused application stored a case"
        if receipt is not None:
            assert window.ledger.has_case(receipt) == stored_before, (
                "a refused application's receipt has a case"
            )
    return answer


# --- valid applications to start from --------------------------------------------------------

_SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张"
_GIVEN = "秀英建国丽娟志强海燕桂兰明华春梅永福玉珍德胜淑芬"


@st.composite
def people(draw: st.DrawFn, born_from: int = 1945, born_to: int = 2000, male: bool | None = None):
    born = draw(st.dates(dt.date(born_from, 1, 1), dt.date(born_to, 12, 28)))
    sequence = draw(st.integers(1, 996))
    if male is not None and (sequence % 2 == 1) != male:
        sequence += 1
    name = draw(st.sampled_from(_SURNAMES)) + "".join(
        draw(st.lists(st.sampled_from(_GIVEN), min_size=2, max_size=2))
    )
    phone = "139" + draw(st.text("0123456789", min_size=8, max_size=8))
    return Person(name, compose(JURISDICTION, born, sequence), phone)


@st.composite
def valid_applications(draw: st.DrawFn) -> tuple[dict[str, Any], set[str]]:
    """A valid application of one of a few matters, and the personal data it holds."""
    matter = draw(
        st.sampled_from(
            [
                "assistance.dibao",
                "orgs.register",
                "registry.marriage",
                "elderly.home_care",
                "registry.death",
                "assistance.disability_subsidy",
            ]
        )
    )
    if matter == "assistance.dibao":
        a, b = draw(people()), draw(people())
        body = application(
            matter,
            a,
            household=[(a, draw(st.integers(0, 200000))), (b, 0)],
            economicCheckConsent=consent(a, [a, b]),
        )
        named = [a, b]
    elif matter == "orgs.register":
        a = draw(people())
        body = application(
            matter,
            a,
            organisation={
                "name": "太仓市"
                + draw(st.text("0123456789abcdef", min_size=8, max_size=8))
                + "协会",
                "kind": draw(
                    st.sampled_from(
                        [
                            "ORGANISATION_KIND_SOCIAL_GROUP",
                            "ORGANISATION_KIND_PRIVATE_NON_ENTERPRISE",
                            "ORGANISATION_KIND_FOUNDATION",
                        ]
                    )
                ),
                "registeredCapitalFen": 8_000_000_00,
            },
        )
        named = [a]
    elif matter == "registry.marriage":
        a = draw(people(1960, 1995, male=True))
        b = draw(people(1960, 1995, male=False))
        body = application(matter, a, otherParty=party(b))
        named = [a, b]
    elif matter == "elderly.home_care":
        a = draw(people(1930, 1960))
        body = application(matter, a, care={"service": "meals", "hoursPerMonth": 20})
        named = [a]
    elif matter == "assistance.disability_subsidy":
        a = draw(people())
        body = application(
            matter,
            a,
            household=[(a, 0)],
            disability={"grade": draw(st.integers(1, 4)), "certificateNumber": "32058519700101X"},
        )
        named = [a]
    else:
        a, dead = draw(people()), draw(people(1930, 1960))
        body = application(
            matter,
            a,
            death={
                "deceasedName": dead.name,
                "deceasedIdNumber": dead.id_number,
                "dateOfDeath": (dt.date.today() - dt.timedelta(days=2)).isoformat(),
            },
        )
        named = [a, dead]
    return body, {s for p in named for s in (p.name, p.id_number, p.phone)}


# --- bad values ------------------------------------------------------------------------------

SQL_AND_SCRIPT = [
    "'; DROP TABLE cases; --",
    "Robert'); DELETE FROM outbox;--",
    "1' OR '1'='1",
    '" OR ""="',
    "王' UNION SELECT applicant FROM cases --",
    "$1::text",
    "%s%s%s%n",
    "{{7*7}}",
    "${jndi:ldap://x/a}",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "javascript:alert(1)",
    "../../../../etc/passwd",
    "\\u0000",
    "周\u0000秀英",
    "\u0000",
]

UNUSUAL_UNICODE = [
    "\u202e英秀周",  # right-to-left override
    "周\u200b秀\u200d英",  # zero-width space and joiner
    "\ufeff周秀英",  # byte-order mark
    "周秀英\u0301\u0301\u0301",  # stacked combining marks
    "👨‍👩‍👧‍👦",
    "🀄" * 20,
    "𠀀𠀁𠀂",  # CJK extension B, outside the BMP
    "Ａｂｃ１２３",  # full width
    "\u3000",  # ideographic space only
    "\u2028\u2029",
    "\x7f\x1b[31m",
    "\ud800",  # lone surrogates: valid JSON escapes, not valid Unicode
    "\udfff周",
    "周\ud83d",
    "\uffff\ufffe",
    "ℌ𝔢𝔩𝔩𝔬",
]


def huge_strings(min_size: int = 1_000, max_size: int = 90_000) -> st.SearchStrategy[str]:
    return st.builds(
        lambda unit, n: unit * (n // len(unit)),
        st.sampled_from(["王", "a", "🀄", "\u200b", "'; --", "9"]),
        st.integers(min_size, max_size),
    )


unusual_text = st.one_of(
    st.sampled_from(UNUSUAL_UNICODE),
    st.text(st.characters(codec=None, exclude_categories=()), max_size=30),
    st.text(st.characters(categories=["Cc", "Cf", "Co", "Cs", "Zl", "Zp", "Mn"]), max_size=10),
)


@st.composite
def invalid_identity_numbers(draw: st.DrawFn) -> str:
    valid = draw(people()).id_number
    broken = draw(
        st.sampled_from(
            [
                "check digit",
                "date",
                "future",
                "short",
                "long",
                "letters",
                "fifteen",
                "full width",
                "arabic digits",
                "empty",
            ]
        )
    )
    if broken == "check digit":
        return valid[:-1] + ("0" if valid[-1] != "0" else "1")
    if broken == "date":
        body = f"{JURISDICTION}{draw(st.sampled_from(['19990230', '20010229', '19801301', '19800000']))}123"
        return body + draw(st.sampled_from("0123456789X"))
    if broken == "future":
        return compose(JURISDICTION, dt.date.today() + dt.timedelta(days=400), 123)
    if broken == "short":
        return valid[: draw(st.integers(1, 17))]
    if broken == "long":
        return valid + draw(st.text("0123456789X", min_size=1, max_size=5))
    if broken == "letters":
        at = draw(st.integers(0, 16))
        return valid[:at] + draw(st.sampled_from("ABxz-#")) + valid[at + 1 :]
    if broken == "fifteen":
        return valid[:6] + valid[8:17]
    if broken == "full width":
        return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in valid)
    if broken == "arabic digits":
        return "".join(chr(ord(c) - ord("0") + 0x0660) if c.isdigit() else c for c in valid)
    return ""


division_codes = st.one_of(
    st.sampled_from(
        [
            "",
            "32058",
            "3205850",
            "999999",
            "000000",
            "320500",
            "320000",
            "110101",
            "３２０５８５",
            "٣٢٠٥٨٥",
            "32058５",
            "abcdef",
            "320585\u0000",
            " 320585",
            "-32058",
            "320585" * 1000,
        ]
    ),
    st.text("0123456789", min_size=6, max_size=6),
)

enum_values = st.one_of(
    st.sampled_from(
        [
            "ORGANISATION_KIND_UNSPECIFIED",
            "ORGANISATION_KIND_BOGUS",
            "organisation_kind_foundation",
            "DECISION_APPROVE",
            "CASE_STATUS_ROUTED",
            "",
            "1",
            "99",
        ]
    ),
    st.integers(-(2**31), 2**31 - 1),
    st.sampled_from([-1, 4, 99, 2**31, -(2**31) - 1, 2**63]),
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([2**63, -(2**63) - 1, 2**64, 10**30, -1, 0]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    unusual_text,
    st.sampled_from(SQL_AND_SCRIPT),
)

junk_json = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)

junk_values = st.one_of(
    junk_json,
    huge_strings(),
    invalid_identity_numbers(),
    division_codes,
    enum_values,
    st.sampled_from(SQL_AND_SCRIPT),
    unusual_text,
)

# What each named field is fuzzed with, beyond any junk.
FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "name": st.one_of(st.sampled_from(SQL_AND_SCRIPT), unusual_text, huge_strings(40, 80)),
    "deceasedName": st.one_of(st.sampled_from(SQL_AND_SCRIPT), unusual_text),
    "relation": st.one_of(st.sampled_from(SQL_AND_SCRIPT), unusual_text, huge_strings(15, 30)),
    "idNumber": invalid_identity_numbers(),
    "deceasedIdNumber": invalid_identity_numbers(),
    "consentingIdNumber": invalid_identity_numbers(),
    "hukouDivision": division_codes,
    "kind": enum_values,
    "matterCode": st.one_of(
        st.sampled_from(["assistance.unknown", "ASSISTANCE.DIBAO", "assistance.dibao ", ""]),
        st.text(max_size=30),
    ),
    "requestId": st.one_of(
        st.text(max_size=80),
        st.sampled_from(["", "short", "a" * 65, "-leading-dash", "has space in it", "周秀英-0001"]),
    ),
    "phone": st.one_of(st.text("0123456789-+ ", max_size=20), unusual_text),
    "monthlyIncomeFen": st.one_of(
        st.integers(), st.sampled_from(["12", "1e3", "-5", "0x10", 1.5, 2**63]), scalars
    ),
    "dateOfDeath": st.one_of(
        st.sampled_from(["2026-02-30", "1800-01-01", "9999-12-31", "yesterday", "2026-1-1"]),
        st.dates().map(dt.date.isoformat),
    ),
    "consentTime": st.one_of(
        st.sampled_from(["not a time", "2026-13-01T00:00:00Z", "10000-01-01T00:00:00Z", 0]),
        st.text(max_size=25),
    ),
    "materials": st.one_of(
        st.lists(st.one_of(st.text(max_size=20), st.sampled_from(SQL_AND_SCRIPT)), max_size=60),
        st.lists(st.just("id_card"), min_size=51, max_size=80),
        scalars,
    ),
    "householdMembers": st.one_of(st.lists(junk_json, max_size=3), st.just([]), scalars),
}


PERSONAL_FIELDS = ("idNumber", "deceasedIdNumber", "consentingIdNumber", "phone", "name")


def _looks_personal(value: object) -> bool:
    """Long enough, and with digits or CJK, not to turn up in an error message by chance."""
    return (
        isinstance(value, str)
        and len(value.strip()) >= 10
        and any(c.isdigit() or ord(c) >= 0x3400 for c in value)
    )


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every position in a JSON document, the document itself first."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*prefix, i))


def _parent(document: Any, path: tuple[Any, ...]) -> Any:
    for step in path[:-1]:
        document = document[step]
    return document


@st.composite
def mutated_applications(draw: st.DrawFn) -> tuple[dict[str, Any] | Any, set[str]]:
    """A valid application with one to three things wrong: fields dropped, added, retyped or
    given a bad value of the right type."""
    document, secrets = draw(valid_applications())
    document = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(document))
        path = draw(st.sampled_from(paths))
        operation = draw(st.sampled_from(["drop", "retype", "field value", "add", "field value"]))
        if operation == "add":
            target = document
            for step in path:
                target = target[step]
            if isinstance(target, dict):
                key = draw(
                    st.one_of(
                        st.sampled_from(["extra", "applicant", "idNumber", "id_number", "@type"]),
                        st.text(max_size=12),
                    )
                )
                target[key] = draw(junk_values)
            continue
        if not path:
            if operation == "retype":
                document = draw(junk_json)
            continue
        parent = _parent(document, path)
        if operation == "drop":
            del parent[path[-1]]
            continue
        named = next((p for p in reversed(path) if isinstance(p, str)), "")
        strategy = FIELD_VALUES.get(named) if operation == "field value" else None
        value = draw(strategy if strategy is not None else junk_values)
        parent[path[-1]] = value
        if named in PERSONAL_FIELDS and _looks_personal(value):
            # A bad identity number is still someone's typo of a real one: never echoed.
            secrets.add(value)
    return document, secrets


def _encoded(document: Any) -> bytes:
    # ensure_ascii: lone surrogates travel as JSON escapes, as a careless client sends them.
    return json.dumps(document, ensure_ascii=True, allow_nan=True).encode()


def _request_id(document: Any) -> str | None:
    if isinstance(document, dict) and isinstance(document.get("requestId"), str):
        return str(document["requestId"])
    return None


# --- the HTTP API ----------------------------------------------------------------------------


@fuzz(400)
@given(mutated=mutated_applications())
def test_mutated_applications_are_refused_cleanly_or_were_valid(window, mutated):
    document, secrets = mutated
    submit_and_check(
        window, Submission(_encoded(document), _request_id(document), frozenset(secrets))
    )


def _known_valid() -> dict[str, Any]:
    applicant = Person("吴秀英", compose(JURISDICTION, dt.date(1958, 7, 9), 44), "13912340000")
    return application(
        "assistance.dibao",
        applicant,
        household=[(applicant, 30000)],
        economicCheckConsent=consent(applicant, [applicant]),
    )


def _edited(path: str, value: Any, matter: str = "") -> Callable[[], dict[str, Any]]:
    """The known valid application with one value put at a dotted path."""

    def build() -> dict[str, Any]:
        body = _known_valid()
        if matter:
            found = catalog.load().latest(matter)
            assert found is not None
            materials = [m.code for m in found.required_materials]
            body = {**body, "matterCode": matter, "details": {}, "materials": materials}
        *parents, leaf = path.split(".")
        target: Any = body
        for step in parents:
            target = target[int(step)] if step.isdigit() else target.setdefault(step, {})
        target[leaf] = value
        return body

    return build


# Inputs that once made a process fail (or that a careful reader expects to): run every time,
# whatever hypothesis happens to draw.
KNOWN_BAD = {
    "NUL in a relation": _edited("householdMembers.0.relation", "本人\u0000"),
    "control character in a relation": _edited("householdMembers.0.relation", "本\u001b人"),
    "right-to-left override in a name": _edited("applicant.name", "\u202e英秀吴"),
    "phone with a trailing newline": _edited("applicant.phone", "13912340000\n"),
    "phone in Arabic-Indic digits": _edited("applicant.phone", "١٣٩١٢٣٤٠٠٠٠"),
    "lone surrogate in a name": _edited("applicant.name", "\ud800"),
    "organisation kind by an unknown number": _edited(
        "details.organisation",
        {"name": "太仓市测试协会", "kind": 99, "registeredCapitalFen": 1},
        "orgs.register",
    ),
    "organisation kind by an unknown name": _edited(
        "details.organisation",
        {"name": "太仓市测试协会", "kind": "ORGANISATION_KIND_BOGUS"},
        "orgs.register",
    ),
    "NUL in a disability certificate number": _edited(
        "details.disability",
        {"grade": 2, "certificateNumber": "\u0000"},
        "assistance.disability_subsidy",
    ),
    "huge disability certificate number": _edited(
        "details.disability",
        {"grade": 2, "certificateNumber": "9" * 60_000},
        "assistance.disability_subsidy",
    ),
    "NUL in a care service": _edited(
        "details.care", {"service": "meals\u0000", "hoursPerMonth": 10}, "elderly.home_care"
    ),
    "income beyond int64": _edited("householdMembers.0.monthlyIncomeFen", 2**64),
    "income as a numeric string": _edited("householdMembers.0.monthlyIncomeFen", "30000"),
    "consent time in year 10000": _edited(
        "details.economicCheckConsent.consentTime", "10000-01-01T00:00:00Z"
    ),
    "consent time far in the future": _edited(
        "details.economicCheckConsent.consentTime", "9999-12-31T23:59:59Z"
    ),
    "death date with NUL": _edited(
        "details.death",
        {
            "deceasedName": "吴建国",
            "deceasedIdNumber": compose(JURISDICTION, dt.date(1950, 1, 1), 11),
            "dateOfDeath": "\u0000",
        },
        "registry.death",
    ),
    "fifty-one materials": _edited("materials", ["id_card"] * 51),
    "request id with a trailing newline": _edited("requestId", "fuzz-known-0001\n"),
    "consent time before 1970": _edited(
        "details.economicCheckConsent.consentTime", "1969-12-31T23:59:59Z"
    ),
    "huge care service": _edited(
        "details.care", {"service": "meals" * 10_000, "hoursPerMonth": 10}, "elderly.home_care"
    ),
}


@pytest.mark.parametrize("case", list(KNOWN_BAD), ids=list(KNOWN_BAD))
def test_known_bad_inputs_are_refused_cleanly_or_were_valid(window, case):
    document = KNOWN_BAD[case]()
    secrets = {document["applicant"]["idNumber"], document["applicant"]["name"]}
    # Unique per run: a body the window accepts must not meet the previous run's case.
    if document["requestId"] != "fuzz-known-0001\n":
        document["requestId"] = f"known-{uuid.uuid4()}"
    submit_and_check(
        window, Submission(_encoded(document), _request_id(document), frozenset(secrets))
    )


def _nested(depth: int, opener: str, closer: str) -> bytes:
    return (opener * depth + closer * depth).encode()


raw_bodies = st.one_of(
    st.builds(_encoded, junk_json.filter(lambda d: not isinstance(d, dict))),
    st.builds(_nested, st.integers(10, 40_000), st.just("["), st.just("]")),
    st.builds(
        lambda depth: ('{"a":' * depth + "1" + "}" * depth).encode(), st.integers(10, 15_000)
    ),
    st.builds(
        lambda depth: ('{"applicant":' * depth + "{}" + "}" * depth).encode(),
        st.integers(10, 10_000),
    ),
    st.binary(max_size=200),
    st.sampled_from(
        [
            b"",
            b"null",
            b"\xff\xfe{\x00}\x00",
            b"\xef\xbb\xbf{}",
            b'{"requestId": "abc',
            b'{"requestId": "\xff\xfe"}',
            b'{"requestId": "\\ud800abcdefgh"}',
            b'{"a": NaN, "b": Infinity}',
            b'{"requestId": 1, "requestId": 2}',
            b"[]" * 1000,
            b'{"matterCode": "assistance.dibao"} trailing',
            '{"requestId": "周秀英"}'.encode("utf-16"),
            '{"matterCode": "assistance.dibao"}'.encode("gb18030"),
            '{"matterCode": "社会救助"}'.encode("gb18030"),
        ]
    ),
)


@fuzz(150)
@given(body=raw_bodies)
def test_malformed_bodies_are_refused(window, body):
    submit_and_check(window, Submission(body, None, frozenset()))


content_types = st.one_of(
    st.sampled_from(
        [
            "",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=xyz",
            "application/json; charset=latin-1",
            "application/json; charset=utf-16",
            "application/json-patch+json",
            "application/jsonx",
            "APPLICATION/JSON",
            "application/json;;;",
            "application/xml",
        ]
    ),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40),
)


@fuzz(50)
@given(application=valid_applications(), content_type=content_types)
def test_bodies_of_other_content_types_are_refused_or_were_json(window, application, content_type):
    document, secrets = application
    submit_and_check(
        window,
        Submission(_encoded(document), _request_id(document), frozenset(secrets), content_type),
    )


@fuzz(12)
@given(
    application=valid_applications(),
    size=st.integers(MAX_BODY_BYTES + 1, 4 * MAX_BODY_BYTES),
    where=st.sampled_from(["name", "materials", "padding"]),
)
def test_bodies_over_the_limit_are_refused_as_too_large(window, application, size, where):
    document, secrets = application
    if where == "name":
        document["applicant"]["name"] = "王" * (size // 3)
    elif where == "materials":
        document["materials"] = ["id_card"] * (size // 10)
    else:
        document["padding"] = "a" * size
    answer = submit_and_check(
        window, Submission(_encoded(document), _request_id(document), frozenset(secrets))
    )
    assert answer.status == 413


receipts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "320585-00000-00000",
            "320585-IIIII-LLLLL",
            "320585-7k3f9-qx2ma",
            "320583-7K3F9-QX2MA",
            "000000-00000-00000",
            "320585-7K3F9-QX2MA-",
            "'; DROP TABLE cases; --",
            "..",
            "%00",
            "320585-7K3F9-QX2MA\u0000",
            "a" * 5000,
        ]
    ),
)


@fuzz(40)
@given(receipt=receipts)
def test_look_ups_of_junk_receipts_are_refused(window, receipt):
    path = "/v1/applications/" + urllib.parse.quote(receipt, safe="")
    answer = window.http("GET", path, headers=window.clerk)
    assert_http_client_answer(answer)


query_values = st.one_of(
    st.text(max_size=20),
    st.integers().map(str),
    st.sampled_from(["99999999999", "-1", "2147483648", "-2147483649", "1e3", "true", "", "TRUE"]),
    st.sampled_from(["assistance", "elderly", "nope", "'; --"]),
    huge_strings(100, 2000),
)
query_names = st.sampled_from(["overdue", "dueWithinDays", "pageSize", "pageToken", "department"])


@fuzz(40)
@given(params=st.lists(st.tuples(query_names, query_values), max_size=4))
def test_list_queries_with_junk_parameters_are_refused_or_answered(window, params):
    for path, caller in (
        ("/v1/applications", window.clerk),
        ("/v1/departments/assistance/cases", window.officer),
    ):
        target = f"{path}?{urllib.parse.urlencode(params)}"
        answer = window.http("GET", target, headers=caller)
        if len(target) > MAX_REQUEST_LINE:
            # aiohttp's parser refuses it before the application sees it, in plain text.
            assert 400 <= answer.status < 500, f"answered HTTP {answer.status}"
        else:
            assert_http_client_answer(answer)


decisions = st.fixed_dictionaries(
    {
        "requestId": st.one_of(st.uuids().map(str), FIELD_VALUES["requestId"]),
        "decision": st.one_of(
            st.sampled_from(["DECISION_APPROVE", "DECISION_REJECT", "DECISION_REQUEST_MATERIALS"]),
            enum_values,
        ),
    },
    optional={
        "officerId": st.one_of(st.just("officer-7"), st.text(max_size=30), huge_strings(10, 5000)),
        "reason": st.one_of(st.text(max_size=40), unusual_text, st.sampled_from(SQL_AND_SCRIPT)),
        "receipt": receipts,
        "extra": junk_json,
    },
)


@fuzz(40)
@given(
    decision=st.one_of(decisions, junk_json),
    receipt=st.one_of(st.none(), receipts),
    department=st.sampled_from(["assistance", "elderly", "unknown", "ASSISTANCE"]),
)
def test_decisions_with_junk_are_refused_or_taken(window, decision, receipt, department):
    target = urllib.parse.quote(window.known_receipt if receipt is None else receipt, safe="")
    answer = window.http(
        "POST",
        f"/v1/departments/{urllib.parse.quote(department, safe='')}/cases/{target}:decide",
        _encoded(decision),
        _json_headers(window, window.officer),
    )
    assert_http_client_answer(answer)


@fuzz(30)
@given(
    action=st.sampled_from(["supplyMaterials", "confirmDivorce", "withdrawDivorce"]),
    body=st.one_of(
        st.fixed_dictionaries(
            {}, optional={"materials": FIELD_VALUES["materials"], "idNumber": junk_values}
        ),
        junk_json,
    ),
    receipt=st.one_of(st.none(), receipts),
)
def test_window_actions_with_junk_are_refused_or_taken(window, action, body, receipt):
    target = urllib.parse.quote(window.known_receipt if receipt is None else receipt, safe="")
    answer = window.http(
        "POST", f"/v1/applications/{target}:{action}", _encoded(body), _json_headers(window)
    )
    assert_http_client_answer(answer)


# --- the gRPC API ----------------------------------------------------------------------------

_STRING_FIELDS = [
    ("request_id",),
    ("matter_code",),
    ("applicant", "name"),
    ("applicant", "id_number"),
    ("applicant", "phone"),
    ("applicant", "hukou_division"),
    ("details", "other_party", "name"),
    ("details", "other_party", "id_number"),
    ("details", "organisation", "name"),
    ("details", "organisation", "credit_code"),
    ("details", "death", "deceased_name"),
    ("details", "death", "deceased_id_number"),
    ("details", "death", "date_of_death"),
    ("details", "economic_check_consent", "consenting_id_number"),
    ("details", "care", "service"),
    ("details", "disability", "certificate_number"),
]
_INT_FIELDS = [
    (("details", "organisation", "kind"), -(2**31), 2**31 - 1),
    (("details", "organisation", "registered_capital_fen"), -(2**63), 2**63 - 1),
    (("details", "organisation", "report_year"), -(2**31), 2**31 - 1),
    (("details", "care", "hours_per_month"), -(2**31), 2**31 - 1),
    (("details", "disability", "grade"), -(2**31), 2**31 - 1),
    (("details", "requested_amount_fen"), -(2**63), 2**63 - 1),
    (("details", "economic_check_consent", "consent_time", "seconds"), -(2**40), 2**40),
    (("details", "economic_check_consent", "consent_time", "nanos"), -(2**31), 2**31 - 1),
]


def _is_utf8(text: str) -> bool:
    return not any(0xD800 <= ord(c) <= 0xDFFF for c in text)


# Strings protobuf can carry: valid UTF-8 only, so no lone surrogates.
proto_text = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=30),
    st.sampled_from([s for s in SQL_AND_SCRIPT + UNUSUAL_UNICODE if _is_utf8(s)]),
    huge_strings(1_000, 300_000).filter(_is_utf8),
    invalid_identity_numbers(),
    division_codes,
)


def _set(message: Any, path: tuple[str, ...], value: Any) -> None:
    for step in path[:-1]:
        message = getattr(message, step)
    setattr(message, path[-1], value)


@st.composite
def mutated_protos(draw: st.DrawFn) -> tuple[pb.SubmitApplicationRequest, set[str]]:
    document, secrets = draw(valid_applications())
    message = json_format.ParseDict(document, pb.SubmitApplicationRequest())
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["string", "int", "member", "materials", "clear"]))
        if kind == "string":
            path = draw(st.sampled_from(_STRING_FIELDS))
            value = draw(proto_text)
            _set(message, path, value)
            if path[-1] in ("id_number", "deceased_id_number", "name") and _looks_personal(value):
                secrets.add(value)
        elif kind == "int":
            path, low, high = draw(st.sampled_from(_INT_FIELDS))
            _set(message, path, draw(st.integers(low, high)))
        elif kind == "member":
            message.household_members.add(
                name=draw(proto_text),
                id_number=draw(proto_text),
                relation=draw(proto_text),
                monthly_income_fen=draw(st.integers(-(2**63), 2**63 - 1)),
            )
        elif kind == "materials":
            message.materials.extend(draw(st.lists(proto_text, max_size=60)))
        else:
            field_name = draw(st.sampled_from(["applicant", "details", "household_members"]))
            message.ClearField(field_name)
    return message, secrets


@fuzz(300)
@given(mutated=mutated_protos())
def test_generated_grpc_applications_are_refused_cleanly_or_were_valid(window, mutated):
    message, secrets = mutated
    before = window.ledger.case_count()
    receipt = receipt_for(JURISDICTION, message.request_id)
    stored_before = window.ledger.has_case(receipt)
    try:
        response = window.gateway.SubmitApplication(
            message, metadata=window.grpc_metadata(window.clerk), timeout=REQUEST_TIMEOUT
        )
    except grpc.RpcError as error:
        assert_grpc_client_error(error, secrets)
        event(error.code().name)
        assert window.ledger.case_count() == before, "a refused application stored a case"
        assert window.ledger.has_case(receipt) == stored_before
        return
    event("OK")
    assert window.ledger.case_count() - before == (1 if response.created else 0)
    assert_stored_case_is_valid(window, response.receipt)


@fuzz(60)
@given(
    raw=st.one_of(
        st.binary(max_size=300),
        # A string field (request_id, 1) holding bytes that are not UTF-8.
        st.builds(lambda junk: b"\x0a" + bytes([len(junk)]) + junk, st.binary(max_size=100)),
        st.sampled_from([b"\xff" * 10, b"\x0a\xff", b"\x08" + b"\xff" * 11, b"\x1a\x05\x0a"]),
    )
)
def test_raw_junk_bytes_over_grpc_are_refused(window, raw):
    before = window.ledger.case_count()
    call = window.channel.unary_unary(SUBMIT_METHOD)
    try:
        call(raw, metadata=window.grpc_metadata(window.clerk), timeout=REQUEST_TIMEOUT)
    except grpc.RpcError as error:
        assert_grpc_client_error(error)
    assert window.ledger.case_count() == before


def test_grpc_messages_over_the_limit_are_refused(window):
    message = pb.SubmitApplicationRequest(request_id="oversize-0001", matter_code="a" * 10)
    message.applicant.name = "王" * (GRPC_MAX_MESSAGE_BYTES // 3 + 10)
    before = window.ledger.case_count()
    with pytest.raises(grpc.RpcError) as raised:
        window.gateway.SubmitApplication(
            message, metadata=window.grpc_metadata(window.clerk), timeout=REQUEST_TIMEOUT
        )
    assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert window.ledger.case_count() == before


int32s = st.one_of(st.integers(-(2**31), 2**31 - 1), st.sampled_from([-1, 0, 2**31 - 1]))


@fuzz(50)
@given(
    call=st.one_of(
        st.builds(lambda r: ("GetApplication", pb.GetApplicationRequest(receipt=r)), proto_text),
        st.builds(
            lambda size, token, overdue, days, department: (
                "ListApplications",
                pb.ListApplicationsRequest(
                    page_size=size,
                    page_token=token,
                    overdue=overdue,
                    due_within_days=days,
                    department=department,
                ),
            ),
            int32s,
            st.one_of(st.just(""), proto_text),
            st.booleans(),
            int32s,
            st.one_of(st.sampled_from(["", "assistance", "registry"]), proto_text),
        ),
        st.builds(
            lambda department, size, token: (
                "ListDepartmentCases",
                pb.ListDepartmentCasesRequest(
                    department=department, page_size=size, page_token=token
                ),
            ),
            st.one_of(st.just("assistance"), proto_text),
            int32s,
            st.one_of(st.just(""), proto_text),
        ),
        st.builds(
            lambda department, receipt, request_id, decision, reason: (
                "DecideCase",
                pb.DecideCaseRequest(
                    department=department,
                    receipt=receipt,
                    request_id=request_id,
                    decision=decision,
                    reason=reason,
                ),
            ),
            st.one_of(st.just("assistance"), proto_text),
            st.one_of(st.just(""), proto_text),
            st.one_of(st.uuids().map(str), proto_text),
            int32s,
            proto_text,
        ),
    ),
    as_officer=st.booleans(),
)
def test_other_grpc_calls_with_junk_are_refused_or_answered(window, call, as_officer):
    method, message = call
    if method == "DecideCase" and not message.receipt:
        message.receipt = window.known_receipt
    caller = (
        window.officer
        if as_officer or method in ("ListDepartmentCases", "DecideCase")
        else window.clerk
    )
    try:
        getattr(window.gateway, method)(
            message, metadata=window.grpc_metadata(caller), timeout=REQUEST_TIMEOUT
        )
    except grpc.RpcError as error:
        assert_grpc_client_error(error)


# Page tokens are base64 JSON lists: opaque, not signed, so a forged one must be refused
# before a store reads its positions.
FORGED_PAGE_TOKENS = {
    "one position where two are read": ["2026-01-01T00:00:00+00:00"],
    "a position that is not a time": ["yesterday", "320585-00000-00000"],
    "NUL in the positions": ["\u0000", "\u0000"],
}


@pytest.mark.parametrize("forged", list(FORGED_PAGE_TOKENS), ids=list(FORGED_PAGE_TOKENS))
def test_forged_page_tokens_are_refused(window, forged):
    token = base64.urlsafe_b64encode(json.dumps(FORGED_PAGE_TOKENS[forged]).encode()).decode()
    for path, caller in (
        ("/v1/applications", window.clerk),
        ("/v1/departments/assistance/cases", window.officer),
        ("/v1/audit", bearer("auditor")),
    ):
        answer = window.http("GET", f"{path}?pageToken={token}", headers=caller)
        assert_http_client_answer(answer)


# --- afterwards ------------------------------------------------------------------------------


def test_platform_is_still_healthy_and_no_request_failed_inside(window):
    """Runs last in this file: the fuzzing crashed no process, and no request it sent made a
    process fail (an unexpected exception is logged by type before it becomes a 5xx)."""
    assert window.platform.exited() == {}
    answer = window.http("GET", "/healthz", headers=bearer("operator"))
    assert answer.status == 200
    assert answer.json()["status"] == "SERVING"
    failures: dict[str, int] = {}
    for name, offset in window.log_offsets.items():
        with window.platform.log_path(name).open("rb") as log:
            log.seek(offset)
            lines = log.read().decode("utf-8", errors="replace").splitlines()
        failing = [
            line
            for at, line in enumerate(lines)
            if any(mark in line for mark in FAILURE_MARKS)
            and not any(known in later for later in lines[at : at + 12] for known in TOLERATED)
        ]
        if failing:
            failures[name] = len(failing)
            # Log lines carry types and paths, never personal data: safe to show.
            print(f"--- {name}", *failing[:20], sep="\n")
    assert failures == {}, f"requests made processes fail: {failures}"
