"""The aiohttp server of a node: its protocol limits and timeouts, and ES's answers to requests that never reach
the application.

aiohttp answers a request it cannot parse (a bad request line, a header too long, broken chunked encoding) and an
exception that escapes the application with its own plain-text page. ES answers the first kind with a JSON 400
(`RestController#dispatchBadRequest`, e.g. `too_long_http_line_exception`) and never shows a plain-text 500, so
the server's `RequestHandler` renders both in ES's error format.

Idle connections, and clients that send a request's line and headers slower than `http.read_timeout`, are closed by
aiohttp's keep-alive timer, which runs from the connection's start (or its last response) whatever trickles in;
bodies are timed by `rest.http_limits.admitted_body`.
"""

from __future__ import annotations

import json

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong
from aiohttp.web_protocol import RequestHandler

from node.config import NodeConfig
from node.errors import ElasticsearchError
from rest.app import last_resort_response

__all__ = ["MAX_HEADER_LINE_BYTES", "http_runner"]

# Request and header lines up to 64kb reach the handlers, so the task-header limit (16kb, ES http.max_header_size)
# answers as ES does instead of aiohttp's own 8kb parser limit.
MAX_HEADER_LINE_BYTES = 65536
# aiohttp's own default, standing in for ES's "no timeout" (`http.read_timeout: 0`).
_NO_READ_TIMEOUT_S = 3630.0


def _protocol_error(status: int, error: BaseException | None, message: str | None) -> ElasticsearchError:
    """The error ES reports for a request its HTTP decoder could not read (Netty's exception, by ES's naming)."""
    if isinstance(error, LineTooLong):
        line, limit = error.args[0], error.args[1] if len(error.args) > 1 else MAX_HEADER_LINE_BYTES
        if isinstance(line, bytearray) or line[:1] in (b"/", "/"):  # aiohttp hands over the start of the URL
            return ElasticsearchError(
                f"An HTTP line is larger than {limit} bytes.", status=400, es_type="too_long_http_line_exception"
            )
        return ElasticsearchError(
            f"HTTP header is larger than {limit} bytes.", status=400, es_type="too_long_http_header_exception"
        )
    text = error.message if isinstance(error, HttpProcessingError) and error.message else message or "bad request"
    return ElasticsearchError(text.splitlines()[0], status=status, es_type="illegal_argument_exception")


class _EsRequestHandler(RequestHandler):
    """aiohttp's connection handler, answering what it cannot hand to the application in ES's format."""

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if request.writer.output_size > 0:  # as aiohttp: too late for another response
            raise ConnectionError("Response is sent already, cannot send another response with the error message")
        if status >= 500:
            self.log_exception("Error handling request from %s", request.remote, exc_info=exc)
            response = last_resort_response(exc if exc is not None else RuntimeError(message or "internal error"))
            response.set_status(status)
        else:
            self.log_debug("Bad request from %s: %s", request.remote, exc or message)
            try:
                body = _protocol_error(status, exc, message).to_response_body()
                data = json.dumps(body, separators=(",", ":")).encode("ascii")
                response = web.Response(body=data, status=status, headers={"Content-Type": "application/json"})
            except Exception as e:  # noqa: BLE001 - never fail while answering a broken request
                response = last_resort_response(e)
        response.headers["X-elastic-product"] = "Elasticsearch"
        response.force_close()
        return response


class _EsServer(web.Server):
    def __call__(self) -> RequestHandler:
        return _EsRequestHandler(self, loop=self._loop, **self._kwargs)


class _EsAppRunner(web.AppRunner):
    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = _EsServer  # the same server, making ES-answering connection handlers
        return server


def http_runner(app: web.Application, config: NodeConfig) -> web.AppRunner:
    """The runner that serves `app` with the node's HTTP settings (`http.read_timeout` and the line limits)."""
    read_timeout_s = config.http_read_timeout_ms / 1000 if config.http_read_timeout_ms > 0 else _NO_READ_TIMEOUT_S
    return _EsAppRunner(
        app,
        access_log=None,
        handler_cancellation=True,
        max_field_size=MAX_HEADER_LINE_BYTES,
        max_line_size=MAX_HEADER_LINE_BYTES,
        keepalive_timeout=read_timeout_s,
    )
