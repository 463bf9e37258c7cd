"""`GET /_sim/events`: this node's live events as Server-Sent Events, for the live view (simulator-only).

The stream (`text/event-stream`) carries three kinds of message, each one JSON `data` line:

| event | data |
| --- | --- |
| `snapshot` | first, once: the node, the cluster as it applied it, its tasks, fault rules and recent history |
| `events` | a list of events (`task_started`, `task_cancelled`, `task_finished`, `fault_added`, `fault_removed`, `fault_healed`, `fault_expired`, `cluster_state`, `master_elected`, `master_lost`, `node_joined`, `node_left`, `index_created`, `index_deleted`) |
| `heartbeat` | every second without events, so a silent (paused) node is noticed |

Events are sent in batches at most ten times a second, so a burst of thousands of tasks costs the page a few
messages. `exclude_actions` (comma-separated `*` patterns, e.g. `internal:*`) leaves out the tasks with those
actions, in the snapshot and in the events. A subscriber that falls too far behind gets an `overflow` message and the stream ends; `EventSource`
reconnects to a fresh snapshot after `retry` milliseconds.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aiohttp import web

from node.errors import IllegalArgumentError
from rest.app_keys import rest_request, services

__all__ = ["stream_events"]

HEARTBEAT_S = 1.0
BATCH_INTERVAL_S = 0.1
RECONNECT_MILLIS = 1000
MAX_EXCLUDED_PATTERNS = 32
WRITE_TIMEOUT_S = 30.0  # a page that stops reading (its connection full) gives up its subscription


def sse_message(event: str, data: Any, *, retry_millis: int | None = None) -> bytes:
    """One SSE message; `data` as a single line of compact JSON."""
    retry = f"retry: {retry_millis}\n" if retry_millis is not None else ""
    return f"{retry}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


async def stream_events(request: web.Request) -> web.StreamResponse:
    req = rest_request(request)
    exclude_actions = req.params.list("exclude_actions")
    req.params.check_unrecognized()
    if len(exclude_actions) > MAX_EXCLUDED_PATTERNS:
        raise IllegalArgumentError(f"[exclude_actions] takes at most {MAX_EXCLUDED_PATTERNS} patterns")
    with services(request).events.subscribe(exclude_actions) as subscription:
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-elastic-product": "Elasticsearch",  # the middleware cannot add it once the stream has started
            }
        )
        await response.prepare(request)

        async def send(message: bytes) -> None:
            await asyncio.wait_for(response.write(message), WRITE_TIMEOUT_S)

        try:
            await send(sse_message("snapshot", subscription.snapshot, retry_millis=RECONNECT_MILLIS))
            while not subscription.ended:
                batch = await subscription.next_batch(HEARTBEAT_S)
                if subscription.overflowed:
                    await send(sse_message("overflow", {"reason": "subscriber fell too far behind"}))
                    break
                if batch:
                    await send(sse_message("events", batch))
                elif not subscription.closed:
                    await send(sse_message("heartbeat", {"time": int(time.time() * 1000)}))
                await asyncio.sleep(BATCH_INTERVAL_S)
        except (ConnectionResetError, TimeoutError):  # the page went away, or stopped reading, between two writes
            pass
    return response
