"""One JSON object per line on stdout, in every process, for the cluster's log agent:

    {"time": "2026-12-02T01:02:03.456789+00:00", "level": "INFO", "logger": "gateway.access",
     "message": "POST /v1/applications 200", "service": "gateway",
     "trace_id": "4bf9...", "span_id": "00f0...", "receipt": "320585-20261202-000017"}

``trace_id`` and ``span_id`` lead from a line to its trace (null outside a span); ``receipt``
is there when the line was written while working on a case (it travels in baggage, see
services.common.telemetry). Fields a call passes with ``extra=`` appear as their own keys.

Log calls in onedoor never pass personal data: messages name receipts, matters, departments
and peers, never people. Libraries that log request bodies at DEBUG are held at INFO.
"""

from __future__ import annotations

import io
import logging
import os
import re
import sys
import threading
import types
from typing import TextIO

from opentelemetry import baggage, trace
from pythonjsonlogger.json import JsonFormatter

# Libraries that log frames or message bodies at DEBUG (nameko-grpc logs the request bytes it
# sends): they never go below INFO, whatever LOG_LEVEL says, so personal data in a request
# cannot reach a log line. urllib3 only says, on every export, that spans were sent.
PAYLOAD_LOGGERS = (
    "urllib3",
    "nameko_grpc",
    "h2",
    "hpack",
    "kombu",
    "amqp",
    "aiormq",
    "aio_pika",
    "grpc",
    "asyncpg",
)

# The baggage entry naming the case being worked on (telemetry.RECEIPT_KEY).
RECEIPT_BAGGAGE = "onedoor.receipt"


class TraceContextFilter(logging.Filter):
    """Adds the current span's ids and the case's receipt to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            record.trace_id = format(span_context.trace_id, "032x")
            record.span_id = format(span_context.span_id, "016x")
        else:
            record.trace_id = None
            record.span_id = None
        receipt = baggage.get_baggage(RECEIPT_BAGGAGE)
        if receipt:
            record.receipt = str(receipt)
        return True


def formatter(service: str) -> logging.Formatter:
    return JsonFormatter(
        ["levelname", "name", "message"],
        rename_fields={"levelname": "level", "name": "logger"},
        static_fields={"service": service},
        timestamp="time",
        json_ensure_ascii=False,
    )


def _log_uncaught(
    kind: type[BaseException], error: BaseException, tb: types.TracebackType | None
) -> None:
    logging.getLogger("onedoor").critical(
        "the process stopped on %s", kind.__name__, exc_info=(kind, error, tb)
    )


# gRPC's C core writes "I1202 01:17:26.438650 18173 file.cc:123] message" (absl's format).
_NATIVE_LINE = re.compile(r"^([IWEF])\d{4} [\d:.]+\s+\d+ ([^\]]+)\] (.*)$")
_NATIVE_LEVELS = {
    "I": logging.INFO,
    "W": logging.WARNING,
    "E": logging.ERROR,
    "F": logging.CRITICAL,
}


def native_record(line: str) -> tuple[int, str]:
    """The level and message of a line a C library wrote to stderr."""
    found = _NATIVE_LINE.match(line)
    if found is None:
        return logging.WARNING, line
    severity, where, message = found.groups()
    return _NATIVE_LEVELS[severity], f"{message} ({where.strip()})"


def capture_native_stderr() -> None:
    """Turns what is written to file descriptor 2 into JSON records of the ``native`` logger:
    gRPC's C core logs there (a refused TLS handshake, for one), past Python's logging. Not
    under eventlet, where the reading thread would block the hub (the router has no C core).
    """
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)
    native = logging.getLogger("native")

    def pump() -> None:
        with os.fdopen(read_end, "r", errors="replace") as lines:
            for line in lines:
                if line.strip():
                    level, message = native_record(line.rstrip("\n"))
                    native.log(level, "%s", message)

    threading.Thread(target=pump, name="native-stderr", daemon=True).start()


TRACEBACK = "Traceback (most recent call last):"


class StderrRecords(io.TextIOBase):
    """``sys.stderr`` as records: what Python code prints there past logging (eventlet's hub
    prints the exception that ends a green thread with ``traceback.print_exception``) parses
    too. Each line is a WARNING record, a traceback one ERROR record from its heading to its
    exception's line. No thread and no file descriptor, so it works under eventlet."""

    def __init__(self, logger: logging.Logger, original: TextIO) -> None:
        self.logger = logger
        self.original = original
        self._partial = ""
        self._traceback: list[str] = []
        self._logging = False

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self._logging:
            # The log handler itself reporting a failure: a record of it would recurse.
            return self.original.write(text)
        *lines, self._partial = (self._partial + text).split("\n")
        for line in lines:
            self._line(line)
        return len(text)

    def flush(self) -> None:
        if self._partial:
            self._line(self._partial)
            self._partial = ""
        if self._traceback:
            self._emit(logging.ERROR, "\n".join(self._traceback))
            self._traceback = []

    def _line(self, line: str) -> None:
        if self._traceback:
            self._traceback.append(line)
            # Frames are indented; the exception's own line, which ends it, is not.
            if line and not line[0].isspace():
                self._emit(logging.ERROR, "\n".join(self._traceback))
                self._traceback = []
        elif line.startswith(TRACEBACK):
            self._traceback = [line]
        elif line.strip():
            self._emit(logging.WARNING, line)

    def _emit(self, level: int, message: str) -> None:
        self._logging = True
        try:
            self.logger.log(level, "%s", message)
        finally:
            self._logging = False


def setup(service: str, level: str, native_stderr: bool = True) -> None:
    """Replaces the root logger's handlers with one JSON line per record on stdout; warnings,
    an uncaught exception's traceback and (``native_stderr``) what C libraries write to
    stderr go the same way, so every line parses."""
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(TraceContextFilter())
    handler.setFormatter(formatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in PAYLOAD_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.INFO, root.level))
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
    if native_stderr:
        capture_native_stderr()
    sys.stderr = StderrRecords(logging.getLogger("stderr"), sys.stderr)
