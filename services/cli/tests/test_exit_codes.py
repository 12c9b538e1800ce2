import json

import pytest

from services.cli import gateway_client
from services.cli.__main__ import main
from services.cli.outcome import ExitCode, exit_code_for, from_error_body
from services.cli.tests.fake_gateway import FakeGateway, api_error
from services.common import auth

RECEIPT = "320585-8D9TV-YJY6T"


@pytest.fixture
def clerk(monkeypatch):
    monkeypatch.setenv("ONEDOOR_TOKEN", auth.issue("window_clerk", "320585"))
    monkeypatch.delenv("ONEDOOR_GATEWAY", raising=False)


def serve(monkeypatch, answer) -> FakeGateway:
    fake = FakeGateway(answer)
    monkeypatch.setattr(gateway_client, "default_opener", fake)
    return fake


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (200, ExitCode.OK),
        (400, ExitCode.FAILED),
        (403, ExitCode.FAILED),
        (404, ExitCode.FAILED),
        (409, ExitCode.FAILED),
        (401, ExitCode.UNAVAILABLE),
        (429, ExitCode.UNAVAILABLE),
        (500, ExitCode.UNAVAILABLE),
        (503, ExitCode.UNAVAILABLE),
    ],
)
def test_http_statuses_map_to_exit_codes(status, code):
    assert exit_code_for(status) == code


def test_the_apis_error_is_read_with_each_field_violation():
    error = from_error_body(
        400,
        api_error(
            400,
            "INVALID_ARGUMENT",
            "the request has invalid fields: applicant.id_number",
            [("applicant.id_number", "check digit does not match")],
        ),
    )
    assert error.status == "INVALID_ARGUMENT"
    assert error.reason == "INVALID_APPLICATION"
    assert error.violations == (("applicant.id_number", "check digit does not match"),)
    assert "applicant.id_number: check digit does not match" in error.details
    assert "trace id eb5aa775f81e30a51c0b7071329c3d1e" in error.details
    # A proxy's page instead of the API's error still maps by its status.
    assert from_error_body(502, None).code == ExitCode.UNAVAILABLE


def test_a_refused_submission_exits_1_and_names_the_field(monkeypatch, clerk, tmp_path, capsys):
    body = api_error(
        400,
        "INVALID_ARGUMENT",
        "the request has invalid fields: applicant.id_number",
        [("applicant.id_number", "check digit does not match")],
    )
    fake = serve(monkeypatch, lambda *_: (400, body))
    application = tmp_path / "dibao.json"
    application.write_text(json.dumps({"matterCode": "assistance.dibao"}))
    assert main(["submit", str(application)]) == ExitCode.FAILED
    err = capsys.readouterr().err
    assert "onedoor submit: 400 INVALID_ARGUMENT" in err
    assert "  applicant.id_number: check digit does not match" in err
    assert "next: nothing was stored" in err
    # The request id added to the file was printed, and sent.
    sent = json.loads(fake.requests[0].data)
    assert f"request id {sent['requestId']}" in err
    assert fake.requests[0].headers["Authorization"].startswith("Bearer ")


def test_json_mode_prints_the_apis_error_body_for_scripts(monkeypatch, clerk, capsys):
    body = api_error(404, "NOT_FOUND", f"case {RECEIPT} does not exist")
    serve(monkeypatch, lambda *_: (404, body))
    assert main(["status", RECEIPT, "--json"]) == ExitCode.FAILED
    captured = capsys.readouterr()
    assert json.loads(captured.out) == body
    assert "next: check the receipt" in captured.err


@pytest.mark.parametrize(
    ("status", "code", "hint"),
    [
        (401, ExitCode.UNAVAILABLE, "set ONEDOOR_TOKEN"),
        (403, ExitCode.FAILED, "onedoor token --help"),
        (503, ExitCode.UNAVAILABLE, "retry in a moment"),
    ],
)
def test_errors_say_what_to_do_next(monkeypatch, clerk, capsys, status, code, hint):
    serve(monkeypatch, lambda *_: (status, api_error(status, "X", "no")))
    assert main(["matters"]) == code
    assert hint in capsys.readouterr().err


def test_no_token_exits_3_before_calling(monkeypatch, capsys):
    monkeypatch.delenv("ONEDOOR_TOKEN", raising=False)
    fake = serve(monkeypatch, lambda *_: (200, {}))
    assert main(["status", RECEIPT]) == ExitCode.UNAVAILABLE
    assert "onedoor token --role" in capsys.readouterr().err
    assert fake.requests == []


def test_an_unreachable_gateway_exits_3(clerk, capsys):
    # Nothing listens on port 1.
    assert main(["--gateway", "http://127.0.0.1:1", "matters"]) == ExitCode.UNAVAILABLE
    assert "cannot reach the gateway at http://127.0.0.1:1" in capsys.readouterr().err


def test_an_unreadable_file_is_a_usage_error(clerk, tmp_path, capsys):
    assert main(["submit", str(tmp_path / "missing.json")]) == ExitCode.USAGE
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert main(["submit", str(broken)]) == ExitCode.USAGE
    assert "is not JSON" in capsys.readouterr().err


def test_a_receipt_stays_one_path_segment(monkeypatch, clerk):
    fake = serve(monkeypatch, lambda *_: (200, {"application": {}}))
    main(["status", "../audit"])
    assert fake.requests[0].full_url.endswith("/v1/applications/..%2Faudit")


def test_an_officers_queue_and_a_clerks_list_use_their_own_api(monkeypatch, capsys):
    fake = serve(monkeypatch, lambda *_: (200, {"cases": [], "applications": []}))
    officer = auth.issue("officer", "320585", department="assistance")
    clerk = auth.issue("window_clerk", "320585")
    main(["cases", "--token", officer])
    main(["cases", "--token", officer, "--overdue"])
    main(["cases", "--token", clerk, "--department", "elderly", "--page-size", "5"])
    urls = [r.full_url.removeprefix("http://127.0.0.1:8080") for r in fake.requests]
    assert urls == [
        "/v1/departments/assistance/cases",
        "/v1/applications?department=assistance&overdue=true",
        "/v1/applications?pageSize=5&department=elderly",
    ]


def test_decide_defaults_to_the_officers_department(monkeypatch, capsys):
    fake = serve(
        monkeypatch,
        lambda *_: (200, {"case": {"receipt": RECEIPT, "state": "CASE_STATE_APPROVED"}}),
    )
    officer = auth.issue("officer", "320585", department="assistance")
    assert main(["decide", RECEIPT, "approve", "--token", officer]) == ExitCode.OK
    request = fake.requests[0]
    assert request.full_url.endswith(f"/v1/departments/assistance/cases/{RECEIPT}:decide")
    assert json.loads(request.data)["decision"] == "DECISION_APPROVE"
    assert "state       APPROVED" in capsys.readouterr().out
