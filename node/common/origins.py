"""Whether a browser page comes from a node of the cluster: the rule for cross-origin requests of the live view.

The page (`/_sim/ui/`) is served by one node and talks to the others' `/_sim/` endpoints and to the launcher's
control endpoint (`simcluster ui`); both answer cross-origin requests only from pages whose origin is a node's
HTTP address. Loopback names count as one host: `http://localhost:9200` is the node publishing `127.0.0.1:9200`.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

__all__ = ["is_node_origin"]

_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


def _host_port(address: str) -> tuple[str, str]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), port


def is_node_origin(origin: str, http_addresses: Iterable[str]) -> bool:
    """Whether `origin` (`http://host:port`) is one of `http_addresses` (`host:port`)."""
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        return False
    if parts.scheme != "http" or parts.hostname is None or port is None:
        return False
    for address in http_addresses:
        host, node_port = _host_port(address)
        same_host = host == parts.hostname or (host in _LOOPBACK and parts.hostname in _LOOPBACK)
        if same_host and node_port == str(port):
            return True
    return False
