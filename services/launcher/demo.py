"""The demo application `make run` submits: a dibao application from a Taicang household."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any

from services.common import auth
from services.common.identity import compose


def demo_application() -> dict[str, Any]:
    """A two-person household with 1,400 yuan a month between them (below Suzhou's 945 yuan
    per person), in the proto JSON mapping the HTTP API takes."""
    # A new household each run: the same one would be refused as a duplicate application while
    # the case of an earlier run is still open.
    applicant_id = compose("320585", dt.date(1961, 3, 14), secrets.randbelow(998) + 1)
    spouse_id = compose("320585", dt.date(1963, 8, 2), secrets.randbelow(998) + 1)
    return {
        "requestId": str(uuid.uuid4()),
        "matterCode": "assistance.dibao",
        "applicant": {
            "name": "周秀英",
            "idNumber": applicant_id,
            "phone": "13912345678",
            "hukouDivision": "320585",
        },
        "householdMembers": [
            {
                "name": "周秀英",
                "idNumber": applicant_id,
                "relation": "本人",
                "monthlyIncomeFen": 80000,
            },
            {
                "name": "陈建国",
                "idNumber": spouse_id,
                "relation": "配偶",
                "monthlyIncomeFen": 60000,
            },
        ],
        "materials": ["id_card", "hukou_booklet", "income_proof", "economic_check_consent"],
        # Signed at the window: without it the economic-status check does not run.
        "details": {
            "economicCheckConsent": {
                "consentingIdNumber": applicant_id,
                "consentTime": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
                "memberIdNumbers": [applicant_id, spouse_id],
            }
        },
    }


def bearer(role: str, jurisdiction: str, department: str = "") -> str:
    return f"Bearer {auth.issue(role, jurisdiction, department=department, subject=f'demo-{role}')}"


def _request(
    method: str, url: str, body: dict[str, Any] | None = None, token: str = ""
) -> dict[str, Any]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {
        "Content-Type": "application/json",
        "Authorization": token or bearer("window_clerk", "320585"),
    }
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return dict(json.load(response))
    except urllib.error.HTTPError as error:
        raise RuntimeError(
            f"{method} {url} answered {error.code}: {error.read().decode()}"
        ) from None


def submit_and_follow(
    base_url: str, wait_seconds: float = 15.0
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Submits the demo application; returns the receipt answer and the application once the
    timeline shows it routed (or as it stands when ``wait_seconds`` run out)."""
    accepted = _request("POST", f"{base_url}/v1/applications", demo_application())
    shown = follow_until(
        base_url,
        accepted["receipt"],
        lambda a: any(e["kind"] == "TIMELINE_ENTRY_KIND_ROUTED" for e in a["timeline"]),
        wait_seconds,
    )
    return accepted, shown


def follow_until(
    base_url: str,
    receipt: str,
    done: Callable[[dict[str, Any]], bool],
    wait_seconds: float = 30.0,
    token: str = "",
) -> dict[str, Any]:
    """The application as it stands once ``done`` says so (or when the wait runs out)."""
    deadline = time.monotonic() + wait_seconds
    while True:
        shown = _request("GET", f"{base_url}/v1/applications/{receipt}", token=token)["application"]
        if done(shown) or time.monotonic() > deadline:
            return dict(shown)
        time.sleep(0.2)


def forward_and_decide(accepting_url: str, home_url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A Kunshan resident asks for temporary assistance in Taicang; Kunshan decides."""
    applicant_id = compose("320583", dt.date(1975, 6, 1), 37)
    body = {
        "requestId": str(uuid.uuid4()),
        "matterCode": "assistance.temporary",
        "applicant": {
            "name": "顾建华",
            "idNumber": applicant_id,
            "phone": "13812345678",
            "hukouDivision": "320583",
        },
        "householdMembers": [
            {"name": "顾建华", "idNumber": applicant_id, "relation": "本人", "monthlyIncomeFen": 0}
        ],
        "materials": ["id_card", "hardship_statement"],
        "details": {"requestedAmountFen": 150000},
    }
    accepted = _request("POST", f"{accepting_url}/v1/applications", body)
    shown = follow_until(
        accepting_url,
        accepted["receipt"],
        lambda a: a.get("forwarding", {}).get("state") == "delivered",
    )
    remote = shown["forwarding"]["remoteReceipt"]
    officer = bearer("officer", "320583", "assistance")
    follow_until(home_url, remote, lambda a: a["status"] == "CASE_STATUS_ROUTED", token=officer)
    decision = {
        "requestId": str(uuid.uuid4()),
        "decision": "DECISION_APPROVE",
    }
    _request(
        "POST",
        f"{home_url}/v1/departments/assistance/cases/{remote}:decide",
        decision,
        token=officer,
    )
    done = follow_until(
        accepting_url, accepted["receipt"], lambda a: a["status"] == "CASE_STATUS_APPROVED"
    )
    return accepted, done
