"""What crossed this node's transport (mirrors ES `TransportStats`): messages and bytes in and out.

Counted on the node-to-node hot path, so a count is two integer additions: a request sent or served over gRPC is one
message each way (the request, then its response), as ES counts every inbound and outbound message. Requests a node
sends to itself take the in-process `direct` path and cross no wire, so they are not counted (nor are they in ES).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["TransportStats"]


@dataclass(slots=True)
class TransportStats:
    rx_count: int = 0
    rx_size: int = 0
    tx_count: int = 0
    tx_size: int = 0
    outbound_connections: int = 0

    def sent(self, size: int) -> None:
        self.tx_count += 1
        self.tx_size += size

    def received(self, size: int) -> None:
        self.rx_count += 1
        self.rx_size += size

    def to_xcontent(self, server_open: int) -> dict[str, Any]:
        """ES's `transport` section; the handling-time histograms are empty (ES omits buckets without counts)."""
        return {
            "server_open": server_open,
            "total_outbound_connections": self.outbound_connections,
            "rx_count": self.rx_count,
            "rx_size_in_bytes": self.rx_size,
            "tx_count": self.tx_count,
            "tx_size_in_bytes": self.tx_size,
            "inbound_handling_time_histogram": [],
            "outbound_handling_time_histogram": [],
        }
