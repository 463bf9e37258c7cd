"""`GET /_sim/loop_lag` and `POST /_sim/loop_lag/_reset`: how long this node's event loop was held
(simulator-only; `node.loop_lag`).

    {"node": "node-1", "interval_ms": 10.0, "ticks": 5120, "max_lag_ms": 3.2, "mean_lag_ms": 0.2,
     "ticks_by_lag": {"le_5ms": 5118, "le_10ms": 2, ...}}
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from node.loop_lag import LoopLagMonitor
from rest.app_keys import rest_request, services

__all__ = ["LOOP_LAG", "loop_lag", "reset_loop_lag", "run_loop_lag_monitor"]

LOOP_LAG: web.AppKey[LoopLagMonitor] = web.AppKey("loop_lag", LoopLagMonitor)


async def run_loop_lag_monitor(app: web.Application) -> AsyncIterator[None]:
    """An aiohttp cleanup context: the monitor runs while the node serves HTTP."""
    app[LOOP_LAG].start()
    yield
    app[LOOP_LAG].stop()


def _report(request: web.Request) -> web.Response:
    req = rest_request(request)
    req.params.check_unrecognized()
    monitor = request.app[LOOP_LAG]
    return req.respond({"node": services(request).config.name, **monitor.stats.to_dict(monitor.interval_s)})


async def loop_lag(request: web.Request) -> web.Response:
    return _report(request)


async def reset_loop_lag(request: web.Request) -> web.Response:
    """Answers the counters so far, then starts them again."""
    response = _report(request)
    request.app[LOOP_LAG].reset()
    return response
