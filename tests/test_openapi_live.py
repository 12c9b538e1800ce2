"""The HTTP API against its own OpenAPI description, with schemathesis: requests generated
from the description, as a window clerk and as an officer, against the live gateway. Every
answer must be no 5xx, a status the description allows, the content type it names, and a body
that conforms to its schema (the error shape for every refusal)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from schemathesis import checks, openapi

from gateway.http_api import description
from services.launcher.platform import Platform
from tests.conftest import bearer

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]
EXAMPLES = {"window_clerk": 20, "officer": 8}


@pytest.mark.parametrize("role", sorted(EXAMPLES))
def test_every_route_answers_as_its_description_says(platform: Platform, role: str) -> None:
    schema = openapi.from_dict(description())
    base_url = f"http://127.0.0.1:{platform.ports.gateway_http}"
    headers = bearer(role, department="assistance" if role == "officer" else "")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == len(description()["paths"]) + 1  # GET and POST /v1/applications

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES[role],
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def answers_as_described(case) -> None:  # type: ignore[no-untyped-def]
            case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS, timeout=15)

        answers_as_described()
