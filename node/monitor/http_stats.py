"""The `http` section of node stats (mirrors ES `HttpStats`): connections of the node's REST server."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

__all__ = ["HttpStats"]


class HttpStats:
    """Counts the connections aiohttp accepts (`total_opened`) next to the ones open now (`current_open`).

    `attach` wraps the server's connection callback once, when the composition root has set up its runner.
    """

    def __init__(self) -> None:
        self.total_opened = 0
        self._server: web.Server | None = None

    def attach(self, server: web.Server) -> None:
        made = server.connection_made

        def counted(handler: Any, transport: asyncio.Transport) -> None:
            self.total_opened += 1
            made(handler, transport)

        server.connection_made = counted  # type: ignore[method-assign]
        self._server = server

    @property
    def current_open(self) -> int:
        return len(self._server.connections) if self._server is not None else 0

    def stats(self) -> dict[str, Any]:
        return {"current_open": self.current_open, "total_opened": self.total_opened, "clients": []}
