"""Hypothesis strategies for hostile requests to every route of a node, and the check of ES's answer shape.

A generated request is a route of `rest.app.ROUTES` with hostile path parameters, query parameters (known names
with bad values, unknown and huge names), headers (media types, `X-Opaque-Id` bytes that are not UTF-8) and a body
(broken, deep, huge-numbered, non-UTF-8 or merely unexpected JSON, or NDJSON).

What is left out is what would make a request legitimately slow or change the cluster under test: fault
injection (`POST /_sim/faults`), the never-ending event stream (`GET /_sim/events`), test tasks that run until
cancelled, waits (a 1 s `timeout` is always added to the routes that wait), throttled or massively sliced
reindexing, and index names outside a small pool.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from random import Random
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

from rest.app import ROUTES

__all__ = ["BadRequest", "answer_problem", "bad_request", "bad_requests"]

# Fault injection would partition the cluster under test; the event stream never ends by design.
_EXCLUDED = {("POST", "/_sim/faults"), ("POST", "/_sim/faults/_heal"), ("GET", "/_sim/events")}
_WAITING = ("/_tasks", "/_cat/tasks", "/_cluster/health")
_PATH_VALUES = {
    "index": ["stress", "stress-2", "missing", "*", "_all", "stress,missing", "-stress", "Stress", "st*", "%2e",
              "a" * 300, "%C3%A9", "_sim", "stress%00", "%ff"],
    "task_id": ["n:1", ":5", "x:-1", "a:b:c", "unset", "1", "node:99999999999999999999", "oTUltX4IQMOUUVeiohTt8A:1",
                "%25", "x" * 2000],
    "id": ["1", "a%2Fb", "x" * 600, "%C3%BF", "-"],
    "scroll_id": ["garbage", "W10", "WyJhIl0", "_all", "a,b"],
    "fault_id": ["1", "abc", "-1"],
    "node_id_or_metric": ["_local", "_all", "jvm", "nope", "_master", "a,b", "*", "os,jvm,foo"],
    "node_id": ["_local", "nope", "_all"],
    "metric": ["os", "jvm,foo", "_all", "x" * 100],
}  # fmt: skip
_PARAM_NAMES = [
    "pretty", "human", "format", "filter_path", "error_trace", "size", "from", "scroll", "timeout",
    "wait_for_completion", "slices", "requests_per_second", "max_docs", "scroll_size", "q", "nodes", "actions",
    "detailed", "group_by", "parent_task_id", "v", "h", "s", "help", "bytes", "time", "refresh", "routing",
    "conflicts", "master_timeout", "local", "wait_for_status", "level", "search_type", "track_total_hits",
    "rest_total_hits_as_int", "preference", "op_type", "expand_wildcards", "ignore_unavailable", "allow_no_indices",
    "flat_settings", "include_defaults", "full_id", "ts", "pri", "health", "wait_for_nodes", "terminate_after",
    "version", "if_seq_no", "prety", "a", "x" * 120, "%ff", "size%00",
]  # fmt: skip
_PARAM_VALUES = [
    "", "true", "false", "maybe", "TRUE", "-1", "0", "1", "2", "1025", "100000", "NaN", "Infinity", "-Infinity",
    "1e400", "9" * 30, "99999999999999999999", "2147483648", "1.5", "1d", "1000d", "25h", "-5s", "5", "5M", "abc",
    "%", "%zz", "%ff%fe", "a,b,,", "*:*", "x" * 3000, ".".join(["a"] * 2000), "nodes,parents", "green", "json",
    "yaml", "smile", "txt", "_local", "auto", "proceed", "wait_for", "%C3%A9", "0x10", "1_000",
]  # fmt: skip
_CONTENT_TYPES = [
    None, "application/json", "application/x-ndjson", "application/yaml", "text/plain",
    "application/vnd.elasticsearch+json; compatible-with=9", "application/vnd.elasticsearch+json; compatible-with=7",
    "application/vnd.elasticsearch+json; compatible-with=x", "application/json; charset=latin1", "garbage", "",
    "application/json;;;=", "*/*",
]  # fmt: skip
_ACCEPTS = [None, "application/json", "application/yaml", "text/plain", "*/*", "application/cbor", "x/y; q=a", ""]
_KEYS = [
    "query", "size", "from", "source", "dest", "index", "max_docs", "slice", "script", "conflicts", "settings",
    "persistent", "transient", "number_of_shards", "sort", "aggs", "track_total_hits", "scroll", "scroll_id", "id",
    "max", "match_all", "bool", "must", "op_type", "routing", "doc", "upsert", "_index", "_id",
]  # fmt: skip
_BULK_LINES = [
    b'{"index":{}}', b'{"index":{"_index":"stress"}}', b'{"delete":{"_index":"stress","_id":"1"}}',
    b'{"update":{"_index":"stress","_id":"1"}}', b'{"create":{"_id":"x"}}', b"{}", b"[]", b'{"foo":{}}',
    b'{"index":{"_index":"stress","bogus":1}}', b'{"doc":{"a":1}}', b'{"n":1}', b"{", b"", b"\xff\xfe",
    b'{"index":{"_index":"stress","_id":"' + b"i" * 600 + b'"}}',
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class BadRequest:
    method: str
    path: str  # with the query string, percent-encoded where it must be
    headers: tuple[tuple[str, str], ...]
    body: bytes | None

    def __str__(self) -> str:
        body = None if self.body is None else self.body[:200]
        return f"{self.method} {self.path[:300]} {list(self.headers)} {body!r}"


def _json_value(rng: Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 3 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 1, 5, 1025, 2**31, 2**63, -(2**70), 10**30])
    if kind == 3:
        return rng.choice([0.5, -0.0, 1e300, 1.5e-300, 3.7])
    if kind == 4:
        return _text(rng, 10)
    if kind == 5:
        return rng.choice(["abort", "proceed", "stress", "1", "-1", "*", "_all", "create", "index", "x" * 500])
    if kind in (6, 7):
        return {rng.choice(_KEYS) if rng.random() < 0.8 else _text(rng, 6): _json_value(rng, depth + 1)
                for _ in range(rng.randrange(4))}  # fmt: skip
    return [_json_value(rng, depth + 1) for _ in range(rng.randrange(4))]


def _text(rng: Random, most: int) -> str:
    """Any Unicode text, surrogates excepted (no UTF-8 body or URL can carry one)."""
    chars = []
    for _ in range(rng.randrange(most + 1)):
        code = rng.choice([rng.randrange(0x20, 0x7F), rng.randrange(0x80), rng.randrange(0x80, 0xD800),
                           rng.randrange(0xE000, 0x110000)])  # fmt: skip
        chars.append(chr(code))
    return "".join(chars)


def _body(rng: Random) -> bytes | None:
    kind = rng.choice(["none", "json", "json", "json", "deep", "number", "utf8", "token", "bulk", "truncated", "bytes"])
    if kind == "none":
        return None
    if kind == "json":
        return json.dumps({rng.choice(_KEYS): _json_value(rng, 1) for _ in range(rng.randrange(5))}).encode()
    if kind == "deep":
        depth = rng.randrange(900, 3000)
        opener = rng.choice([b"[", b'{"query":', b'{"a":'])
        return opener * depth + (b"1" + b"]" * depth if opener == b"[" else b"")
    if kind == "number":
        return b'{"size":' + rng.choice([b"", b"-", b"0."]) + b"9" * rng.randrange(990, 6000) + b"}"
    if kind == "utf8":
        return b'{"query":{"match":{"f":"' + rng.randbytes(rng.randrange(1, 16)) + b'"}}}'
    if kind == "token":
        return b'{"size":' + rng.choice([b"NaN", b"Infinity", b"-Infinity", b"1e400", b'"\\ud800"']) + b"}"
    if kind == "bulk":
        lines = [rng.choice(_BULK_LINES) for _ in range(rng.randrange(1, 7))]
        return b"\n".join(lines) + rng.choice([b"\n", b""])
    if kind == "truncated":
        whole = json.dumps({rng.choice(_KEYS): _json_value(rng, 1) for _ in range(rng.randrange(1, 4))})
        return whole[: rng.randrange(len(whole))].encode()
    return rng.randbytes(rng.randrange(65))


def _header_text(rng: Random) -> str:
    """Header bytes as http.client writes them (Latin-1), without the line breaks it refuses."""
    return rng.randbytes(rng.randrange(25)).replace(b"\r", b"").replace(b"\n", b"").decode("latin-1")


_ROUTES = [(method, path) for method, path, _ in ROUTES if (method, path) not in _EXCLUDED]


def bad_request(rng: Random) -> BadRequest:
    """One hostile request to one of the node's routes, every choice drawn from `rng`."""
    method, template = rng.choice(_ROUTES)
    path = template
    for name, values in _PATH_VALUES.items():
        if "{" + name + "}" in path:
            path = path.replace("{" + name + "}", rng.choice(values))
    params = []
    for _ in range(rng.randrange(5)):
        value = rng.choice(_PARAM_VALUES) if rng.random() < 0.8 else quote(_text(rng, 8), safe="")
        params.append((rng.choice(_PARAM_NAMES), value))
    if template == "/_sim/tasks":
        params.append(("duration", "1ms"))  # never a task that runs until cancelled
    if template.startswith(_WAITING):
        params.append(("timeout", "1s"))
    if template in ("/_reindex", "/{index}/_update_by_query", "/{index}/_delete_by_query"):
        params = [(k, v) for k, v in params if k not in ("requests_per_second", "slices") or not v[:1].isdigit()]
    query = "&".join(f"{k}={v}" if v else k for k, v in params)
    headers = []
    content_type = rng.choice(_CONTENT_TYPES)
    if content_type is not None:
        headers.append(("Content-Type", content_type))
    accept = rng.choice(_ACCEPTS)
    if accept is not None:
        headers.append(("Accept", accept))
    if rng.random() < 0.5:
        headers.append(("X-Opaque-Id", _header_text(rng)))
    if rng.random() < 0.1:
        headers.append(("traceparent", _header_text(rng)))
    body = _body(rng) if method in ("POST", "PUT", "GET") else None
    return BadRequest(method, path + ("?" + query if query else ""), tuple(headers), body)


