"""bench.ab's report: medians of the turns, and whether the turns of the two sides overlap
(pure: no platform is started)."""

from __future__ import annotations

from bench.ab import CONTROL, WHOLE_SIDE, Side, _pooled, render, verdict


def _side(label: str, whole: list[float], control: list[float]) -> Side:
    side = Side(label, run=None)  # type: ignore[arg-type]
    for w, c in zip(whole, control, strict=True):
        side.turns.append(
            {
                "cpu_ms_per_application": {WHOLE_SIDE: w, CONTROL: c},
                "accept_p50_ms": 10.0,
                "accept_p99_ms": 30.0,
                "routed_p50_ms": 20.0,
                "routed_p99_ms": 60.0,
            }
        )
    return side


def test_lower_in_every_turn_is_told_apart_from_overlapping_turns():
    before = _pooled(_side("before", [30.0, 31.0, 33.0, 32.0], [1.2, 1.3, 1.2, 1.3]))
    after = _pooled(_side("after", [27.0, 28.0, 29.5, 28.5], [1.2, 1.4, 1.1, 1.3]))
    assert before["cpu_ms_per_application"][WHOLE_SIDE] == 32.0  # the upper median of four
    assert before["spread"][WHOLE_SIDE] == [30.0, 33.0]
    assert verdict(before, after, WHOLE_SIDE).endswith("lower after in every turn")
    assert "overlap" in verdict(before, after, CONTROL)
    assert verdict(after, before, WHOLE_SIDE).endswith("higher after in every turn")


def test_the_report_says_both():
    before = _pooled(_side("before", [30.0, 34.0], [1.4, 1.4]))
    after = _pooled(_side("after", [29.0, 31.0], [1.2, 1.3]))
    shown = render(before, after)
    assert (
        f"{WHOLE_SIDE}, turns before 30.00-34.00 ms, after 29.00-31.00 ms: the turns overlap"
        in shown
    )
    assert "control: the load generator" in shown and "lower after in every turn" in shown
