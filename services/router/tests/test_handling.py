"""What the router's metrics say became of an event, and the causes they carry."""

import datetime as dt

import grpc
import pytest

from onedoor.events.v1 import events_pb2
from services.router import routing
from services.router.handling import (
    DEAD_END,
    REQUEUED,
    Outcome,
    outcome_of,
    routed_latency,
)
from services.router.routing import UnroutableEvent, parse


class FakeGrpcError(Exception):
    """Stands for nameko-grpc's GrpcError (which imports nameko): a status code on .code."""

    def __init__(self, code: grpc.StatusCode) -> None:
        super().__init__(f"the service said {code.name}")
        self.code = code


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (FakeGrpcError(grpc.StatusCode.UNAVAILABLE), Outcome(REQUEUED, "UNAVAILABLE")),
        (FakeGrpcError(grpc.StatusCode.CANCELLED), Outcome(REQUEUED, "CANCELLED")),
        (FakeGrpcError(grpc.StatusCode.NOT_FOUND), Outcome(DEAD_END, "NOT_FOUND")),
        (
            FakeGrpcError(grpc.StatusCode.INVALID_ARGUMENT),
            Outcome(DEAD_END, "INVALID_ARGUMENT"),
        ),
        (ConnectionResetError(104, "reset"), Outcome(REQUEUED, "ConnectionResetError")),
        (KeyError("unexpected"), Outcome(REQUEUED, "KeyError")),
        (
            UnroutableEvent("names no department", routing.UNKNOWN_DEPARTMENT),
            Outcome(DEAD_END, "unknown_department"),
        ),
    ],
)
def test_transient_trouble_requeues_and_what_no_retry_changes_is_a_dead_end(error, outcome):
    assert outcome_of(error) == outcome


def test_every_unroutable_event_has_a_cause_from_the_closed_set():
    causes = {routing.MALFORMED, routing.UNKNOWN_DEPARTMENT, routing.UNKNOWN_MATTER}
    causes.add(routing.INCOMPLETE)
    found = set()
    for raising in (
        lambda: parse({"receipt": 12}, events_pb2.CaseAccepted),
        lambda: parse(["not", "an", "object"], events_pb2.CaseAccepted),  # type: ignore[arg-type]
        lambda: routing.departments_of(events_pb2.CaseAccepted(), {"assistance"}),
        lambda: routing.decided(events_pb2.CaseDecided()),
    ):
        with pytest.raises(UnroutableEvent) as raised:
            raising()
        found.add(raised.value.cause)
    assert found <= causes
    assert found == {routing.MALFORMED, routing.UNKNOWN_DEPARTMENT, routing.INCOMPLETE}


def test_a_malformed_event_is_named_by_its_field_never_by_the_value_it_held():
    with pytest.raises(UnroutableEvent) as raised:
        parse({"receipt": "r", "departments": "13912345678"}, events_pb2.CaseAccepted)
    message = str(raised.value)
    assert "13912345678" not in message
    assert message == "not a onedoor.events.v1.CaseAccepted: field departments"


def test_routed_latency_counts_from_acceptance_and_never_goes_negative():
    accepted = dt.datetime(2026, 12, 1, 8, 0, 0, tzinfo=dt.UTC)
    assert routed_latency(accepted, accepted + dt.timedelta(seconds=2.5)) == 2.5
    # The router's host clock a little behind intake's.
    assert routed_latency(accepted, accepted - dt.timedelta(seconds=1)) == 0.0
