"""A tiny blocking HTTP client for tests: exact status, headers and body, no client-side interpretation."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

__all__ = ["Response", "call", "wait_until"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: http.client.HTTPMessage
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)


def call(
    base_url: str,
    method: str,
    path: str,
    *,
    headers: Mapping[str, str] | list[tuple[str, str]] | None = None,
    body: bytes | None = None,
    timeout: float = 30.0,
) -> Response:
    """Sends one request to `base_url` (e.g. `http://127.0.0.1:9200`) and reads the whole answer."""
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        items = headers.items() if isinstance(headers, Mapping) else (headers or [])
        for name, value in items:
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return Response(response.status, response.headers, response.read().decode("utf-8"))
    finally:
        conn.close()


def wait_until(probe: Callable[[], T | None], timeout: float, interval: float = 0.05, what: str = "condition") -> T:
    """Polls `probe` until it returns something truthy, or fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)
