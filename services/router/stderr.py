"""What eventlet and nameko print to stderr past the logging, as JSON records like every other
line: eventlet's hub prints the exception that ends a timer or a green thread with
``traceback.print_exception``, its queue with ``traceback.print_exc`` (the router exits that
way when its queues do not match, see services.router.consumer), thirty plain lines each.

Python-level only, with no thread: under eventlet a thread reading a pipe would block the hub
(services.common.logs captures file descriptor 2 in the other processes).
"""

from __future__ import annotations

import io
import logging
import sys
from typing import TextIO

TRACEBACK = "Traceback (most recent call last):"


class StderrAsRecords(io.TextIOBase):
    """A stand-in for ``sys.stderr``: each line becomes a WARNING record, and a traceback one
    ERROR record from its heading to its exception's line."""

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


def as_records() -> None:
    """Replaces ``sys.stderr``; call once logging is set up."""
    sys.stderr = StderrAsRecords(logging.getLogger("stderr"), sys.stderr)
