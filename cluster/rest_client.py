"""The few blocking HTTP calls the launcher sends to its nodes (`GET /`, health, `_cat/master`, `/_sim/faults`).

stdlib `urllib.request` on purpose: the launcher needs a handful of small calls with short timeouts, not a client
library. Proxies are bypassed because every node listens on loopback, and an `http_proxy` in the user's environment
would otherwise route `127.0.0.1` through it. A cluster started with `--security` is reached over HTTPS, trusting
the cluster CA only, and every call authenticates as the `elastic` user (a `RestEndpoint` says how).
"""

from __future__ import annotations

import base64
import functools
import http.client
import json
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["RestEndpoint", "RestResponse", "get_json", "request_json"]

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True, slots=True)
class RestEndpoint:
    """How to reach one node's REST API.

    Attributes:
        address: `host:port`.
        ca_certificates: the CA to trust; set for a node serving HTTPS.
        password_file: the `elastic` user's password; set for a node requiring authentication.
    """

    address: str
    ca_certificates: Path | None = None
    password_file: Path | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.ca_certificates is not None else 'http'}://{self.address}"

    def headers(self) -> dict[str, str]:
        """`Authorization` for the `elastic` user, read from the home at each call (it may be created meanwhile)."""
        if self.password_file is None:
            return {}
        try:
            password = self.password_file.read_text(encoding="utf-8").strip()
        except OSError:
            return {}
        token = base64.b64encode(f"elastic:{password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}


def _opener(ca_certificates: Path | None) -> urllib.request.OpenerDirector:
    if ca_certificates is None:
        return _OPENER
    try:
        modified = ca_certificates.stat().st_mtime_ns
    except OSError:
        modified = 0  # no CA file: the handshake fails, which reads as "did not answer"
    return _https_opener(ca_certificates, modified)


@functools.lru_cache(maxsize=16)
def _https_opener(ca_certificates: Path, modified: int) -> urllib.request.OpenerDirector:
    """One context per CA file (and version of it): loading a CA costs more than the calls it serves.

    Only the cluster CA is trusted, not the system's: a node's certificate must come from its own home.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies the certificate and the host name
    if modified:
        context.load_verify_locations(cafile=str(ca_certificates))
    return urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context))


@dataclass(frozen=True, slots=True)
class RestResponse:
    """A node's answer: the HTTP status and the decoded JSON body (`None` when the body is not JSON)."""

    status: int
    body: Any


def get_json(endpoint: RestEndpoint | str, path: str, timeout: float) -> RestResponse | None:
    """GETs `{endpoint}{path}` (a bare `host:port` is plain HTTP); `None` when the node did not answer (refused,
    reset, timed out, or a TLS handshake that failed).

    Error statuses are answers, not exceptions: a 408 from `_cluster/health` or a 503 without a master is exactly
    what the caller polls on.
    """
    return request_json("GET", endpoint, path, None, timeout)


def request_json(
    method: str, endpoint: RestEndpoint | str, path: str, body: Any, timeout: float
) -> RestResponse | None:
    """Sends `method {endpoint}{path}` with `body` as JSON (none when `None`); answers as `get_json` does."""
    target = endpoint if isinstance(endpoint, RestEndpoint) else RestEndpoint(endpoint)
    headers = {"Accept": "application/json", **target.headers()}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(f"{target.url}{path}", data=data, headers=headers, method=method)
    try:
        with _opener(target.ca_certificates).open(request, timeout=timeout) as response:
            return RestResponse(response.status, _decode(response.read()))
    except urllib.error.HTTPError as e:
        with e:
            return RestResponse(e.code, _decode(e.read()))
    except (urllib.error.URLError, OSError, http.client.HTTPException):
        # URLError wraps refused/unreachable; OSError covers resets, socket timeouts and TLS failures (SSLError);
        # HTTPException a mangled status line or a truncated body from a node that died mid-answer.
        return None


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None
