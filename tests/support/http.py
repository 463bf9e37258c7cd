"""A tiny blocking HTTP client for tests: exact status, headers and body, no client-side interpretation."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

__all__ = ["KeepAliveSender", "RawAnswer", "Response", "call", "call_with_body", "exchange", "wait_until"]

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
    conn = http.client.HTTPConnection(parts.hostname or "localhost", parts.port, timeout=timeout)
    try:
        items = headers.items() if isinstance(headers, Mapping) else (headers or [])
        response = _exchange(conn, method, path, items, body)
        return Response(response.status, response.headers, response.read().decode("utf-8"))
    finally:
        conn.close()


def call_with_body(base_url: str, method: str, path: str, body: Any = None) -> Response:
    """`call` with a body: bytes go as NDJSON (a bulk), anything else as compact JSON, None as no body."""
    if body is None:
        return call(base_url, method, path)
    if isinstance(body, bytes):
        return call(base_url, method, path, headers={"Content-Type": "application/x-ndjson"}, body=body)
    data = json.dumps(body, separators=(",", ":")).encode()
    return call(base_url, method, path, headers={"Content-Type": "application/json"}, body=data)


def _exchange(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    headers: Iterable[tuple[str, str]],
    body: bytes | None,
) -> http.client.HTTPResponse:
    """Writes the request exactly as given (no `Accept-Encoding` added) and returns the response, unread."""
    conn.putrequest(method, path, skip_accept_encoding=True)
    for name, value in headers:
        conn.putheader(name, value)
    if body is not None:
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    return conn.getresponse()


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


class KeepAliveSender:
    """Sends requests over one keep-alive connection per thread and node, reopening a connection the node closed."""

    def __init__(self, bases: list[str]) -> None:
        self._bases = [urlsplit(b) for b in bases]
        self._local = threading.local()

    def _connection(self, node: int, fresh: bool) -> http.client.HTTPConnection:
        connections = self._local.__dict__.setdefault("connections", {})
        if fresh and node in connections:
            connections.pop(node).close()
        if node not in connections:
            parts = self._bases[node]
            connections[node] = http.client.HTTPConnection(parts.hostname or "localhost", parts.port, timeout=60)
        return connections[node]

    def send(
        self, node: int, method: str, path: str, headers: Sequence[tuple[str, str]], body: bytes | None
    ) -> tuple[int, str, bytes]:
        """Sends one request to node number `node`; answers its status, `Content-Type` and body."""
        for fresh in (False, True):
            connection = self._connection(node, fresh)
            try:
                response = _exchange(connection, method, path, headers, body)
                data = response.read()
                if response.will_close:
                    connection.close()
                return response.status, response.getheader("Content-Type") or "", data
            except (http.client.RemoteDisconnected, ConnectionError, http.client.CannotSendRequest):
                if fresh:
                    raise
        raise AssertionError("unreachable")


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
