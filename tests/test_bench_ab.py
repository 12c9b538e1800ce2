"""bench.ab's report: medians of the turns, after against before pair by pair of adjacent
turns, and whether the sides' ranges overlap (pure: no platform is started)."""

from __future__ import annotations

from bench.ab import LOAD_GENERATOR, WHOLE_SIDE, Side, _pooled, render, verdict


def _side(label: str, whole: list[float], load: list[float]) -> Side:
    side = Side(label, run=None)  # type: ignore[arg-type]
    for w, c in zip(whole, load, strict=True):
        side.turns.append(
            {
                "cpu_ms_per_application": {WHOLE_SIDE: w, LOAD_GENERATOR: c},
                "accept_p50_ms": 10.0,
                "accept_p99_ms": 30.0,
                "routed_p50_ms": 20.0,
                "routed_p99_ms": 60.0,
            }
        )
    return side


def test_pairs_of_turns_and_ranges_are_told_apart():
    before = _pooled(_side("before", [30.0, 34.0, 31.0, 33.0], [1.2, 1.3, 1.2, 1.3]))
    after = _pooled(_side("after", [29.0, 32.3, 30.0, 31.5], [1.2, 1.4, 1.1, 1.3]))
    assert before["cpu_ms_per_application"][WHOLE_SIDE] == 33.0  # the upper median of four
    said = verdict(before, after, WHOLE_SIDE)
    # Lower in every pair, though the drift between turns spans more than the difference.
    assert "0.97 0.95 0.97 0.95: lower in 4 of 4" in said
    assert said.endswith("the ranges overlap")
    assert "lower in 1 of 4" in verdict(before, after, LOAD_GENERATOR)
    apart = _pooled(_side("after", [25.0, 26.0, 25.5, 26.5], [1.0, 1.0, 1.0, 1.0]))
    assert verdict(before, apart, WHOLE_SIDE).endswith("lower after in every turn")
    assert verdict(apart, before, WHOLE_SIDE).endswith("higher after in every turn")


def test_the_report_gives_both_lines():
    before = _pooled(_side("before", [30.0, 34.0], [1.4, 1.4]))
    after = _pooled(_side("after", [31.0, 33.0], [1.2, 1.3]))
    shown = render(before, after)
    assert (
        f"{WHOLE_SIDE}: after/before in each pair of adjacent turns 1.03 0.97: lower in 1 of 2"
        in shown
    )
    assert f"{LOAD_GENERATOR} (the same code for both sides" in shown
