"""No personal data the tests sent appears in any span exported or any log line written during
the whole test run: every platform's processes, the federated cities' included."""

from __future__ import annotations

import pytest

from services.common.telemetry import RECEIPT_KEY
from tests.conftest import eventually, wait_for_entry
from tests.factories import PERSONAL_DATA, dibao_json

pytestmark = pytest.mark.whole_run


async def test_no_personal_data_in_any_span_or_log_line_of_the_run(
    platform, http, trace_sink, tmp_path_factory
):
    # Traffic of its own, accepted and refused, so the scan has something even when run alone.
    async with http.post("/v1/applications", json=dibao_json()) as response:
        receipt = (await response.json())["receipt"]
    refused = dibao_json()
    refused["applicant"]["hukouDivision"] = "999999"
    async with http.post("/v1/applications", json=refused) as response:
        assert response.status == 400
    await wait_for_entry(http, receipt, "ROUTED")

    async def flushed():
        return [
            s
            for s in trace_sink.spans()
            if s.attributes.get(RECEIPT_KEY) == receipt and s.service == "router"
        ]

    await eventually(flushed, what="the router's spans")
    assert len(PERSONAL_DATA) > 10

    spans = trace_sink.spans()
    exported = "\n".join(f"{s.name} {s.attributes} {s.events}" for s in spans)
    leaks = [p for p in PERSONAL_DATA if p in exported]
    assert not leaks, f"{len(leaks)} pieces of personal data in {len(spans)} spans"

    # Every process of every platform this run started logs under the run's temporary root.
    logs = sorted(tmp_path_factory.getbasetemp().rglob("*.log"))
    assert any(log.parent == platform.log_dir for log in logs)
    lines = 0
    for log in logs:
        text = log.read_text(errors="replace")
        lines += text.count("\n")
        leaks = [p for p in PERSONAL_DATA if p in text]
        assert not leaks, f"{len(leaks)} pieces of personal data in {log}"
    print(f"scanned {len(spans)} spans and {lines} log lines in {len(logs)} files")
