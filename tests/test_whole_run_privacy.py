"""No personal data the tests sent appears in any span exported, any log line written or any
metric counted during the whole test run: every platform's processes, the federated cities'
included. Every line is a JSON record, and every onedoor metric carries only its declared
labels."""

from __future__ import annotations

import json
import re
import uuid

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.status_page import code_for
from services.common import auth, metric_catalog
from services.common.catalog import DEPARTMENTS
from services.common.receipt import RECEIPT_PATTERN
from services.common.telemetry import RECEIPT_KEY
from tests import metrics_scrape
from tests.conftest import eventually, wait_for_entry
from tests.factories import PERSONAL_DATA, dibao_json, person

pytestmark = pytest.mark.whole_run
# The development key the test platform's gateway holds (gateway/settings.py).
STATUS_PAGE_KEY = "development-status-page-key"


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
    pushed = await _push_to_ingest(platform)

    async def flushed():
        return [
            s
            for s in trace_sink.spans()
            if s.attributes.get(RECEIPT_KEY) == receipt and s.service == "router"
        ]

    await eventually(flushed, what="the router's spans")
    await eventually(lambda: _ingest_spans(trace_sink, pushed), what="the ingest batch's spans")

    async def notified():
        return [
            s
            for s in trace_sink.spans()
            if s.attributes.get(RECEIPT_KEY) == receipt and s.service == "notifier_records"
        ]

    # The notifier's send records took the case's contacts (a sealed phone) and recorded its
    # message.
    await eventually(notified, what="the notifier's spans")

    # The status page behind the receipt's QR shows the case and nothing personal.
    async def status_page() -> str | None:
        async with (
            aiohttp.ClientSession() as anonymous,
            anonymous.get(
                f"http://127.0.0.1:{platform.ports.gateway_http}/s/{receipt}"
                f"?c={code_for(STATUS_PAGE_KEY, receipt)}"
            ) as response,
        ):
            # 429: the status page's own test spent this client's views a moment ago.
            return await response.text() if response.status == 200 else None

    page = await eventually(status_page, timeout=30, what="the status page")
    leaks = [p for p in PERSONAL_DATA if p in page]
    assert not leaks, f"{len(leaks)} pieces of personal data on the status page"
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


async def _push_to_ingest(platform) -> str:
    """A batch of an agency's own (kept, refused, of another jurisdiction), so the scan covers
    the ingest service even when run alone; returns the batch's trace id."""
    good = person()
    kunshan = person(division="320583")
    bad = good.id_number[:-1] + ("0" if good.id_number[-1] != "0" else "1")
    PERSONAL_DATA.add(bad)
    lines = [
        {"recordId": f"privacy-{n}", "idNumber": number, "death": {"diedOn": "2026-11-01"}}
        for n, number in enumerate((good.id_number, bad, kunshan.id_number))
    ]
    token = auth.issue("agency", "320585", agency="public_security")
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"http://127.0.0.1:{platform.ports.ingest_http}/v1/agency-records:batch",
            params={"requestId": str(uuid.uuid4())},
            data="\n".join(json.dumps(line) for line in lines),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/jsonl"},
        ) as response,
    ):
        assert response.status == 200, await response.text()
        report = (await response.json())["report"]
    assert (int(report["accepted"]), int(report["refused"])) == (1, 2)
    return str(report["traceId"])


async def _ingest_spans(trace_sink, trace_id: str) -> list:
    return [s for s in trace_sink.spans(trace_id) if s.service == "ingest"]


# What every line of every process carries (services.common.logs); receipt only on a case.
LOG_FIELDS = {"time", "level", "logger", "message", "service", "trace_id", "span_id"}
# Labels the Prometheus exporter adds to every series.
EXPORTER_LABELS = {"otel_scope_name", "otel_scope_version", "otel_scope_schema_url", "le"}
RECEIPT_ANYWHERE = re.compile(RECEIPT_PATTERN.pattern.strip("^$"))


def test_every_line_every_process_wrote_is_one_json_record(platform, tmp_path_factory):
    logs = sorted(tmp_path_factory.getbasetemp().rglob("*.log"))
    assert any(log.parent == platform.log_dir for log in logs)
    records = 0
    services = set()
    for log in logs:
        for number, line in enumerate(log.read_text(errors="replace").splitlines(), 1):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                pytest.fail(f"{log}:{number} is not JSON: {line[:200]!r}")
            missing = LOG_FIELDS - record.keys()
            assert not missing, f"{log}:{number} lacks {sorted(missing)}: {line[:200]!r}"
            receipt = record.get("receipt")
            assert receipt is None or RECEIPT_PATTERN.fullmatch(receipt), f"{log}:{number}"
            services.add(record["service"])
            records += 1
    assert {"gateway", "intake", "relay", "router", "ingest", "notifier", *DEPARTMENTS} <= services
    print(f"{records} JSON records in {len(logs)} files from {sorted(services)}")


def _scraped(platform, tmp_path_factory) -> dict[str, str]:
    """The session platform's metrics now, and the last of every platform stopped before."""
    texts = {
        str(path): path.read_text() for path in tmp_path_factory.getbasetemp().rglob("*.metrics")
    }
    for name in platform.ports.metrics:
        texts[platform.metrics_url(name)] = metrics_scrape.text_of(platform.metrics_url(name))
    return texts


def test_no_personal_data_nor_receipt_in_any_metric_and_only_declared_labels(
    platform, tmp_path_factory
):
    texts = _scraped(platform, tmp_path_factory)
    assert len(PERSONAL_DATA) > 10
    series = 0
    for where, text in texts.items():
        leaks = [p for p in PERSONAL_DATA if p in text]
        assert not leaks, f"{len(leaks)} pieces of personal data in the metrics of {where}"
        receipts = RECEIPT_ANYWHERE.findall(text)
        assert not receipts, f"receipts in the metrics of {where}: {receipts[:3]}"
        for family in text_string_to_metric_families(text):
            metric = metric_catalog.declared(family.name)
            if family.name.startswith("onedoor_"):
                assert metric is not None, f"{where}: {family.name} is not in metric_catalog"
            if metric is None:
                continue
            allowed = set(metric.prometheus_labels) | EXPORTER_LABELS
            for sample in family.samples:
                extra = set(sample.labels) - allowed
                assert not extra, f"{where}: {sample.name} carries undeclared labels {extra}"
                series += 1
    assert series > 0
    print(f"scanned {series} declared series in {len(texts)} expositions")