def _batch(seed: int, count: int) -> list[BadRequest]:
    rng = Random(seed)
    return [bad_request(rng) for _ in range(count)]


def bad_requests(count: int) -> st.SearchStrategy[list[BadRequest]]:
    """`count` hostile requests from a seed hypothesis draws, so a failing batch is reproduced from its seed."""
    return st.integers(min_value=0, max_value=2**32 - 1).map(lambda seed: _batch(seed, count))


# Python exception names in a reason: our catch-all's `TypeError: ...`, never ES's.
_PYTHON_ERROR = ("Error:", "Exception:", "Interrupt:")


def _error_problem(status: int, body: Any) -> str | None:
    if not isinstance(body, dict) or set(body) != {"error", "status"} or body["status"] != status:
        return f"not ES's error shape: {str(body)[:300]}"
    error = body["error"]
    if isinstance(error, str):
        return None  # ES's plain-string errors (405, no handler, duplicate header)
    if not isinstance(error, dict) or not {"root_cause", "type", "reason"} <= set(error):
        return f"not ES's error object: {str(error)[:300]}"
    if status >= 500 and error["type"] == "exception" and any(p in str(error["reason"]) for p in _PYTHON_ERROR):
        return f"a 5xx from a Python failure: {error['reason'][:300]}"
    return None


