"""What is printed to stderr past logging becomes records: a traceback one record, other lines
one each."""

import io
import logging
import traceback

from services.common.logs import StderrRecords


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _stderr() -> tuple[StderrRecords, Kept, io.StringIO]:
    logger = logging.getLogger("test.stderr")
    logger.propagate = False
    kept = Kept()
    logger.handlers[:] = [kept]
    original = io.StringIO()
    return StderrRecords(logger, original), kept, original


def test_a_printed_traceback_is_one_error_record():
    stderr, kept, original = _stderr()
    try:
        raise KeyError("the queue exists with other arguments")
    except KeyError:
        traceback.print_exc(file=stderr)
    assert len(kept.records) == 1
    record = kept.records[0]
    assert record.levelno == logging.ERROR
    message = record.getMessage()
    assert message.startswith("Traceback (most recent call last):")
    assert message.endswith("KeyError: 'the queue exists with other arguments'")
    assert original.getvalue() == ""


def test_other_lines_are_warnings_each_and_a_partial_line_waits_for_its_end():
    stderr, kept, _ = _stderr()
    stderr.write("Removing descriptor: ")
    assert kept.records == []
    stderr.write("7\nanother\n")
    stderr.write("unfinished")
    stderr.flush()
    assert [(r.levelno, r.getMessage()) for r in kept.records] == [
        (logging.WARNING, "Removing descriptor: 7"),
        (logging.WARNING, "another"),
        (logging.WARNING, "unfinished"),
    ]
