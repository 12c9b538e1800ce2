"""The other cities' and provinces' gateways this one talks to, over mutual TLS.

``GATEWAY_PEERS_FILE`` (TOML) names each peer: the division-code prefixes it serves, its
address, and the certificate authority that signs its identity::

    [peers.kunshan]
    prefixes = ["320583"]
    address = "gateway.kunshan.example:50052"
    ca_file = "/etc/onedoor/peers/kunshan-ca.pem"

This gateway's own identity is ``GATEWAY_TLS_CERT_FILE`` and ``GATEWAY_TLS_KEY_FILE``: a
certificate whose common name and DNS name are ``GATEWAY_NAME``, as its peers know it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
import tomllib
from dataclasses import dataclass
from pathlib import Path

import grpc
from cryptography import x509
from cryptography.exceptions import InvalidSignature

from gateway.peer_trouble import Probe
from services.common import grpc_client
from services.common.config import ConfigError
from services.common.errors import ApiError

# How long a handshake probe waits for the connection, and then for the peer's first bytes.
PROBE_SECONDS = 3.0
# The HTTP/2 client preface: a peer that accepted our certificate answers it with SETTINGS.
_HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


@dataclass(frozen=True)
class Peer:
    name: str
    prefixes: tuple[str, ...]
    address: str
    ca_pem: bytes


@dataclass(frozen=True)
class Identity:
    name: str
    cert_pem: bytes
    key_pem: bytes
    # The files they were read from: Python's ssl (the handshake probe) loads only files.
    cert_file: str = ""
    key_file: str = ""

    @property
    def not_after(self) -> dt.datetime:
        """When this bureau's certificate expires: an alert fires well before."""
        return x509.load_pem_x509_certificate(self.cert_pem).not_valid_after_utc


@dataclass(frozen=True)
class PeerDirectory:
    me: Identity
    peers: dict[str, Peer]

    def route(self, division: str) -> Peer | None:
        """The peer serving ``division`` by its longest matching prefix."""
        best: tuple[int, Peer] | None = None
        for peer in self.peers.values():
            for prefix in peer.prefixes:
                if division.startswith(prefix) and (best is None or len(prefix) > best[0]):
                    best = (len(prefix), peer)
        return best[1] if best else None

    def server_credentials(self) -> grpc.ServerCredentials:
        """Only a client certificate signed by one of the peers' authorities gets in."""
        return grpc.ssl_server_credentials(
            [(self.me.key_pem, self.me.cert_pem)],
            root_certificates=b"".join(p.ca_pem for p in self.peers.values()),
            require_client_auth=True,
        )

    def channel(self, peer: Peer) -> grpc.aio.Channel:
        credentials = grpc.ssl_channel_credentials(
            root_certificates=peer.ca_pem,
            private_key=self.me.key_pem,
            certificate_chain=self.me.cert_pem,
        )
        # The peer's certificate names the peer, whatever address it is reached at.
        return grpc.aio.secure_channel(
            peer.address,
            credentials,
            options=[
                ("grpc.ssl_target_name_override", peer.name),
                # A peer that comes back is reached within seconds, not minutes.
                ("grpc.initial_reconnect_backoff_ms", 500),
                ("grpc.max_reconnect_backoff_ms", 5000),
            ],
            interceptors=grpc_client.interceptors(),
        )

    async def probe(self, peer: Peer) -> Probe:
        """One bare TLS handshake with the peer, presenting this bureau's certificate, to tell
        a peer that refuses it from a peer that is down: gRPC's server closes the connection
        without an alert, so grpc reports both as "Socket closed" (see gateway.peer_trouble)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_verify_locations(cadata=peer.ca_pem.decode())
        context.load_cert_chain(self.me.cert_file, self.me.key_file)
        context.set_alpn_protocols(["h2"])
        host, _, port = peer.address.rpartition(":")
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(
                    host.strip("[]"), int(port), ssl=context, server_hostname=peer.name
                ),
                PROBE_SECONDS,
            )
        except ssl.SSLCertVerificationError:
            return Probe.PEER_CERTIFICATE_REFUSED
        except ssl.SSLError:
            # With TLS 1.2 the peer's refusal ends the handshake itself.
            return Probe.CLOSED_AFTER_HANDSHAKE
        except ConnectionResetError:
            return Probe.CLOSED_AFTER_HANDSHAKE
        except (OSError, TimeoutError, ValueError):
            return Probe.UNREACHABLE
        try:
            writer.write(_HTTP2_PREFACE)
            first = await asyncio.wait_for(reader.read(9), PROBE_SECONDS)
        except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
            return Probe.CLOSED_AFTER_HANDSHAKE
        except (OSError, TimeoutError):
            return Probe.UNREACHABLE
        finally:
            writer.close()
        return Probe.ACCEPTED if first else Probe.CLOSED_AFTER_HANDSHAKE

    def identify(self, context: grpc.aio.ServicerContext) -> Peer:
        """The calling peer: its certificate's common name must be a known peer's name, and
        that peer's own authority must have signed it (any known authority let it through TLS)."""
        auth = context.auth_context()
        names = [n.decode() for n in auth.get("x509_common_name", [])]
        pems = auth.get("x509_pem_cert", [])
        peer = self.peers.get(names[0]) if names else None
        if peer is None or not pems:
            raise ApiError(
                grpc.StatusCode.PERMISSION_DENIED,
                "the caller is not a known peer",
                reason="UNKNOWN_PEER",
            )
        presented = x509.load_pem_x509_certificate(pems[0])
        try:
            presented.verify_directly_issued_by(x509.load_pem_x509_certificate(peer.ca_pem))
        except (InvalidSignature, ValueError, TypeError):
            raise ApiError(
                grpc.StatusCode.PERMISSION_DENIED,
                f"the certificate naming {peer.name} is not signed by {peer.name}'s authority",
                reason="WRONG_AUTHORITY",
            ) from None
        return peer


def load(peers_file: str, name: str, cert_file: str, key_file: str) -> PeerDirectory | None:
    """The directory in ``peers_file`` (GATEWAY_PEERS_FILE), with this gateway's own name and
    identity; None when it has no peers file (it then decides everything itself)."""
    if not peers_file:
        return None
    data = tomllib.loads(Path(peers_file).read_text(encoding="utf-8"))
    peers = {}
    for peer_name, entry in data.get("peers", {}).items():
        try:
            peers[peer_name] = Peer(
                name=peer_name,
                prefixes=tuple(str(p) for p in entry["prefixes"]),
                address=entry["address"],
                ca_pem=Path(entry["ca_file"]).read_bytes(),
            )
        except (KeyError, OSError) as error:
            raise ConfigError(
                f"{peers_file}: peer {peer_name}: {error}; it needs prefixes, address and ca_file"
            ) from None
    try:
        me = Identity(
            name=name,
            cert_pem=Path(cert_file).read_bytes(),
            key_pem=Path(key_file).read_bytes(),
            cert_file=cert_file,
            key_file=key_file,
        )
        me.not_after  # noqa: B018 (a file that is no certificate stops the gateway here)
    except OSError as error:
        raise ConfigError(f"GATEWAY_TLS_CERT_FILE or GATEWAY_TLS_KEY_FILE: {error}") from None
    except ValueError:
        raise ConfigError(f"GATEWAY_TLS_CERT_FILE={cert_file} holds no PEM certificate") from None
    return PeerDirectory(me, peers)
