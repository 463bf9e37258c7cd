"""A tiny blocking HTTP client for tests: exact status, headers and body, no client-side interpretation."""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

__all__ = ["RawAnswer", "Response", "call", "exchange", "wait_until"]

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


@dataclass(frozen=True, slots=True)
class RawAnswer:
    """What came back for raw bytes: everything read, and how the server ended (closed, reset, or still open)."""

    data: bytes
    ending: str  # "closed", "reset" or "open" (nothing more arrived within the timeout)

    @property
    def status(self) -> int | None:
        head = self.data.split(b"\r\n", 1)[0].split()
        return int(head[1]) if len(head) > 1 and head[1].isdigit() else None

    @property
    def body(self) -> bytes:
        return self.data.partition(b"\r\n\r\n")[2]


def exchange(base_url: str, data: bytes, *, timeout: float = 10.0) -> RawAnswer:
    """Sends raw bytes (any HTTP, broken or not) and reads until the server closes or `timeout` passes."""
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(data)
        received = bytearray()
        while True:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                return RawAnswer(bytes(received), "open")
            except ConnectionResetError:
                return RawAnswer(bytes(received), "reset")
            if not chunk:
                return RawAnswer(bytes(received), "closed")
            received += chunk


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
