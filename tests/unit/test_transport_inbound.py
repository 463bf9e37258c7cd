"""Serving one peer's stream (`node.transport.connection.InboundStream`) without a network."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from node.transport.connection import InboundStream
from node.transport.pb import transport_pb2 as pb


async def test_a_handler_that_raises_still_answers_its_caller_with_an_error() -> None:
    """A bug in a handler fails the caller at once, as gRPC's UNKNOWN did, instead of at its deadline (or never)."""
    written: list[pb.TransportFrames] = []
    answered = asyncio.Event()

    async def handle(request: pb.TransportRequest) -> pb.TransportResponse:
        raise RuntimeError("a bug")

    async def write(batch: pb.TransportFrames) -> None:
        written.append(batch)
        answered.set()

    async def batches() -> AsyncIterator[pb.TransportFrames]:
        yield pb.TransportFrames(frames=[pb.TransportFrame(request_id=7, request=pb.TransportRequest(action="x"))])
        await asyncio.wait_for(answered.wait(), 5)

    await InboundStream(handle, write).serve(batches())
    (frame,) = [f for batch in written for f in batch.frames]
    assert frame.request_id == 7
    error = json.loads(frame.response.error_json)
    assert (error["type"], error["reason"], error["status"]) == ("exception", "RuntimeError: a bug", 500)


async def test_the_outbox_batches_by_payload_size_and_takes_back_unsent_requests() -> None:
    from node.transport.connection import _BATCH_BYTES, _Outbox

    outbox = _Outbox()
    half = _BATCH_BYTES // 2 + 1
    for request_id in (1, 2, 3):
        outbox.put(pb.TransportFrame(request_id=request_id, request=pb.TransportRequest(action="x")), half)
    assert outbox.withdraw(2) and not outbox.withdraw(2)
    outbox.put(pb.TransportFrame(request_id=4, cancel=True), 0)
    first, second = await outbox.take(), await outbox.take()
    assert [f.request_id for f in first.frames] == [1]  # two halves would pass the batch size
    assert [f.request_id for f in second.frames] == [3, 4]
