"""The clerk's commands against the in-memory gateway: supply, divorce confirm|withdraw and
search send what the API takes, read identity numbers only from a prompt or stdin, and show
times in the bureau's zone."""

from __future__ import annotations

import io
from typing import Any

import pytest

from services.cli import clerk, gateway_client
from services.cli.__main__ import main, parser
from services.cli.outcome import CliError, ExitCode
from services.cli.tests.fake_gateway import FakeGateway
from services.common import auth

RECEIPT = "320585-8D9TV-YJY6T"
NUMBER = "32058519800101001X"
APPLICATION = {
    "receipt": RECEIPT,
    "matterCode": "registry.divorce",
    "status": "CASE_STATUS_ROUTED",
    "applicantName": "周**",
    "createTime": "2026-11-24T12:32:51Z",
    "decisionDeadline": "2026-12-24T15:59:59Z",
}


class Pipe(io.StringIO):
    def isatty(self) -> bool:
        return False


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def clerk_token(monkeypatch):
    monkeypatch.setenv("ONEDOOR_TOKEN", auth.issue("window_clerk", "320585"))


def _gateway(monkeypatch, answer: dict[str, Any]) -> FakeGateway:
    fake = FakeGateway(lambda method, path, query, body: (200, answer))
    monkeypatch.setattr(gateway_client, "default_opener", fake)
    return fake


def test_supply_posts_the_materials_and_shows_the_case(monkeypatch, capsys):
    fake = _gateway(monkeypatch, {"application": APPLICATION})
    assert main(["supply", RECEIPT, "income_proof", "hukou_booklet"]) == ExitCode.OK
    [request] = fake.requests
    assert request.get_method() == "POST"
    assert request.full_url.endswith(f"/v1/applications/{RECEIPT}:supplyMaterials")
    assert request.data == b'{"materials": ["income_proof", "hukou_booklet"]}'
    assert RECEIPT in capsys.readouterr().out


@pytest.mark.parametrize(
    ("step", "method"), [("confirm", "confirmDivorce"), ("withdraw", "withdrawDivorce")]
)
def test_divorce_reads_the_party_s_number_from_stdin(monkeypatch, capsys, step, method):
    fake = _gateway(
        monkeypatch, {"application": APPLICATION, "divorceState": "DIVORCE_STATE_CONFIRMED"}
    )
    monkeypatch.setattr("sys.stdin", Pipe(NUMBER + "\n"))
    assert main(["divorce", step, RECEIPT, "--party", "other"]) == ExitCode.OK
    [request] = fake.requests
    assert request.full_url.endswith(f"/v1/applications/{RECEIPT}:{method}")
    assert NUMBER in request.data.decode()
    out = capsys.readouterr().out
    assert "divorce  CONFIRMED" in out
    assert NUMBER not in out


def test_search_sends_the_number_in_the_body_never_the_url(monkeypatch, capsys):
    fake = _gateway(monkeypatch, {"applications": [APPLICATION], "nextPageToken": ""})
    monkeypatch.setattr("sys.stdin", Pipe(NUMBER + "\n"))
    assert main(["search"]) == ExitCode.OK
    [request] = fake.requests
    assert request.get_method() == "POST"
    assert NUMBER not in request.full_url
    assert NUMBER in request.data.decode()
    out = capsys.readouterr().out
    assert RECEIPT in out and "周**" in out and NUMBER not in out


def test_search_takes_no_identity_number_argument():
    with pytest.raises(SystemExit):
        parser().parse_args(["search", NUMBER])


def test_a_terminal_is_asked_without_echo():
    asked: list[str] = []

    def ask(prompt: str) -> str:
        asked.append(prompt)
        return f" {NUMBER} "

    assert clerk.read_id_number("number: ", Terminal(), ask) == NUMBER
    assert asked == ["number: "]


def test_an_empty_number_is_a_usage_error():
    with pytest.raises(CliError) as raised:
        clerk.read_id_number("number: ", Pipe(""))
    assert raised.value.code == ExitCode.USAGE


def test_every_command_shows_times_in_the_bureau_s_zone(monkeypatch, capsys):
    _gateway(monkeypatch, {"application": APPLICATION})
    monkeypatch.setenv("BUREAU_TIME_ZONE", "Asia/Urumqi")
    assert main(["status", RECEIPT]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "2026-11-24 18:32:51 +06:00" in out
    monkeypatch.setenv("BUREAU_TIME_ZONE", "Asia/Shanghai")
    assert main(["supply", RECEIPT, "income_proof"]) == ExitCode.OK
    assert "2026-11-24 20:32:51 +08:00" in capsys.readouterr().out


def test_cases_asks_for_a_work_list(monkeypatch):
    fake = _gateway(monkeypatch, {"applications": [APPLICATION], "nextPageToken": ""})
    assert main(["cases", "--work-list", "awaiting_materials"]) == ExitCode.OK
    [request] = fake.requests
    assert "workList=awaiting_materials" in request.full_url
