"""The window reasons in the bureau's date, whatever the host's: a gateway run under
libfaketime at 17:30 UTC (01:30 the next day in China) and at 03:00 UTC (11:00), with the
host's TZ set to UTC, against the test platform's departments and ledger.

Both instants lie on the bureau's current local date, so the departments (on the real clock)
agree with the faked window; at 17:30 UTC the host's own date is still the day before."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.common import auth
from services.common.clock import BureauClock
from services.common.identity import compose
from services.common.legal_calendar import LegalCalendar, Unit
from services.launcher.platform import ROOT, Platform, free_port
from tests.factories import PERSONAL_DATA, application, dibao_json, person

BUREAU = BureauClock()
TODAY = BUREAU.today()
# 17:30 UTC the day before is 01:30 today in China; 03:00 UTC today is 11:00.
INSTANTS = {
    "17:30Z": dt.datetime.combine(TODAY - dt.timedelta(days=1), dt.time(17, 30), tzinfo=dt.UTC),
    "03:00Z": dt.datetime.combine(TODAY, dt.time(3, 0), tzinfo=dt.UTC),
}


_SEQUENCES = itertools.count(random.randrange(1, 500))


def _born_on(day: dt.date, years: int = 0) -> str:
    """A new person's identity number, born on ``day`` ``years`` years ago."""
    number = compose("320585", day.replace(year=day.year - years), next(_SEQUENCES) % 998 + 1)
    PERSONAL_DATA.add(number)
    return number


@pytest.fixture(scope="module", params=sorted(INSTANTS))
def faked_gateway(
    request: pytest.FixtureRequest, platform: Platform
) -> Iterator[tuple[str, dt.datetime]]:
    if shutil.which("faketime") is None:
        pytest.fail("faketime is not installed: run `make infra` (apt-get install faketime)")
    instant = INSTANTS[request.param]
    http_port, grpc_port = free_port(), free_port()
    env = {
        **platform.env(),
        "TZ": "UTC",
        "GATEWAY_HTTP_PORT": str(http_port),
        "GATEWAY_GRPC_PORT": str(grpc_port),
        "GATEWAY_PEER_PORT": str(free_port()),
        "GATEWAY_METRICS_PORT": str(free_port()),
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
    }
    log = platform.log_path(f"gateway-faked-{request.param.replace(':', '')}")
    with log.open("ab") as out:
        process = subprocess.Popen(
            ["faketime", "-f", f"@{instant:%Y-%m-%d %H:%M:%S}", sys.executable, "-m", "gateway"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            # faketime runs the gateway as its child: its own process group, so that stopping
            # it stops the gateway too, not only the wrapper.
            start_new_session=True,
        )
    try:
        _wait_serving(grpc_port, process)
        yield f"http://127.0.0.1:{http_port}", instant
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
        # The group is empty once the gateway has gone: nothing of the test is left running.
        deadline = time.monotonic() + 15
        while _group_alive(process.pid):
            assert time.monotonic() < deadline, "the faked gateway outlived its test"
            time.sleep(0.1)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_serving(port: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(200):
        if process.poll() is not None:
            pytest.fail(f"the faked gateway exited with {process.returncode}")
        try:
            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                answer = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(), timeout=1
                )
                if answer.status == health_pb2.HealthCheckResponse.SERVING:
                    return
        except grpc.RpcError:
            pass
        time.sleep(0.1)
    pytest.fail("the faked gateway did not report SERVING")


@pytest.fixture
async def window(faked_gateway: tuple[str, dt.datetime]) -> AsyncIterator[aiohttp.ClientSession]:
    url, instant = faked_gateway
    # Issued on the faked clock, or the faked gateway would find it issued in its future.
    token = auth.issue("window_clerk", "320585", now=instant - dt.timedelta(minutes=1))
    async with aiohttp.ClientSession(url, headers={"Authorization": f"Bearer {token}"}) as session:
        yield session


async def _submit(window: aiohttp.ClientSession, body: dict[str, Any]) -> tuple[int, Any]:
    async with window.post("/v1/applications", json=body) as response:
        return response.status, await response.json()


def _refused_fields(answer: Any) -> set[str]:
    return {v["field"] for d in answer["error"]["details"] for v in d.get("fieldViolations", ())}


async def test_the_host_runs_in_utc_and_its_date_differs_at_17_30(faked_gateway):
    _, instant = faked_gateway
    host_date = instant.date()
    assert BUREAU.local_date(instant) == TODAY
    assert (host_date != TODAY) == (instant.hour == 17)


async def test_a_member_born_today_is_accepted_and_one_born_tomorrow_refused(window):
    body = dibao_json(incomes_fen=(40000, 0))
    newborn = _born_on(TODAY)
    body["householdMembers"][1]["idNumber"] = newborn
    body["details"]["economicCheckConsent"]["memberIdNumbers"][1] = newborn
    status, answer = await _submit(window, body)
    assert status == 200, answer
    # The deadline is 30 working days from the bureau's date.
    expected = LegalCalendar.with_schedules().period_end(TODAY, 30, Unit.WORKING_DAYS)
    assert answer["decisionDeadline"] == BUREAU.end_of_day(expected.last_day).isoformat().replace(
        "+00:00", "Z"
    )

    tomorrow = TODAY + dt.timedelta(days=1)
    body = dibao_json(incomes_fen=(40000, 0))
    unborn = _born_on(tomorrow)
    body["householdMembers"][1]["idNumber"] = unborn
    body["details"]["economicCheckConsent"]["memberIdNumbers"][1] = unborn
    status, answer = await _submit(window, body)
    assert status == 400, answer
    assert "household_members[1].id_number" in _refused_fields(answer)


async def test_a_death_today_is_accepted_and_tomorrow_refused(window):
    def death(on: dt.date) -> dict[str, Any]:
        deceased = person(age=85)
        return application(
            "registry.death",
            person(),
            death={
                "deceasedName": deceased.name,
                "deceasedIdNumber": deceased.id_number,
                "dateOfDeath": on.isoformat(),
            },
        )

    status, answer = await _submit(window, death(TODAY))
    assert status == 200, answer
    status, answer = await _submit(window, death(TODAY + dt.timedelta(days=1)))
    assert status == 400, answer
    assert _refused_fields(answer) == {"details.death.date_of_death"}


async def test_a_senior_card_for_someone_turning_sixty_today_is_accepted(window):
    turning_today = person()
    body = application("elderly.senior_card", turning_today)
    body["applicant"]["idNumber"] = _born_on(TODAY, years=60)
    status, answer = await _submit(window, body)
    assert status == 200, answer

    tomorrow = TODAY + dt.timedelta(days=1)
    body = application("elderly.senior_card", person())
    body["applicant"]["idNumber"] = _born_on(tomorrow, years=60)
    status, answer = await _submit(window, body)
    assert status == 400, answer
    assert _refused_fields(answer) == {"applicant.id_number"}
    assert "the applicant is 59" in str(answer)


def test_the_faked_gateway_logged_no_failure(faked_gateway, platform: Platform):
    _, instant = faked_gateway
    name = next(k for k, v in INSTANTS.items() if v == instant).replace(":", "")
    text = platform.log_path(f"gateway-faked-{name}").read_text(encoding="utf-8", errors="replace")
    assert "gateway for 320585 serving" in text, "the faked gateway's log is not where expected"
    assert "Traceback" not in text, text[-2000:]
