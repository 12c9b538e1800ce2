"""The operator's view of forwards, and the backlog the gauges read: pure, no servers."""

import datetime as dt

import pytest

from gateway.federation import Backlog
from gateway.forwards import as_forward, state_named
from onedoor.gateway.v1 import gateway_service_pb2 as pb
from onedoor.intake.v1 import intake_service_pb2 as ipb
from services.common.errors import ApiError
from services.common.timestamps import to_timestamp

HELD = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("word", "state"),
    [
        ("", pb.FORWARD_STATE_UNSPECIFIED),
        ("stuck", pb.FORWARD_STATE_STUCK),
        ("Waiting", pb.FORWARD_STATE_WAITING),
        ("FORWARD_STATE_DELIVERED", pb.FORWARD_STATE_DELIVERED),
    ],
)
def test_the_state_parameter_takes_the_word_or_the_enum_name(word, state):
    assert state_named(word) == state


def test_an_unknown_state_is_refused_naming_the_parameter():
    with pytest.raises(ApiError) as refused:
        state_named("lost")
    assert [v.field for v in refused.value.violations] == ["state"]


def test_a_forward_shows_its_state_cause_and_times_and_nothing_else():
    shown = as_forward(
        ipb.Forward(
            receipt="320585-AAAAA-BBBBB",
            peer="kunshan",
            home_division="320583",
            state="stuck",
            cause="tls_refused",
            attempts=3,
            create_time=to_timestamp(HELD),
            last_attempt_time=to_timestamp(HELD + dt.timedelta(seconds=6)),
            next_attempt_time=to_timestamp(HELD + dt.timedelta(seconds=14)),
            last_error="kunshan: TLS handshake failed: certificate has expired",
        )
    )
    assert (shown.state, shown.cause, shown.attempts) == (
        pb.FORWARD_STATE_STUCK,
        pb.FORWARD_FAILURE_CAUSE_TLS_REFUSED,
        3,
    )
    assert shown.HasField("last_attempt_time") and not shown.HasField("first_attempt_time")
    assert shown.next_attempt_time.ToDatetime(dt.UTC) == HELD + dt.timedelta(seconds=14)


def test_a_delivered_forward_without_failures_has_no_cause():
    shown = as_forward(ipb.Forward(receipt="320585-AAAAA-BBBBB", state="delivered"))
    assert (shown.state, shown.cause) == (
        pb.FORWARD_STATE_DELIVERED,
        pb.FORWARD_FAILURE_CAUSE_UNSPECIFIED,
    )


def test_the_backlog_shows_every_peer_and_ages_from_the_oldest_held():
    backlog = Backlog(["kunshan", "pudong"], "taicang", HELD + dt.timedelta(days=90))
    assert list(backlog.read_waiting()) == [(0.0, {"peer": "kunshan"}), (0.0, {"peer": "pudong"})]
    backlog.update(
        ipb.SummarizeForwardsResponse(
            peers=[
                ipb.PeerBacklog(peer="kunshan", waiting=4, oldest_create_time=to_timestamp(HELD))
            ]
        )
    )
    now = (HELD + dt.timedelta(minutes=20)).timestamp()
    assert dict((p["peer"], v) for v, p in backlog.read_waiting()) == {"kunshan": 4, "pudong": 0}
    assert dict((p["peer"], v) for v, p in backlog.read_oldest_age(now)) == {
        "kunshan": 1200.0,
        "pudong": 0.0,
    }
    # Delivered since: the next summary names kunshan no more, and its gauges fall to 0.
    backlog.update(ipb.SummarizeForwardsResponse())
    assert dict((p["peer"], v) for v, p in backlog.read_oldest_age(now)) == {
        "kunshan": 0.0,
        "pudong": 0.0,
    }
    assert list(backlog.read_not_after()) == [
        ((HELD + dt.timedelta(days=90)).timestamp(), {"peer": "taicang"})
    ]
