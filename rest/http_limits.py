"""What one HTTP request may cost a node before its handler runs: ES's limits on request bodies and slow clients.

| limit | ES | answer |
| --- | --- | --- |
| `http.max_content_length` (100mb) | `Netty4HttpContentSizeHandler`: checked on `Content-Length` before any byte of the body is read, and on the bytes of a chunked body as they arrive | 413 with no body, connection closed |
| `network.breaker.inflight_requests.limit` | `RestController#dispatchRequest` reserves the body in the `in_flight_requests` `ChildMemoryCircuitBreaker` (overhead 2.0) until the response is sent | 429 `circuit_breaking_exception` |
| `http.read_timeout` | Netty's `ReadTimeoutHandler`: a connection that sends nothing for that long is closed | the connection is closed, nothing is written |
| `Expect` | `Netty4HttpContentSizeHandler`: only `100-continue`, and not for a body over the limit | 417 / 413 with no body, connection closed |

ES's Netty pipeline reads a body whole before dispatching the request; so does `admitted_body`, here in the
middleware, before the handler: with a `Content-Length` the bytes are reserved in the breaker first, so bodies that
would pass the limit are never read. The handler's own `await request.read()` returns the bytes read here.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web

from node.common.malloc import release_free_memory
from node.config import NodeConfig
from node.data.json_body import OFF_LOOP_BYTES, parsed_off_loop
from node.errors import CircuitBreakingError
from node.human import format_byte_size

__all__ = [
    "HTTP_LIMITS",
    "IN_FLIGHT_REQUESTS",
    "ContentTooLarge",
    "HttpLimits",
    "InFlightRequestsBreaker",
    "ReadTimedOut",
    "admitted_body",
    "check_content_length",
    "closed_connection",
    "expect_continue",
    "refuse_too_large",
]


@dataclass(frozen=True, slots=True)
class HttpLimits:
    """The node's HTTP settings (`node.config.NodeConfig`): body size, and how long a silent client is kept."""

    max_content_length: int
    read_timeout_s: float | None  # None: never time out (ES's `http.read_timeout: 0`)

    @classmethod
    def of(cls, config: NodeConfig) -> HttpLimits:
        timeout = config.http_read_timeout_ms / 1000 if config.http_read_timeout_ms > 0 else None
        return cls(config.http_max_content_length, timeout)


class InFlightRequestsBreaker:
    """ES's `in_flight_requests` child breaker (`ChildMemoryCircuitBreaker`, durability TRANSIENT).

    Bytes are counted times the overhead (ES `network.breaker.inflight_requests.overhead`, 2.0); a reservation
    that would take the total past the limit is refused with ES's exact reason. Only the owner of a reservation
    releases it. The parent breaker (real memory) has no counterpart here.
    """

    NAME = "in_flight_requests"
    LABEL = "<http_request>"  # what RestController reserves request bodies as
    OVERHEAD = 2.0

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def add_estimate_bytes_and_maybe_break(self, size: int, label: str) -> None:
        """Reserves `size` bytes, or raises without reserving anything.

        Raises:
            CircuitBreakingError: 429, `[in_flight_requests] Data too large, data for [<http_request>] would be
                [209715200/200mb], which is larger than the limit of [104857600/100mb]`.
        """
        wanted = size if self.limit == 0 else int((self.used + size) * self.OVERHEAD)
        if self.limit == 0 or wanted > self.limit:
            reason = (
                f"[{self.NAME}] Data too large, data for [{label}] would be [{wanted}/{format_byte_size(wanted)}], "
                f"which is larger than the limit of [{self.limit}/{format_byte_size(self.limit)}]"
            )
            raise CircuitBreakingError(reason, wanted, self.limit, "TRANSIENT")
        self.used += size

    def release(self, size: int) -> None:
        self.used -= size


HTTP_LIMITS: web.AppKey[HttpLimits] = web.AppKey("http_limits", HttpLimits)
IN_FLIGHT_REQUESTS: web.AppKey[InFlightRequestsBreaker] = web.AppKey("in_flight_requests", InFlightRequestsBreaker)


