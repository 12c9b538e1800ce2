"""Reading pgbench's summary (bench.pgbench.parse), on what PostgreSQL 15's pgbench printed."""

from __future__ import annotations

import pytest

from bench.pgbench import Figures, parse

PRINTED = """\
pgbench (15.20 (Debian 15.20-0+deb12u1))
transaction type: /tmp/one.sql
scaling factor: 1
query mode: prepared
number of clients: 2
number of threads: 2
maximum number of tries: 1
duration: 1 s
number of transactions actually processed: 15465
number of failed transactions: 0 (0.000%)
latency average = 0.123 ms
initial connection time = 57.766 ms
tps = 16228.757800 (without initial connection time)
"""


def test_the_summary_is_read() -> None:
    assert parse(PRINTED) == Figures(transactions=15465, failed=0, latency_ms=0.123, tps=16228.7578)


def test_failed_transactions_are_counted() -> None:
    printed = PRINTED.replace("failed transactions: 0 (0.000%)", "failed transactions: 3 (0.019%)")
    assert parse(printed).failed == 3


def test_a_run_that_printed_no_summary_says_what_is_missing() -> None:
    aborted = PRINTED.split("number of transactions")[0]
    with pytest.raises(ValueError, match="processed, latency, tps"):
        parse(aborted)
