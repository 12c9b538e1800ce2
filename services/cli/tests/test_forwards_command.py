"""`onedoor forwards` against the in-memory gateway: what it asks and how it shows it."""

import pytest

from services.cli import gateway_client
from services.cli.__main__ import main
from services.cli.outcome import ExitCode
from services.cli.tests.fake_gateway import FakeGateway
from services.common import auth

STUCK = {
    "receipt": "320585-8D9TV-YJY6T",
    "peer": "kunshan",
    "homeDivision": "320583",
    "state": "FORWARD_STATE_STUCK",
    "cause": "FORWARD_FAILURE_CAUSE_TLS_REFUSED",
    "attempts": 7,
    "createTime": "2026-12-01T16:30:00Z",
    "lastAttemptTime": "2026-12-01T16:45:10Z",
    "nextAttemptTime": "2026-12-01T16:50:10Z",
    "lastError": "kunshan: TLS handshake failed: certificate has expired",
}


@pytest.fixture(autouse=True)
def operator(monkeypatch):
    monkeypatch.setenv("ONEDOOR_TOKEN", auth.issue("operator", "320585"))


def _gateway(monkeypatch, forwards):
    fake = FakeGateway(lambda method, path, query, body: (200, {"forwards": forwards}))
    monkeypatch.setattr(gateway_client, "default_opener", fake)
    return fake


def test_stuck_asks_for_the_stuck_and_shows_them_in_the_bureaus_local_time(monkeypatch, capsys):
    fake = _gateway(monkeypatch, [STUCK])
    assert main(["forwards", "--stuck"]) == ExitCode.OK
    assert fake.requests[0].full_url.endswith("/v1/forwards?state=stuck")
    header, row = capsys.readouterr().out.splitlines()
    assert header.split()[:5] == ["RECEIPT", "PEER", "STATE", "CAUSE", "ATTEMPTS"]
    assert row.split()[:5] == ["320585-8D9TV-YJY6T", "kunshan", "STUCK", "tls_refused", "7"]
    # 16:30 UTC is half past midnight the next day in Shanghai.
    assert "2026-12-02 00:30:00 +08:00" in row
    assert row.endswith("kunshan: TLS handshake failed: certificate has expired")


def test_the_bureaus_zone_is_the_one_configured(monkeypatch, capsys):
    _gateway(monkeypatch, [STUCK])
    monkeypatch.setenv("BUREAU_TIME_ZONE", "Asia/Urumqi")
    assert main(["forwards"]) == ExitCode.OK
    assert "2026-12-01 22:30:00 +06:00" in capsys.readouterr().out


def test_without_a_state_every_forward_is_asked_for(monkeypatch, capsys):
    fake = _gateway(monkeypatch, [])
    assert main(["forwards"]) == ExitCode.OK
    assert fake.requests[0].full_url.endswith("/v1/forwards")
    assert capsys.readouterr().out.strip() == "no forwards"


def test_stuck_and_a_state_together_are_a_usage_error(monkeypatch, capsys):
    _gateway(monkeypatch, [])
    with pytest.raises(SystemExit) as exited:
        main(["forwards", "--stuck", "--state", "waiting"])
    assert exited.value.code == ExitCode.USAGE
