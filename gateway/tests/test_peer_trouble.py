"""Telling a refused certificate from a peer that is down: the classifier over the strings
grpcio 1.85 was seen to report, and the handshake probe and the whole classification against
real mutual-TLS servers on loopback (made on the spot, like the cities' certificates)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from gateway.peer_trouble import Cause, Probe, classify, needs_probe
from gateway.peers import Identity, Peer, PeerDirectory
from services.launcher.certificates import Authority, authority, issue
from services.launcher.platform import free_port

UNAVAILABLE = grpc.StatusCode.UNAVAILABLE

# What grpc.aio's client reported in each case, verbatim but for the port.
WE_REFUSE_UNKNOWN_CA = (
    "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:39459: Tls "
    "handshake failed (TSI_PROTOCOL_FAILURE): SSL_ERROR_SSL: error:1000007d:SSL routines:"
    "OPENSSL_internal:CERTIFICATE_VERIFY_FAILED: unable to get local issuer certificate: OK"
)
WE_REFUSE_EXPIRED = (
    "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:46187: Tls "
    "handshake failed (TSI_PROTOCOL_FAILURE): SSL_ERROR_SSL: error:1000007d:SSL routines:"
    "OPENSSL_internal:CERTIFICATE_VERIFY_FAILED: certificate has expired: OK"
)
WRONG_NAME = (
    "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:36529: Custom "
    "verification check failed with error: UNAUTHENTICATED: Hostname Verification Check failed."
)
PLAINTEXT_PORT = (
    "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:45705: Tls "
    "handshake failed (TSI_PROTOCOL_FAILURE): SSL_ERROR_SSL: error:100000f7:SSL routines:"
    "OPENSSL_internal:WRONG_VERSION_NUMBER: Invalid certificate verification context: OK"
)
# The peer refused our certificate (unknown authority, or expired): no alert, only this.
SOCKET_CLOSED = (
    "failed to connect to all addresses; last error: UNAVAILABLE: ipv4:127.0.0.1:38971: "
    "Socket closed"
)
REFUSED_CONNECTION = (
    "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:51987: Failed "
    "to connect to remote host: Connection refused"
)


@pytest.mark.parametrize(
    ("details", "said"),
    [
        (WE_REFUSE_UNKNOWN_CA, "unable to get local issuer certificate"),
        (WE_REFUSE_EXPIRED, "certificate has expired"),
        (WRONG_NAME, "hostname verification check failed"),
        (PLAINTEXT_PORT, "does not speak TLS"),
    ],
)
def test_our_refusal_of_the_peers_certificate_is_read_from_the_error(details, said):
    assert not needs_probe(UNAVAILABLE, details)
    failure = classify("kunshan", UNAVAILABLE, details)
    assert failure.cause is Cause.TLS_REFUSED
    assert failure.retry
    assert failure.text.startswith("kunshan: TLS handshake failed")
    assert said in failure.text
    # Nothing of the address or the library's internals reaches the forward.
    assert "127.0.0.1" not in failure.text and "OPENSSL" not in failure.text


def test_a_closed_socket_is_a_refused_certificate_only_when_the_probe_says_so():
    assert needs_probe(UNAVAILABLE, SOCKET_CLOSED)
    refused = classify("kunshan", UNAVAILABLE, SOCKET_CLOSED, probe=Probe.CLOSED_AFTER_HANDSHAKE)
    assert refused.cause is Cause.TLS_REFUSED
    assert "refused this bureau's certificate" in refused.text
    for probe in (Probe.ACCEPTED, Probe.UNREACHABLE, None):
        assert classify("kunshan", UNAVAILABLE, SOCKET_CLOSED, probe=probe).cause is (
            Cause.PEER_DOWN
        )


def test_no_connection_and_no_answer_are_a_peer_down():
    assert not needs_probe(UNAVAILABLE, REFUSED_CONNECTION)
    down = classify("kunshan", UNAVAILABLE, REFUSED_CONNECTION)
    assert (down.cause, down.text, down.retry) == (
        Cause.PEER_DOWN,
        "kunshan: UNAVAILABLE: no connection",
        True,
    )
    late = classify("kunshan", grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded")
    assert (late.cause, late.retry) == (Cause.PEER_DOWN, True)
    assert not needs_probe(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded")


def test_a_peer_refusing_our_certificate_past_the_handshake_is_a_tls_refusal():
    wrong = classify(
        "kunshan",
        grpc.StatusCode.PERMISSION_DENIED,
        "the certificate naming taicang is not signed by taicang's authority",
        reason="WRONG_AUTHORITY",
    )
    assert (wrong.cause, wrong.retry) == (Cause.TLS_REFUSED, True)
    assert "WRONG_AUTHORITY" in wrong.text


def test_the_peers_own_answers_are_refusals_by_the_peer():
    decided = classify(
        "kunshan",
        grpc.StatusCode.INVALID_ARGUMENT,
        "the request has invalid fields: applicant.id_number",
        reason="INVALID_APPLICATION",
    )
    assert (decided.cause, decided.retry) == (Cause.REFUSED_BY_PEER, False)
    assert decided.text == "kunshan: INVALID_ARGUMENT INVALID_APPLICATION"
    # A peer that is not letting us in, or broken, is not its word on the application.
    for code in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.INTERNAL):
        failure = classify("kunshan", code, "internal error; quote trace id 0af7")
        assert (failure.cause, failure.retry) == (Cause.REFUSED_BY_PEER, True)


# --- against real servers ----------------------------------------------------------------


def _expired(ca: Authority, name: str, directory: Path) -> tuple[Path, Path]:
    return issue(
        ca, name, directory, (-dt.timedelta(days=3), -dt.timedelta(days=1)), label="expired"
    )


class Bureaus:
    """Taicang calling Kunshan, with authorities and certificates to spoil either side."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.taicang_ca, self.kunshan_ca, self.rogue_ca = (
            authority("taicang"),
            authority("kunshan"),
            authority("rogue"),
        )
        self.taicang = issue(self.taicang_ca, "taicang", directory)
        self.kunshan = issue(self.kunshan_ca, "kunshan", directory)

    async def kunshan_server(
        self, cert: tuple[Path, Path] | None = None
    ) -> tuple[grpc.aio.Server, int]:
        cert_file, key_file = cert or self.kunshan
        server = grpc.aio.server()
        health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
        port = server.add_secure_port(
            "127.0.0.1:0",
            grpc.ssl_server_credentials(
                [(key_file.read_bytes(), cert_file.read_bytes())],
                root_certificates=self.taicang_ca.pem,
                require_client_auth=True,
            ),
        )
        await server.start()
        return server, port

    def taicang_directory(self, port: int, cert: tuple[Path, Path] | None = None) -> PeerDirectory:
        cert_file, key_file = cert or self.taicang
        me = Identity(
            "taicang",
            cert_file.read_bytes(),
            key_file.read_bytes(),
            str(cert_file),
            str(key_file),
        )
        kunshan = Peer("kunshan", ("320583",), f"127.0.0.1:{port}", self.kunshan_ca.pem)
        return PeerDirectory(me, {"kunshan": kunshan})