class ContentTooLarge(Exception):
    """The body is over `http.max_content_length`: answered by `refuse_too_large`, before ES sees the request."""


class ReadTimedOut(Exception):
    """Nothing arrived for `http.read_timeout`: the connection is closed without an answer (`closed_connection`)."""


def _bare(status: int) -> web.Response:
    """A Netty-level answer: no body, no ES headers, and the connection closed after it."""
    response = web.Response(status=status, headers={"Connection": "close"})
    response.force_close()
    return response


async def refuse_too_large(request: web.Request) -> web.Response:
    """ES `Netty4HttpContentSizeHandler.TOO_LARGE_CLOSE`: `413 Request Entity Too Large` with no body, and the
    connection closed at once, without reading what the client still sends (aiohttp would otherwise linger,
    reading and discarding the rest of the body first).
    """
    response = _bare(413)
    await response.prepare(request)
    await response.write_eof()
    if request.transport is not None:
        request.transport.close()  # buffered output is flushed before the socket closes
    return response


def closed_connection(request: web.Request) -> web.Response:
    """Closes the client's connection (ES `ReadTimeoutHandler`); the returned response is never written."""
    if request.transport is not None:
        request.transport.close()
    return _bare(408)


def check_content_length(request: web.Request) -> None:
    """Raises `ContentTooLarge` for a declared length over the limit, before anything else looks at the request."""
    declared = request.content_length
    if declared is not None and declared > request.app[HTTP_LIMITS].max_content_length:
        raise ContentTooLarge


async def expect_continue(request: web.Request) -> web.StreamResponse | None:
    """The `Expect` handling of ES `Netty4HttpContentSizeHandler`, for every route of the app.

    `100-continue` is the only expectation; a body over the limit is refused before the client sends it.
    """
    if request.headers.get("Expect", "").lower() != "100-continue":
        return _bare(417)
    declared = request.content_length
    if declared is not None and declared > request.app[HTTP_LIMITS].max_content_length:
        return await refuse_too_large(request)
    await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    return None


async def _next_chunk(request: web.Request, timeout_s: float | None) -> bytes:
    try:
        async with asyncio.timeout(timeout_s):
            return await request.content.readany()
    except TimeoutError:
        raise ReadTimedOut from None


@asynccontextmanager
async def admitted_body(request: web.Request) -> AsyncIterator[None]:
    """Reads the request body under the node's limits and holds its bytes in the breaker until the block ends.

    Raises:
        ContentTooLarge: a chunked body grew past `http.max_content_length`.
        CircuitBreakingError: the body would take the in-flight bytes past the breaker's limit.
        ReadTimedOut: the client sent nothing for `http.read_timeout`.
    """
    if not request.body_exists:
        yield
        return
    limits = request.app[HTTP_LIMITS]
    breaker = request.app[IN_FLIGHT_REQUESTS]
    reserved = request.content_length or 0
    if reserved:
        breaker.add_estimate_bytes_and_maybe_break(reserved, breaker.LABEL)
    try:
        chunks: list[bytes] = []
        received = 0
        while chunk := await _next_chunk(request, limits.read_timeout_s):
            received += len(chunk)
            if received > limits.max_content_length:
                raise ContentTooLarge
            if received > reserved:  # a chunked body is counted as it arrives
                breaker.add_estimate_bytes_and_maybe_break(received - reserved, breaker.LABEL)
                reserved = received
            chunks.append(chunk)
        # What the handler's `await request.read()` returns: aiohttp keeps the bytes it read there.
        body = request._read_bytes = b"".join(chunks)
        del chunks
        if len(body) >= OFF_LOOP_BYTES and not request.path.endswith("/_bulk"):
            async with parsed_off_loop(body):  # a large JSON body is parsed without holding the event loop
                yield
        else:
            yield
    finally:
        request._read_bytes = None  # the bytes go when the reservation goes, not whenever the request object does
        breaker.release(reserved)
        if reserved >= OFF_LOOP_BYTES:  # what reading and parsing a large body took goes back to the system
            asyncio.get_running_loop().call_soon(release_free_memory)
