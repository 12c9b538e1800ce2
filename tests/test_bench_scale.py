"""The scale bench's verdicts (bench.scale), on counts made up here: what counts as missing,
twice or unexpected, and when replicas count as sharing the work correctly."""

from __future__ import annotations

from typing import Any

from bench.scale import counter_deltas, shares_correctly, tally


def test_tally_tells_missing_twice_and_unexpected_apart() -> None:
    counts = {"a": 1, "b": 2, "x": 1}
    assert tally(counts, {"a", "b", "c"}) == {
        "expected": 3,
        "missing": 1,
        "more_than_once": 1,
        "unexpected": 1,
    }


def test_counter_deltas_keep_only_what_grew() -> None:
    before = {"router": {"CaseAccepted": 10.0, "CaseDecided": 2.0}}
    after = {
        "router": {"CaseAccepted": 70.0, "CaseDecided": 2.0},
        "router-2": {"CaseAccepted": 5.0},
    }
    assert counter_deltas(before, after) == {
        "router": {"CaseAccepted": 60},
        "router-2": {"CaseAccepted": 5},
    }


def _record(work: dict[str, dict[str, int]], twice: int = 0) -> dict[str, Any]:
    once = {"expected": 10, "missing": 0, "more_than_once": twice, "unexpected": 0}
    return {"exactly_once": {"case rows": once}, "work": work, "unrouted_after_drain": 0}


def test_every_replica_must_have_worked_and_every_effect_be_once() -> None:
    both = {
        "router": {"CaseAccepted": 6},
        "router-2": {"CaseAccepted": 4},
        "intake": {"CreateCase": 5},
        "intake-2": {"CreateCase": 5},
    }
    assert shares_correctly(_record(both))
    assert not shares_correctly(_record(both, twice=1))
    idle = {**both, "router-2": {}}
    assert not shares_correctly(_record(idle))
