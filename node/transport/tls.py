"""Mutual TLS on the transport: only a holder of the cluster's certificate may call a node (DESIGN §5).

Mirrors ES's transport TLS as its security auto-configuration sets it up (`xpack.security.transport.ssl.*`):
every node presents the cluster's transport certificate both as a server and as a client, and accepts a
connection only when the peer's certificate chains to the cluster CA (`client_authentication: required`).
A process without that certificate, or with one from another cluster's CA, fails the TLS handshake: no RPC, so
no action and no task, ever reaches the node.

The peer's certificate is checked against the CA and `TRANSPORT_TLS_SERVER_NAME`, never against the address it was
dialled at (ES `verification_mode: certificate`), so nodes can bind any address. Channels live as long as the peer
(`TransportService` keeps one per address), so a handshake is paid once per peer, not per request.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from node.config import TRANSPORT_TLS_SERVER_NAME, NodeConfig

__all__ = ["SslConfigError", "TransportTls"]

_SETTINGS = (
    ("xpack.security.transport.ssl.key", "transport_ssl_key"),
    ("xpack.security.transport.ssl.certificate", "transport_ssl_certificate"),
    ("xpack.security.transport.ssl.certificate_authorities", "transport_ssl_certificate_authorities"),
)


class SslConfigError(Exception):
    """ES `SslConfigException`: the node's TLS settings are missing or point at files it cannot use."""


@dataclass(frozen=True, slots=True)
class TransportTls:
    """The PEM material of one node's transport TLS, and the gRPC credentials made from it."""

    key: bytes
    certificate: bytes
    certificate_authorities: bytes
    _channel_credentials: grpc.ChannelCredentials = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        credentials = grpc.ssl_channel_credentials(
            root_certificates=self.certificate_authorities, private_key=self.key, certificate_chain=self.certificate
        )
        object.__setattr__(self, "_channel_credentials", credentials)

    @classmethod
    def load(cls, config: NodeConfig) -> TransportTls:
        """Reads the three PEM files the node's settings name.

        Raises:
            SslConfigError: a setting is missing (a node never serves an open transport), or a file is unreadable.
        """
        paths: list[Path] = []
        for setting, attribute in _SETTINGS:
            path = getattr(config, attribute)
            if path is None:
                names = ", ".join(f"[{s}]" for s, _ in _SETTINGS)
                raise SslConfigError(
                    f"transport TLS is not configured: [{setting}] is not set; a node needs {names} to start"
                    " (`simcluster up` creates them in <home>/certs)"
                )
            paths.append(path)
        return cls.from_files(*paths)

    @classmethod
    def from_files(cls, key: Path, certificate: Path, certificate_authorities: Path) -> TransportTls:
        """Reads a PEM key, its certificate and the CA certificate.

        They are checked here, with Python's own TLS library, because gRPC only reports a bad key as a port it
        could not bind.

        Raises:
            SslConfigError: a file is unreadable, not PEM, or the key does not match the certificate.
        """
        try:
            check = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            check.load_cert_chain(certificate, key)
            check.load_verify_locations(cafile=certificate_authorities)
            return cls(key.read_bytes(), certificate.read_bytes(), certificate_authorities.read_bytes())
        except OSError as e:  # ssl.SSLError included
            raise SslConfigError(
                f"cannot use the transport TLS files [{key}], [{certificate}], [{certificate_authorities}]: {e}"
            ) from None

    def server_credentials(self) -> grpc.ServerCredentials:
        """Server side: present the certificate, and require a client certificate chaining to the CA."""
        return grpc.ssl_server_credentials(
            [(self.key, self.certificate)], root_certificates=self.certificate_authorities, require_client_auth=True
        )

    def channel_credentials(self) -> grpc.ChannelCredentials:
        """Client side: present the certificate; trust only the CA."""
        return self._channel_credentials

    @staticmethod
    def channel_options() -> list[tuple[str, str]]:
        """Verify peers by the name in the cluster's certificate rather than by the address dialled."""
        return [("grpc.ssl_target_name_override", TRANSPORT_TLS_SERVER_NAME)]
