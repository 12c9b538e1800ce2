"""The window over HTTP/JSON: acceptance, idempotency, refusals that store nothing."""

from __future__ import annotations

import asyncpg
import pytest

from tests.conftest import bearer, get_application, wait_for_entry
from tests.factories import PERSONAL_DATA, dibao_json, person


async def _stored_counts(intake_db: asyncpg.Connection) -> tuple[int, int, int]:
    return (
        await intake_db.fetchval("SELECT count(*) FROM cases"),
        await intake_db.fetchval("SELECT count(*) FROM timeline"),
        await intake_db.fetchval("SELECT count(*) FROM outbox"),
    )


async def test_dibao_application_is_accepted_and_routed_to_assistance(http):
    async with http.post("/v1/applications", json=dibao_json()) as response:
        assert response.status == 200
        body = await response.json()
        assert response.headers["X-Trace-Id"] == body["traceId"]
    assert body["status"] == "CASE_STATUS_ACCEPTED"
    assert body["departments"] == ["assistance"]
    assert body["created"] is True
    assert body["receipt"].startswith("320585-")
    assert len(body["traceId"]) == 32
    assert body["decisionDeadline"].endswith("15:59:59Z")  # 23:59:59 China time

    application = await wait_for_entry(http, body["receipt"], "ROUTED")
    assert application["status"] == "CASE_STATUS_ROUTED"
    routed = [e for e in application["timeline"] if e["kind"] == "TIMELINE_ENTRY_KIND_ROUTED"]
    assert routed[0]["department"] == "assistance"
    assert routed[0]["message"]["code"] == "TEXT_CODE_ASSESSED_ELIGIBLE"
    # Rendered in the bureau's language unless the caller asks for another.
    assert "低于苏州市标准945.00元" in routed[0]["message"]["text"]
    async with http.get(
        f"/v1/applications/{body['receipt']}", headers={"Accept-Language": "en-GB,en;q=0.8"}
    ) as response:
        in_english = (await response.json())["application"]
    routed = [e for e in in_english["timeline"] if e["kind"] == "TIMELINE_ENTRY_KIND_ROUTED"]
    assert "below the 苏州市 standard of 945.00 yuan" in routed[0]["message"]["text"]
    assert next(e["kind"] for e in application["timeline"]) == "TIMELINE_ENTRY_KIND_ACCEPTED"
    assert all(e["createTime"] for e in application["timeline"])


async def test_lookup_masks_personal_data(http):
    applicant = person()
    async with http.post("/v1/applications", json=dibao_json(applicant)) as response:
        receipt = (await response.json())["receipt"]
    application = await get_application(http, receipt)
    assert (
        application["applicantIdNumber"]
        == applicant.id_number[:4] + "*" * 10 + applicant.id_number[-4:]
    )
    assert application["applicantName"] == applicant.name[0] + "**"
    assert applicant.phone not in str(application)


async def test_same_request_id_returns_the_first_receipt_and_stores_nothing_new(http, intake_db):
    application = dibao_json()
    async with http.post("/v1/applications", json=application) as response:
        first = await response.json()
    await wait_for_entry(http, first["receipt"], "ROUTED")
    before = await _stored_counts(intake_db)

    async with http.post("/v1/applications", json=application) as response:
        assert response.status == 200
        again = await response.json()
    assert again["receipt"] == first["receipt"]
    assert again["created"] is False
    assert again["status"] == "CASE_STATUS_ROUTED"
    assert await _stored_counts(intake_db) == before
    assert (
        await intake_db.fetchval(
            "SELECT count(*) FROM cases WHERE request_id = $1", application["requestId"]
        )
        == 1
    )


def _wrong_check_digit(body):
    number = body["applicant"]["idNumber"]
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    PERSONAL_DATA.add(wrong)
    body["applicant"]["idNumber"] = wrong
    body["householdMembers"][0]["idNumber"] = wrong
    return body


