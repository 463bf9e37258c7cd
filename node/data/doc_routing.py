"""Which shard a document goes to: ES's own routing, exactly (ES `IndexRouting.Unpartitioned`,
`Murmur3HashFunction`, `MetadataCreateIndexService#calculateNumRoutingShards`).

The routing value (the `_id`, or `routing` when given) is hashed with murmur3 x86 32-bit, seed 0, over its UTF-16
code units in little-endian byte order; the shard is `floorMod(hash, routing_shards) / routing_factor`, where the
number of routing shards is the largest `shards * 2^k` not above 1024 (at least one split). So a document lands on
the same shard number here as in Elasticsearch.
"""

from __future__ import annotations

import base64
import os

__all__ = ["murmur3_x86_32", "new_document_id", "routing_hash", "routing_num_shards", "shard_for_routing", "shard_id"]

_MASK = 0xFFFFFFFF


def _rotl(value: int, bits: int) -> int:
    return ((value << bits) | (value >> (32 - bits))) & _MASK


def murmur3_x86_32(data: bytes, seed: int = 0) -> int:
    """Lucene `StringHelper#murmurhash3_x86_32`, as a signed Java int."""
    c1, c2 = 0xCC9E2D51, 0x1B873593
    h = seed & _MASK
    rounded_end = len(data) & ~3
    for i in range(0, rounded_end, 4):
        k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24)
        k = _rotl((k * c1) & _MASK, 15)
        h ^= (k * c2) & _MASK
        h = (_rotl(h, 13) * 5 + 0xE6546B64) & _MASK
    k = 0
    tail = len(data) & 3
    if tail == 3:
        k = data[rounded_end + 2] << 16
    if tail >= 2:
        k |= data[rounded_end + 1] << 8
    if tail >= 1:
        k |= data[rounded_end]
        k = _rotl((k * c1) & _MASK, 15)
        h ^= (k * c2) & _MASK
    h ^= len(data)
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _MASK
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _MASK
    h ^= h >> 16
    return h - (1 << 32) if h & 0x80000000 else h


def routing_hash(routing: str) -> int:
    """ES `Murmur3HashFunction#hash(String)`: each UTF-16 code unit as two little-endian bytes."""
    return murmur3_x86_32(routing.encode("utf-16-le"))


def routing_num_shards(shards: int) -> int:
    """ES `calculateNumRoutingShards` for indices created on 7.0+."""
    log2_shards = (shards - 1).bit_length()  # ceil(log2(shards)), 32 - numberOfLeadingZeros(shards - 1)
    splits = max(1, 10 - log2_shards)
    return shards << splits


def shard_for_routing(routing: str, shards: int) -> int:
    num_routing = routing_num_shards(shards)
    factor = num_routing // shards
    return (routing_hash(routing) % num_routing) // factor  # Python's % is Java's floorMod for a positive divisor


def shard_id(doc_id: str, shards: int, routing: str | None = None) -> int:
    """The shard of a document: by `routing` when given, else by `_id`."""
    return shard_for_routing(routing if routing is not None else doc_id, shards)


def new_document_id() -> str:
    """A 20-character URL-safe base64 id, the shape of ES's auto-generated ids."""
    return base64.urlsafe_b64encode(os.urandom(15)).decode("ascii")
