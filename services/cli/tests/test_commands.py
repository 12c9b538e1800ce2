"""Commands end to end against the in-memory gateway: what they send and what they show."""

import json

import pytest

from services.cli import gateway_client
from services.cli.__main__ import main
from services.cli.applications import application_view
from services.cli.outcome import ExitCode
from services.cli.tests.fake_gateway import FakeGateway
from services.common import auth

RECEIPT = "320585-8D9TV-YJY6T"


@pytest.fixture(autouse=True)
def clerk(monkeypatch):
    monkeypatch.setenv("ONEDOOR_TOKEN", auth.issue("window_clerk", "320585"))


def test_a_wait_that_runs_out_exits_1_and_says_the_case_is_recorded(monkeypatch, tmp_path, capsys):
    def answer(method, path, query, body):
        if method == "POST":
            return 200, {"receipt": RECEIPT, "status": "CASE_STATUS_ACCEPTED", "created": True}
        return 200, {"application": {"receipt": RECEIPT, "status": "CASE_STATUS_ACCEPTED"}}

    monkeypatch.setattr(gateway_client, "default_opener", FakeGateway(answer))
    application = tmp_path / "a.json"
    application.write_text('{"requestId": "r-1", "matterCode": "assistance.dibao"}')
    assert main(["submit", str(application), "--wait", "--wait-seconds", "0"]) == ExitCode.FAILED
    captured = capsys.readouterr()
    assert f"receipt      {RECEIPT}" in captured.out
    assert f"{RECEIPT} is still ACCEPTED after 0 s" in captured.err
    assert f"onedoor status {RECEIPT}" in captured.err
    # The file's own request id is kept, and not announced as added.
    assert "request id" not in captured.err


def test_submit_wait_json_is_one_document(monkeypatch, tmp_path, capsys):
    def answer(method, path, query, body):
        if method == "POST":
            return 200, {"receipt": RECEIPT, "status": "CASE_STATUS_ACCEPTED", "created": True}
        return 200, {"application": {"receipt": RECEIPT, "status": "CASE_STATUS_ROUTED"}}

    monkeypatch.setattr(gateway_client, "default_opener", FakeGateway(answer))
    application = tmp_path / "a.json"
    application.write_text('{"matterCode": "assistance.dibao"}')
    assert main(["submit", str(application), "--wait", "--json"]) == ExitCode.OK
    document = json.loads(capsys.readouterr().out)
    assert document["submission"]["receipt"] == RECEIPT
    assert document["application"]["status"] == "CASE_STATUS_ROUTED"


def test_a_forwarded_case_shows_where_it_stands_at_home():
    shown = application_view(
        {
            "receipt": RECEIPT,
            "status": "CASE_STATUS_FORWARDED",
            "applicantName": "周**",
            "applicantIdNumber": "3205**********1234",
            "timeline": [
                {
                    "kind": "TIMELINE_ENTRY_KIND_FORWARDED",
                    "note": "sent to 昆山市 (320583)",
                    "createTime": "2026-11-24T12:32:51.410Z",
                }
            ],
            "forwarding": {
                "homeDivision": "320583",
                "peer": "kunshan",
                "state": "delivered",
                "remoteReceipt": "320583-AAAAA-BBBBB",
                "remoteStatus": "CASE_STATUS_APPROVED",
                "remoteTimeline": [
                    {"kind": "TIMELINE_ENTRY_KIND_APPROVED", "department": "assistance"}
                ],
            },
        }
    )
    assert "applicant    周** 3205**********1234" in shown
    assert "  home receipt   320583-AAAAA-BBBBB" in shown
    assert "  home status    APPROVED" in shown
    assert "timeline at home:" in shown
    assert "2026-11-24 20:32:51 +08:00  FORWARDED  window      sent to 昆山市 (320583)" in shown


def test_progress_reads_the_same_whether_its_state_is_a_word_or_an_enum_value():
    shown = [
        application_view(
            {"receipt": RECEIPT, "progress": [{"department": "assistance", "state": state}]}
        )
        for state in ("AWAITING_MATERIALS", "PROGRESS_STATE_AWAITING_MATERIALS")
    ]
    assert shown[0] == shown[1]
    assert "PROGRESS_STATE_" not in shown[1]


@pytest.mark.parametrize(
    ("argv", "language", "said"),
    [
        ([], "zh-CN", "初审符合条件：家庭金融资产未超过限额"),
        (["--lang", "en"], "en", "assessment: eligible: assets within the limit"),
    ],
)
def test_status_asks_for_a_language_and_shows_what_the_gateway_rendered(
    monkeypatch, capsys, argv, language, said
):
    def answer(method, path, query, body):
        # As the gateway answers: the codes, and their text in the language asked for.
        asked = gateway.requests[-1].get_header("Accept-language")
        text = said if asked == language else "wrong language"
        entry = {
            "kind": "TIMELINE_ENTRY_KIND_ROUTED",
            "department": "assistance",
            "createTime": "2026-11-24T12:32:51Z",
            "message": {"code": "TEXT_CODE_ASSESSED_ELIGIBLE", "text": text},
        }
        old = {"kind": "TIMELINE_ENTRY_KIND_ACCEPTED", "note": "accepted at the window"}
        progress = {"department": "assistance", "state": "OPEN", "message": {"text": text}}
        return 200, {
            "application": {"receipt": RECEIPT, "timeline": [old, entry], "progress": [progress]}
        }

    gateway = FakeGateway(answer)
    monkeypatch.setattr(gateway_client, "default_opener", gateway)
    assert main([*argv, "status", RECEIPT]) == ExitCode.OK
    shown = capsys.readouterr().out
    assert shown.count(said) == 2  # the timeline's and the progress's
    # An entry stored before texts existed still shows its note.
    assert "accepted at the window" in shown
