"""One REST request as the handlers see it: parsed parameters, output format and the task headers to copy.

Request text reaches the handlers as ES sees it. Netty reads the request line and header bytes as ISO-8859-1, one
character per byte, so bytes that are not UTF-8 are ordinary characters to ES; aiohttp decodes UTF-8 and keeps
the other bytes as lone surrogates, which no UTF-8 writer (a response, gRPC, sqlite) accepts. `netty_text` gives
such a string Netty's reading, so a header or path of any bytes is stored, forwarded and echoed like any other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from multidict import CIMultiDictProxy, MultiDict

from node.errors import PlainRestError
from rest.output import OutputFormat, negotiate, render
from rest.params import Params

__all__ = ["RestRequest", "netty_text", "task_headers"]

_SINGLE_VALUED = ("X-Opaque-Id", "X-elastic-product-origin")


def netty_text(text: str) -> str:
    """`text` as Netty would have read its bytes: unchanged when it was UTF-8, else one character per byte."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("latin-1")
    return text


def task_headers(headers: CIMultiDictProxy[str] | MultiDict[str]) -> dict[str, str]:
    """The headers ES copies into every task of a request (reference §4).

    `X-Opaque-Id` and `X-elastic-product-origin` are single-valued and stored under their canonical spelling;
    `trace.id` is the 32-hex trace id of a W3C `traceparent`, which itself is never stored. Values that are not
    UTF-8 are kept as Netty reads them (`netty_text`).

    Raises:
        PlainRestError: two different values for a single-valued header (400, plain-string body).
    """
    out: dict[str, str] = {}
    for name in _SINGLE_VALUED:
        values = list(dict.fromkeys(netty_text(value) for value in headers.getall(name, [])))
        if len(values) > 1:
            raise PlainRestError(f"multiple values for single-valued header [{name}].", 400)
        if values:
            out[name] = values[0]
    traceparent = headers.get("traceparent")
    if traceparent is not None and len(traceparent) >= 55:
        out["trace.id"] = netty_text(traceparent[3:35])
    return out


def _query(request: web.Request) -> Mapping[str, str]:
    """The query with every name and value as Netty reads it (a copy only when some text needs it)."""
    query = request.query
    if all(name.isascii() and value.isascii() for name, value in query.items()):
        return query
    return MultiDict((netty_text(name), netty_text(value)) for name, value in query.items())


@dataclass(slots=True)
class RestRequest:
    """The ES view of an aiohttp request; created by the middleware, read by handlers."""

    http: web.Request
    params: Params
    output: OutputFormat
    headers: dict[str, str]

    @classmethod
    def from_http(cls, request: web.Request) -> RestRequest:
        """Reads what ES reads before any handler runs: the media types, the task headers, and the response
        parameters its `AbstractRestChannel` parses up front.

        Raises:
            MediaTypeHeaderError: a malformed `Accept` or `Content-Type`.
            PlainRestError: two values for a single-valued header.
            IllegalArgumentError: `pretty` or `human` neither `true` nor `false`; ES then answers without any
                response parameter applied, as the middleware does when this raises.
        """
        for name, value in list(request.match_info.items()):
            request.match_info[name] = netty_text(value)
        params = Params(_query(request), netty_text(request.path))
        fmt = params.str("format")
        output = negotiate(
            request.headers.get("Accept"),
            request.headers.get("Content-Type"),
            fmt,
            request.can_read_body,
        )
        headers = task_headers(request.headers)
        params.bool("pretty", False)
        params.bool("human", False)
        return cls(http=request, params=params, output=output, headers=headers)

    @property
    def human(self) -> bool:
        return self.params.bool("human", False)

    async def respond_off_loop(self, build: Callable[[], Any]) -> web.Response:
        """`respond` for a large body: building it and rendering it run on a worker thread, so the event loop keeps
        serving meanwhile (the `_bulk` answer of a 100,000-item request takes a second to render)."""
        pretty = self.params.bool("pretty", False)
        filter_path = self.params.list("filter_path") or None
        output = self.output

        def rendered() -> bytes:
            return render(build(), output, pretty=pretty, filter_path=filter_path)

        data = await asyncio.to_thread(rendered)
        return web.Response(body=data, content_type=None, headers={"Content-Type": output.content_type})

    def respond(self, body: Any, status: int = 200, *, filtered: bool = True) -> web.Response:
        """Renders `body` honouring `pretty`, `format` and, unless not `filtered`, `filter_path`.

        Error bodies are never filtered (ES `AbstractRestChannel#newErrorBuilder`).
        """
        pretty = self.params.bool("pretty", False)
        filter_path = (self.params.list("filter_path") or None) if filtered else None
        data = render(body, self.output, pretty=pretty, filter_path=filter_path)
        return web.Response(
            body=data, status=status, content_type=None, headers={"Content-Type": self.output.content_type}
        )
