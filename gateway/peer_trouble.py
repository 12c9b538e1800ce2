"""Why a delivery to a peer bureau failed, told apart from what gRPC and a handshake probe say.

grpc.aio reports every connection failure as UNAVAILABLE, a refused certificate included;
what tells them apart is the text of the error and, where that is silent, a probe of the TLS
handshake (:meth:`gateway.peers.PeerDirectory.probe`). What grpcio 1.85 says, observed
against a mutual-TLS server on loopback (the unit tests hold these strings):

- we refuse the peer's certificate (an unknown authority, expired, another name): the
  details read ``Tls handshake failed (TSI_PROTOCOL_FAILURE): ... CERTIFICATE_VERIFY_FAILED:
  unable to get local issuer certificate`` (or ``certificate has expired``), or ``Custom
  verification check failed ... Hostname Verification Check failed``;
- the peer refuses ours (an authority it does not know, expired): gRPC's server closes the
  connection without a TLS alert, so the details read only ``Socket closed``, exactly as when
  a peer goes away mid-connection. The probe tells them apart: with TLS 1.3 the handshake
  completes on our side, then the peer closes before its first HTTP/2 frame, where a peer that
  accepted us sends its SETTINGS at once;
- nobody listens: ``Failed to connect to remote host: Connection refused``; a listener that
  never answers: DEADLINE_EXCEEDED.

A peer that accepts our certificate but finds it was not signed by *our* authority (it names
us, and another of its peers' authorities signed it) answers PERMISSION_DENIED with reason
WRONG_AUTHORITY: a certificate refused, though past the handshake.

Everything here is pure: the classifier takes the status code, the details, the error's
reason and the probe's outcome, so the rules are tested with the strings observed.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

import grpc


class Cause(enum.StrEnum):
    """The causes a forward records (intake's ``forwards.cause``) and the metrics count."""

    # Either side refused the other's certificate.
    TLS_REFUSED = "tls_refused"
    # No connection, no answer in time, or the connection dropped without TLS trouble.
    PEER_DOWN = "peer_down"
    # The peer answered, with an error of its own.
    REFUSED_BY_PEER = "refused_by_peer"
    # The peer the case was held for is no longer in the peers file.
    PEER_UNCONFIGURED = "peer_unconfigured"


class Probe(enum.Enum):
    """What a bare TLS handshake with the peer's address, presenting our certificate, met."""

    # The peer accepted us and spoke HTTP/2: the TLS layer is fine.
    ACCEPTED = "accepted"
    # We refused the peer's certificate during the handshake.
    PEER_CERTIFICATE_REFUSED = "peer_certificate_refused"
    # The handshake completed on our side, then the peer closed (or reset) the connection
    # before a single HTTP/2 byte: it refused our certificate.
    CLOSED_AFTER_HANDSHAKE = "closed_after_handshake"
    # No TCP connection (refused, unreachable, unresolvable) or no answer in time.
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class Failure:
    cause: Cause
    # Short, fixed phrases and status names: never the request, never personal data.
    text: str
    # False when the answer is the peer's word on the application itself (it was refused
    # at home): the forward is then settled, not retried.
    retry: bool = True


# The peer's own word on the application: settled, shown on the case as refused at home.
DECIDED = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.OUT_OF_RANGE,
        grpc.StatusCode.NOT_FOUND,
    }
)
# Failures of the connection rather than answers of the peer: they carry no reason of its own.
TRANSPORT = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})
# Reasons with which a peer refuses our certificate after the handshake (gateway.peers).
CERTIFICATE_REASONS = frozenset({"WRONG_AUTHORITY", "UNKNOWN_PEER"})

_HANDSHAKE_FAILED = re.compile(
    r"Tls handshake failed|Handshake failed|SSL_ERROR_SSL|Verification Check failed", re.I
)
_VERIFY = re.compile(
    r"CERTIFICATE_VERIFY_FAILED: ([a-z][a-z ]+[a-z])|"
    r"(Hostname Verification Check failed)|"
    r"(WRONG_VERSION_NUMBER)",
    re.I,
)
_CONNECT_FAILED = re.compile(
    r"Connection refused|Failed to connect to remote host|No route to host|"
    r"Network is unreachable|DNS resolution failed|Name or service not known|"
    r"Connection timed out|Deadline Exceeded",
    re.I,
)
# Said of a connection that was up and went away: a peer stopping, or a peer refusing our
# certificate. Only the probe tells which.
_DROPPED = re.compile(r"Socket closed|Connection reset|Broken pipe|End of TCP stream", re.I)


def _handshake_text(details: str) -> str:
    found = _VERIFY.search(details)
    if found is None:
        return "TLS handshake failed"
    said = next(g for g in found.groups() if g)
    if said.upper() == "WRONG_VERSION_NUMBER":
        return "TLS handshake failed: the peer's port does not speak TLS"
    return f"TLS handshake failed: {said.lower()}"


def needs_probe(code: grpc.StatusCode, details: str) -> bool:
    """Whether the error alone cannot say if the peer refused our certificate."""
    return (
        code is grpc.StatusCode.UNAVAILABLE
        and not _HANDSHAKE_FAILED.search(details)
        and not _CONNECT_FAILED.search(details)
    )


def classify(
    peer: str,
    code: grpc.StatusCode,
    details: str,
    reason: str = "",
    probe: Probe | None = None,
) -> Failure:
    """The cause of a failed call to ``peer``: ``details`` as grpc reports them, ``reason``
    the google.rpc.ErrorInfo reason the peer sent (if any), ``probe`` what a handshake probe
    met (asked for only when :func:`needs_probe` says so)."""
    name = code.name
    if code is grpc.StatusCode.UNAVAILABLE and _HANDSHAKE_FAILED.search(details):
        return Failure(Cause.TLS_REFUSED, f"{peer}: {_handshake_text(details)}")
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        if probe is Probe.CLOSED_AFTER_HANDSHAKE:
            return Failure(
                Cause.TLS_REFUSED,
                f"{peer}: the peer closed the connection after the TLS handshake: it refused "
                "this bureau's certificate (unknown authority or expired)",
            )
        if probe is Probe.PEER_CERTIFICATE_REFUSED:
            return Failure(
                Cause.TLS_REFUSED, f"{peer}: TLS handshake failed: the peer's certificate"
            )
        if code is grpc.StatusCode.DEADLINE_EXCEEDED:
            return Failure(Cause.PEER_DOWN, f"{peer}: {name}: no answer in time")
        if _CONNECT_FAILED.search(details) or probe is Probe.UNREACHABLE:
            return Failure(Cause.PEER_DOWN, f"{peer}: {name}: no connection")
        if _DROPPED.search(details):
            return Failure(Cause.PEER_DOWN, f"{peer}: {name}: the connection dropped")
        return Failure(Cause.PEER_DOWN, f"{peer}: {name}")
    if code is grpc.StatusCode.PERMISSION_DENIED and reason in CERTIFICATE_REASONS:
        return Failure(
            Cause.TLS_REFUSED,
            f"{peer}: {name} {reason}: the peer refused this bureau's certificate",
        )
    said = f" {reason}" if reason else ""
    return Failure(Cause.REFUSED_BY_PEER, f"{peer}: {name}{said}", retry=code not in DECIDED)