def answer_problem(request: BadRequest, status: int, content_type: str, body: bytes) -> str | None:
    """What is wrong with a node's answer to `request`, if anything: a plain-text error, a body that is not ES's
    error shape, or a 5xx that only a bug gives. None for an answer ES could have given."""
    if request.method == "HEAD" or (status in (413, 417) and body == b""):
        return None  # no body (HEAD), or Netty's bare 413/417
    if status < 400:
        if content_type.startswith("text/plain") or "yaml" in content_type or not body:
            return None
        if request.path.startswith("/_sim/ui") and not content_type.startswith("application/json"):
            return None  # the live view's page and assets: HTML, CSS, JavaScript and icons
        try:
            json.loads(body)
        except ValueError:
            return f"a {status} whose body is not JSON: {body[:200]!r}"
        return None
    if "yaml" in content_type:
        ok = body.startswith(b"---\nerror:") or (status == 404 and body.startswith(b"---\n_index:"))
        return None if ok else f"a YAML error that is not ES's: {body[:200]!r}"
    if not content_type.startswith(("application/json", "application/vnd.elasticsearch+json")):
        return f"a {status} answered as {content_type}: {body[:200]!r}"
    try:
        parsed = json.loads(body)
    except ValueError:
        return f"a {status} whose body is not JSON: {body[:200]!r}"
    if status == 404 and isinstance(parsed, dict) and "error" not in parsed:
        return None  # a document that is not there: ES's ordinary get or delete body, with 404
    return _error_problem(status, parsed)
