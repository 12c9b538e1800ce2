import base64
import json

import pytest

from services.cli import credentials, departments, tokens
from services.cli.__main__ import parser
from services.cli.applications import routed, trace_link
from services.cli.outcome import CliError, ExitCode
from services.common import auth


def test_global_options_go_before_or_after_the_command():
    before = parser().parse_args(["--json", "--gateway", "http://g:1", "status", "R"])
    after = parser().parse_args(["status", "R", "--json", "--gateway", "http://g:1"])
    for args in (before, after):
        assert (args.json, args.gateway, args.receipt) == (True, "http://g:1", "R")
    plain = parser().parse_args(["status", "R"])
    assert (plain.json, plain.gateway, plain.timeout) == (False, None, 30.0)


def test_audit_options_reach_its_actions():
    args = parser().parse_args(["audit", "list", "--receipt", "320585-AAAAA-BBBBB", "--all"])
    assert (args.audit_command, args.receipt, args.all) == ("list", "320585-AAAAA-BBBBB", True)
    assert parser().parse_args(["audit", "verify", "--json"]).json


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["status"],
        ["decide", "R", "maybe"],
        ["cases", "--department", "finance"],
        ["audit"],
        ["token", "--role", "janitor", "--jurisdiction", "320585"],
        ["submit", "a.json", "--wait-seconds", "soon"],
    ],
)
def test_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        parser().parse_args(argv)
    assert exited.value.code == ExitCode.USAGE
    assert "usage: onedoor" in capsys.readouterr().err


def test_every_command_has_help_with_examples(capsys):
    for argv in (
        ["submit"],
        ["status"],
        ["trace"],
        ["matters"],
        ["cases"],
        ["decide"],
        ["audit"],
        ["audit", "list"],
        ["audit", "verify"],
        ["token"],
    ):
        with pytest.raises(SystemExit) as exited:
            parser().parse_args([*argv, "--help"])
        assert exited.value.code == 0
        assert "examples:" in capsys.readouterr().out, argv


def test_top_level_help_documents_the_exit_codes(capsys):
    with pytest.raises(SystemExit):
        parser().parse_args(["--help"])
    out = capsys.readouterr().out
    for code in ("0  done", "1  the gateway refused", "2  usage", "3  no answer"):
        assert code in out


def test_token_roles_agree_with_the_gateway():
    assert tokens.ROLES == auth.ROLES
    assert tokens.AGENCIES == auth.AGENCIES


def test_officer_claims_are_read_from_the_token():
    token = auth.issue("officer", "320585", department="elderly")
    assert credentials.claims(token)["department"] == "elderly"
    assert credentials.claims("not-a-jwt") == {}
    garbled = "a." + base64.urlsafe_b64encode(b"[1, 2]").decode() + ".c"
    assert credentials.claims(garbled) == {}
    unpadded = (
        "a."
        + base64.urlsafe_b64encode(json.dumps({"role": "x"}).encode()).decode().rstrip("=")
        + ".c"
    )
    assert credentials.claims(unpadded) == {"role": "x"}


def test_decisions_need_what_the_timeline_will_show():
    approve = departments.decision_body("approve", "", [], "r-1")
    assert approve == {"requestId": "r-1", "decision": "DECISION_APPROVE"}
    with pytest.raises(CliError) as refused:
        departments.decision_body("reject", "", [], "r-2")
    assert refused.value.code == ExitCode.USAGE
    with pytest.raises(CliError):
        departments.decision_body("request-materials", "", [], "r-3")
    with pytest.raises(CliError):
        departments.decision_body("approve", "", ["income_proof"], "r-4")
    asked = departments.decision_body(
        "request-materials", "six months", ["income_proof", "hukou_booklet"], "r-5"
    )
    assert asked["decision"] == "DECISION_REQUEST_MATERIALS"
    assert asked["reason"] == "six months; materials needed: income_proof, hukou_booklet"


def test_a_wait_ends_when_routed_decided_or_delivered_home():
    assert not routed({"status": "CASE_STATUS_ACCEPTED"})
    assert routed({"status": "CASE_STATUS_ROUTED"})
    assert routed({"status": "CASE_STATUS_APPROVED"})
    assert not routed({"status": "CASE_STATUS_FORWARDED", "forwarding": {"state": "awaiting_home"}})
    assert routed({"status": "CASE_STATUS_FORWARDED", "forwarding": {"state": "delivered"}})


def test_trace_links_follow_jaegers_ui():
    assert trace_link("http://jaeger:16686/", "abc") == "http://jaeger:16686/trace/abc"
    assert trace_link("", "abc") == ""
