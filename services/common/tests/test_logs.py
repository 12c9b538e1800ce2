"""The JSON log record: its fields, the trace and the case it was written in, and the lines
gRPC's C core writes past Python's logging."""

from __future__ import annotations

import json
import logging

from opentelemetry import baggage, context, trace
from opentelemetry.sdk.trace import TracerProvider

from services.common import logs


def _formatted(record: logging.LogRecord) -> dict:
    logs.TraceContextFilter().filter(record)
    return dict(json.loads(logs.formatter("intake").format(record)))


def _record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("services.intake", logging.INFO, __file__, 1, message, args, None)


def test_a_record_outside_a_span_has_every_field_with_no_trace():
    line = _formatted(_record("intake serving gRPC on port %d", 50061))
    assert line["message"] == "intake serving gRPC on port 50061"
    assert line["level"] == "INFO"
    assert line["logger"] == "services.intake"
    assert line["service"] == "intake"
    assert line["trace_id"] is None and line["span_id"] is None
    assert "receipt" not in line
    assert line["time"].endswith("+00:00")


def test_a_record_in_a_span_on_a_case_carries_the_trace_span_and_receipt():
    tracer = TracerProvider().get_tracer(__name__)
    token = context.attach(baggage.set_baggage(logs.RECEIPT_BAGGAGE, "320585-00001-ABCDE"))
    try:
        with tracer.start_as_current_span("accept") as span:
            line = _formatted(_record("accepted %s", "320585-00001-ABCDE"))
            ids = span.get_span_context()
    finally:
        context.detach(token)
    assert line["trace_id"] == format(ids.trace_id, "032x")
    assert line["span_id"] == format(ids.span_id, "016x")
    assert line["receipt"] == "320585-00001-ABCDE"
    assert trace.get_current_span() is trace.INVALID_SPAN


def test_chinese_stays_readable():
    assert _formatted(_record("最低生活保障"))["message"] == "最低生活保障"


def test_the_c_cores_lines_keep_their_severity_and_say_where():
    level, message = logs.native_record(
        "I1202 01:17:26.438650   18173 ssl_transport_security.cc:2563] Handshake failed with "
        "error SSL_ERROR_SSL: CERTIFICATE_VERIFY_FAILED"
    )
    assert level == logging.INFO
    assert message.startswith("Handshake failed")
    assert message.endswith("(ssl_transport_security.cc:2563)")
    assert logs.native_record("E1202 00:00:00.1 1 a.cc:1] boom")[0] == logging.ERROR
    assert logs.native_record("something else entirely") == (
        logging.WARNING,
        "something else entirely",
    )


def test_what_python_prints_to_stderr_becomes_records_a_line_each(caplog):
    stderr = logs.StderrRecords()
    with caplog.at_level(logging.ERROR, logger="stderr"):
        stderr.write("Traceback (most recent call last):\n  File ")
        stderr.write('"hub.py", line 1\nSystemExit: 2')
        assert [r.getMessage() for r in caplog.records] == [
            "Traceback (most recent call last):",
            '  File "hub.py", line 1',
        ]
        stderr.flush()
    assert caplog.records[-1].getMessage() == "SystemExit: 2"
    assert all(r.name == "stderr" for r in caplog.records)
