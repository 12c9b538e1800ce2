"""What became of an event the router handled, as its metrics count it: done, requeued for
another try, or a dead end, with the cause. Pure: no nameko, so it is tested without eventlet.

The causes come from closed sets (gRPC status names, the class of an OS error, the
:class:`~services.router.routing.UnroutableEvent` causes), never from a message's text, so
they are fit for metric labels.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import grpc

from services.common import metric_catalog
from services.common.metric_catalog import (
    ROUTER_DEAD_ENDS,
    ROUTER_EVENTS,
    ROUTER_HANDLER_DURATION,
    ROUTER_REQUEUES,
    ROUTER_ROUTED_LATENCY,
)
from services.router.routing import UnroutableEvent, is_transient

DONE = "done"
REQUEUED = "requeued"
DEAD_END = "dead_end"


@dataclass(frozen=True)
class Outcome:
    result: str
    cause: str = ""


HANDLED = Outcome(DONE)


def outcome_of(error: BaseException) -> Outcome:
    """What the router does with an event whose handler raised ``error``: an unroutable event
    and a gRPC refusal that no retry can change are dead ends (dropped); transient gRPC
    trouble, OS errors and anything unexpected put the event back on its queue."""
    if isinstance(error, UnroutableEvent):
        return Outcome(DEAD_END, error.cause)
    code = getattr(error, "code", None)
    if isinstance(code, grpc.StatusCode):
        return Outcome(REQUEUED if is_transient(code) else DEAD_END, code.name)
    return Outcome(REQUEUED, type(error).__name__)


def routed_latency(accepted: dt.datetime, routed: dt.datetime) -> float:
    """Seconds from a case's acceptance to its routing; never negative, though the two
    instants come from two hosts' clocks."""
    return max(0.0, (routed - accepted).total_seconds())


_events = metric_catalog.counter(ROUTER_EVENTS)
_duration = metric_catalog.histogram(ROUTER_HANDLER_DURATION)
_requeues = metric_catalog.counter(ROUTER_REQUEUES)
_dead_ends = metric_catalog.counter(ROUTER_DEAD_ENDS)
_routed_latency = metric_catalog.histogram(ROUTER_ROUTED_LATENCY)


def consumed(event: str) -> None:
    _events.add(1, {"event": event})


def handled(event: str, outcome: Outcome, seconds: float) -> None:
    _duration.record(seconds, {"event": event, "result": outcome.result})
    if outcome.result == REQUEUED:
        _requeues.add(1, {"event": event, "cause": outcome.cause})
    elif outcome.result == DEAD_END:
        _dead_ends.add(1, {"event": event, "cause": outcome.cause})


def routed(matter: str, seconds: float) -> None:
    _routed_latency.record(seconds, {"matter": matter})
