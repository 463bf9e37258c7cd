"""One REST request as the handlers see it: parsed parameters, output format and the task headers to copy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web
from multidict import CIMultiDictProxy

from node.errors import PlainRestError
from rest.output import OutputFormat, negotiate, render
from rest.params import Params

__all__ = ["RestRequest", "task_headers"]

_SINGLE_VALUED = ("X-Opaque-Id", "X-elastic-product-origin")


def task_headers(headers: CIMultiDictProxy[str]) -> dict[str, str]:
    """The headers ES copies into every task of a request (reference §4).

    `X-Opaque-Id` and `X-elastic-product-origin` are single-valued and stored under their canonical spelling;
    `trace.id` is the 32-hex trace id of a W3C `traceparent`, which itself is never stored.

    Raises:
        PlainRestError: two different values for a single-valued header (400, plain-string body).
    """
    out: dict[str, str] = {}
    for name in _SINGLE_VALUED:
        values = list(dict.fromkeys(headers.getall(name, [])))
        if len(values) > 1:
            raise PlainRestError(f"multiple values for single-valued header [{name}].", 400)
        if values:
            out[name] = values[0]
    traceparent = headers.get("traceparent")
    if traceparent is not None and len(traceparent) >= 55:
        out["trace.id"] = traceparent[3:35]
    return out


@dataclass(slots=True)
class RestRequest:
    """The ES view of an aiohttp request; created by the middleware, read by handlers."""

    http: web.Request
    params: Params
    output: OutputFormat
    headers: dict[str, str]

    @classmethod
    def from_http(cls, request: web.Request) -> RestRequest:
        params = Params(request.query, request.path)
        fmt = params.str("format")
        output = negotiate(
            request.headers.get("Accept"),
            request.headers.get("Content-Type"),
            fmt,
            request.can_read_body,
        )
        return cls(http=request, params=params, output=output, headers=task_headers(request.headers))

    @property
    def human(self) -> bool:
        return self.params.bool("human", False)

    def respond(self, body: Any, status: int = 200) -> web.Response:
        """Renders `body` honouring `pretty`, `format` and `filter_path`."""
        pretty = self.params.bool("pretty", False)
        filter_path = self.params.list("filter_path") or None
        data = render(body, self.output, pretty=pretty, filter_path=filter_path)
        return web.Response(
            body=data, status=status, content_type=None, headers={"Content-Type": self.output.content_type}
        )