@pytest.fixture
def bureaus(tmp_path: Path) -> Bureaus:
    return Bureaus(tmp_path)


async def _classified(directory: PeerDirectory) -> tuple[Cause | None, Probe]:
    """What a call from Taicang to Kunshan ends in, as the federation loop classifies it."""
    from gateway.federation import Federation

    peer = directory.peers["kunshan"]
    probe = await directory.probe(peer)
    channel = directory.channel(peer)
    try:
        await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=3)
    except grpc.aio.AioRpcError as error:
        federation = Federation.__new__(Federation)
        federation.directory = directory
        return (await federation.failure_of(peer, error)).cause, probe
    finally:
        await channel.close()
    return None, probe


@pytest.fixture
async def servers() -> AsyncIterator[list[grpc.aio.Server]]:
    started: list[grpc.aio.Server] = []
    yield started
    for server in started:
        await server.stop(0)


async def test_both_certificates_good_is_no_failure(bureaus, servers):
    server, port = await bureaus.kunshan_server()
    servers.append(server)
    assert await _classified(bureaus.taicang_directory(port)) == (None, Probe.ACCEPTED)


async def test_kunshan_refusing_taicangs_certificate_from_another_authority(bureaus, servers):
    server, port = await bureaus.kunshan_server()
    servers.append(server)
    rogue = issue(bureaus.rogue_ca, "taicang", bureaus.directory / "rogue")
    assert await _classified(bureaus.taicang_directory(port, rogue)) == (
        Cause.TLS_REFUSED,
        Probe.CLOSED_AFTER_HANDSHAKE,
    )


async def test_kunshan_refusing_taicangs_expired_certificate(bureaus, servers):
    server, port = await bureaus.kunshan_server()
    servers.append(server)
    expired = _expired(bureaus.taicang_ca, "taicang", bureaus.directory)
    assert await _classified(bureaus.taicang_directory(port, expired)) == (
        Cause.TLS_REFUSED,
        Probe.CLOSED_AFTER_HANDSHAKE,
    )


async def test_taicang_refusing_kunshans_certificate(bureaus, servers):
    rogue = issue(bureaus.rogue_ca, "kunshan", bureaus.directory / "rogue")
    server, port = await bureaus.kunshan_server(rogue)
    servers.append(server)
    assert await _classified(bureaus.taicang_directory(port)) == (
        Cause.TLS_REFUSED,
        Probe.PEER_CERTIFICATE_REFUSED,
    )
    expired = _expired(bureaus.kunshan_ca, "kunshan", bureaus.directory)
    server, port = await bureaus.kunshan_server(expired)
    servers.append(server)
    cause, _ = await _classified(bureaus.taicang_directory(port))
    assert cause is Cause.TLS_REFUSED


async def test_nobody_listening_is_a_peer_down(bureaus):
    assert await _classified(bureaus.taicang_directory(free_port())) == (
        Cause.PEER_DOWN,
        Probe.UNREACHABLE,
    )


def test_the_own_certificates_expiry_is_read_from_it(bureaus):
    directory = bureaus.taicang_directory(free_port())
    assert directory.me.not_after == bureaus_cert_not_after(bureaus.taicang[0])


def bureaus_cert_not_after(cert_file: Path) -> dt.datetime:
    return x509.load_pem_x509_certificate(cert_file.read_bytes()).not_valid_after_utc
