"""The few blocking HTTP calls the launcher sends to its nodes (`GET /`, health, `_cat/master`, `/_sim/faults`).

stdlib `urllib.request` on purpose: the launcher needs a handful of small calls with short timeouts, not a client
library. Proxies are bypassed because every node listens on loopback, and an `http_proxy` in the user's environment
would otherwise route `127.0.0.1` through it.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

__all__ = ["RestResponse", "get_json", "request_json"]

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True, slots=True)
class RestResponse:
    """A node's answer: the HTTP status and the decoded JSON body (`None` when the body is not JSON)."""

    status: int
    body: Any


def get_json(address: str, path: str, timeout: float) -> RestResponse | None:
    """GETs `http://{address}{path}`; `None` when the node did not answer (refused, reset, timed out).

    Error statuses are answers, not exceptions: a 408 from `_cluster/health` or a 503 without a master is exactly
    what the caller polls on.
    """
    return request_json("GET", address, path, None, timeout)


def request_json(method: str, address: str, path: str, body: Any, timeout: float) -> RestResponse | None:
    """Sends `method http://{address}{path}` with `body` as JSON (none when `None`); answers as `get_json` does."""
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(f"http://{address}{path}", data=data, headers=headers, method=method)
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return RestResponse(response.status, _decode(response.read()))
    except urllib.error.HTTPError as e:
        with e:
            return RestResponse(e.code, _decode(e.read()))
    except (urllib.error.URLError, OSError, http.client.HTTPException):
        # URLError wraps refused/unreachable; OSError covers resets and socket timeouts; HTTPException a mangled
        # status line or a truncated body from a node that died mid-answer.
        return None


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None
