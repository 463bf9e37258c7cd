"""Whether a browser page comes from the cluster's hosts: the rule for the live view's cross-origin requests.

The page (`/_sim/ui/`) is served by one node and talks to the others' `/_sim/` endpoints and to the launcher's
control endpoint (`simcluster ui`); both answer cross-origin requests only from pages served over HTTP by a host
that runs a node of the cluster. The port is not compared: a node restarted on an ephemeral port serves its page
on a port the other nodes never saw, and a page keeps following the cluster after its own node is gone. Loopback
names count as one host (`http://localhost:9200` is the node publishing `127.0.0.1:9200`). Web pages from anywhere
else get no CORS headers, so the browser keeps them from reading the answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

__all__ = ["is_cluster_origin"]

_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


def _host(address: str) -> str:
    return address.rpartition(":")[0].strip("[]")


def is_cluster_origin(origin: str, http_addresses: Iterable[str]) -> bool:
    """Whether `origin` (`http://host:port`) is served by a host of one of `http_addresses` (`host:port`)."""
    try:
        parts = urlsplit(origin)
        parts.port  # noqa: B018 - a malformed port raises here
    except ValueError:
        return False
    host = parts.hostname
    if parts.scheme != "http" or host is None:
        return False
    for address in http_addresses:
        node_host = _host(address)
        if node_host == host or (node_host in _LOOPBACK and host in _LOOPBACK):
            return True
    return False