REFUSALS = {
    "wrong check digit": (_wrong_check_digit, 400, "INVALID_ARGUMENT", {"applicant.id_number"}),
    "unknown matter": (
        lambda b: {**b, "matterCode": "assistance.unknown"},
        400,
        "INVALID_ARGUMENT",
        {"matter_code"},
    ),
    "missing material": (
        lambda b: {**b, "materials": ["id_card", "hukou_booklet", "income_proof"]},
        400,
        "FAILED_PRECONDITION",
        {"materials"},
    ),
    "negative income": (
        lambda b: {
            **b,
            "householdMembers": [
                b["householdMembers"][0],
                {**b["householdMembers"][1], "monthlyIncomeFen": -100},
            ],
        },
        400,
        "INVALID_ARGUMENT",
        {"household_members[1].monthly_income_fen"},
    ),
    "unknown division": (
        lambda b: {**b, "applicant": {**b["applicant"], "hukouDivision": "999999"}},
        400,
        "INVALID_ARGUMENT",
        {"applicant.hukou_division"},
    ),
    "unknown field": (
        lambda b: {**b, "favouriteColour": "red"},
        400,
        "INVALID_ARGUMENT",
        {"favourite_colour"},
    ),
    "income of the wrong type": (
        lambda b: {
            **b,
            "householdMembers": [{**b["householdMembers"][0], "monthlyIncomeFen": "lots"}],
        },
        400,
        "INVALID_ARGUMENT",
        {"household_members.monthly_income_fen"},
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS), ids=list(REFUSALS))
async def test_bad_application_is_refused_with_the_field_named_and_nothing_stored(
    http, intake_db, case
):
    change, status, code, fields = REFUSALS[case]
    body = change(dibao_json())
    before = await _stored_counts(intake_db)
    async with http.post("/v1/applications", json=body) as response:
        assert response.status == status
        error = await response.json()
    assert error["error"]["status"] == code
    violations = error["error"]["details"][0]["fieldViolations"]
    assert fields <= {v["field"] for v in violations}
    assert len(error["traceId"]) == 32
    assert await _stored_counts(intake_db) == before
    text = str(error)
    assert not any(secret in text for secret in PERSONAL_DATA), "an error quotes personal data"


async def test_malformed_json_is_refused(http, intake_db):
    before = await _stored_counts(intake_db)
    async with http.post(
        "/v1/applications", data=b'{"requestId": "abc', headers={"Content-Type": "application/json"}
    ) as response:
        assert response.status == 400
        error = await response.json()
    assert error["error"]["details"][0]["fieldViolations"][0]["field"] == "body"
    assert await _stored_counts(intake_db) == before


async def test_oversized_body_is_refused(http, intake_db):
    before = await _stored_counts(intake_db)
    body = dibao_json()
    body["applicant"]["name"] = "王" * 100_000
    async with http.post("/v1/applications", json=body) as response:
        assert response.status == 413
        error = await response.json()
    assert error["error"]["details"][0]["fieldViolations"][0]["field"] == "body"
    assert await _stored_counts(intake_db) == before


async def test_unknown_and_malformed_receipts(http):
    async with http.get("/v1/applications/320585-00000-00000") as response:
        assert response.status == 404
        assert (await response.json())["error"]["status"] == "NOT_FOUND"
    async with http.get("/v1/applications/not-a-receipt") as response:
        assert response.status == 400
        assert (await response.json())["error"]["details"][0]["fieldViolations"][0][
            "field"
        ] == "receipt"


async def test_healthz_reports_every_service(http):
    async with http.get("/healthz", headers=bearer("operator")) as response:
        assert response.status == 200
        body = await response.json()
    assert body == {
        "status": "SERVING",
        "services": {
            "gateway": "SERVING",
            "intake": "SERVING",
            "assistance": "SERVING",
            "elderly": "SERVING",
            "orgs": "SERVING",
            "registry": "SERVING",
            "ingest": "SERVING",
        },
    }


async def test_matters_lists_dibao_with_its_materials(http):
    async with http.get("/v1/matters") as response:
        matters = (await response.json())["matters"]
    dibao = next(m for m in matters if m["code"] == "assistance.dibao")
    assert dibao["departments"] == ["assistance"]
    assert dibao["timeLimitDays"] == 30
    assert {m["code"] for m in dibao["requiredMaterials"]} == {
        "id_card",
        "hukou_booklet",
        "income_proof",
        "economic_check_consent",
    }
