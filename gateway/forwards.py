"""The forwards to peer bureaus, for an operator of this gateway's jurisdiction: which wait,
which are stuck (held longer than ``GATEWAY_FEDERATION_STUCK_AFTER_SECONDS``) and why the last
attempt failed. The listing carries no personal data, so it is not an audited read."""

from __future__ import annotations

from gateway import permissions
from gateway.window import Window
from onedoor.gateway.v1 import gateway_service_pb2 as pb
from onedoor.intake.v1 import intake_service_pb2
from services.common.auth import Principal
from services.common.errors import FieldViolation, invalid_argument

# The gateway's states and causes as the ledger spells them.
STATES = {
    pb.FORWARD_STATE_WAITING: "waiting",
    pb.FORWARD_STATE_STUCK: "stuck",
    pb.FORWARD_STATE_DELIVERED: "delivered",
}
CAUSES = {
    "tls_refused": pb.FORWARD_FAILURE_CAUSE_TLS_REFUSED,
    "peer_down": pb.FORWARD_FAILURE_CAUSE_PEER_DOWN,
    "refused_by_peer": pb.FORWARD_FAILURE_CAUSE_REFUSED_BY_PEER,
    "peer_unconfigured": pb.FORWARD_FAILURE_CAUSE_PEER_UNCONFIGURED,
}
_STATE_OF = {word: state for state, word in STATES.items()}


def state_named(word: str) -> pb.ForwardState.ValueType:
    """A state as the HTTP API's ``state`` parameter names it: ``stuck`` or
    ``FORWARD_STATE_STUCK``; empty for every state."""
    if not word:
        return pb.FORWARD_STATE_UNSPECIFIED
    found = _STATE_OF.get(word.lower()) or _STATE_OF.get(
        word.upper().removeprefix("FORWARD_STATE_").lower()
    )
    if found is None:
        raise invalid_argument(
            [FieldViolation("state", f"must be one of {', '.join(STATES.values())}")]
        )
    return found


def as_forward(forward: intake_service_pb2.Forward) -> pb.Forward:
    shown = pb.Forward(
        receipt=forward.receipt,
        peer=forward.peer,
        home_division=forward.home_division,
        state=_STATE_OF.get(forward.state, pb.FORWARD_STATE_UNSPECIFIED),
        cause=CAUSES.get(forward.cause, pb.FORWARD_FAILURE_CAUSE_UNSPECIFIED),
        attempts=forward.attempts,
        last_error=forward.last_error,
    )
    for name in ("create_time", "first_attempt_time", "last_attempt_time", "next_attempt_time"):
        if forward.HasField(name):
            getattr(shown, name).CopyFrom(getattr(forward, name))
    return shown


async def list_forwards(
    window: Window, caller: Principal, request: pb.ListForwardsRequest
) -> pb.ListForwardsResponse:
    permissions.require_role(caller, "operator")
    permissions.require_jurisdiction(caller, window.jurisdiction)
    if request.state not in (pb.FORWARD_STATE_UNSPECIFIED, *STATES):
        raise invalid_argument([FieldViolation("state", "is not a ForwardState")])
    found = await window.backends.call(
        window.backends.intake.ListForwards,
        intake_service_pb2.ListForwardsRequest(
            state=STATES.get(request.state, ""),
            stuck_after_seconds=int(window.stuck_after_seconds),
            page_size=request.page_size,
            page_token=request.page_token,
        ),
    )
    return pb.ListForwardsResponse(
        forwards=[as_forward(f) for f in found.forwards], next_page_token=found.next_page_token
    )
