"""How long a forward waits after each failed delivery."""

import datetime as dt

import pytest

from services.intake.forwards import CAUSES, backoff


def _seconds(failed: int, cause: str) -> float:
    return backoff(failed, cause).total_seconds()


def test_a_peer_down_is_tried_again_after_doubling_waits_of_at_most_a_minute():
    assert [_seconds(n, "peer_down") for n in range(1, 9)] == [2, 4, 8, 16, 32, 60, 60, 60]


@pytest.mark.parametrize("cause", sorted(CAUSES - {"peer_down"}))
def test_trouble_needing_a_person_waits_up_to_five_minutes(cause):
    waits = [_seconds(n, cause) for n in range(1, 11)]
    assert waits[:5] == [2, 4, 8, 16, 32]
    assert max(waits) == 300 == waits[-1]
    assert waits == sorted(waits)


def test_a_forward_failing_for_months_still_waits_the_cap():
    assert backoff(10_000, "tls_refused") == dt.timedelta(minutes=5)
    assert backoff(0, "peer_down") == dt.timedelta(seconds=2)
