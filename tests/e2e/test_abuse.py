"""Hostile requests against real nodes: each answered as ES answers it, at bounded cost (issue 8's table).

Every test ends by checking that the cluster is whole: every node still sees every node and none was ever removed
(a node that held its event loop too long fails its follower checks and is removed). The rows that could cost
memory also check that the node's resident memory comes back within 10% of where it was.
"""

from __future__ import annotations

import json
import re
import select
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import pytest

from cluster.launcher import FAST_FAILURE_DETECTION, LocalCluster
from cluster.process import memory_use, reset_peak_memory
from tests.e2e.conftest import start_local_cluster
from tests.support.http import Response, call, exchange, wait_until
from tests.support.nodes import assert_cluster_whole, resident_bytes, url, wait_for_resident_within

pytestmark = pytest.mark.e2e

JSON = {"Content-Type": "application/json"}
MB = 1 << 20
_SOURCE = "REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled)"


def _error(es_type: str, reason: str, status: int = 400, **extra: Any) -> dict[str, Any]:
    """ES's body for an error that is its own root cause."""
    cause = {"type": es_type, "reason": reason, **extra}
    return {"error": {"root_cause": [cause], **cause}, "status": status}


@pytest.fixture(scope="module")
def cluster(cluster3: LocalCluster) -> Iterator[LocalCluster]:
    body = b'{"settings":{"number_of_shards":2,"number_of_replicas":1}}'
    assert call(url(cluster3, "node-1"), "PUT", "/abuse", body=body, headers=JSON).status == 200
    health = call(url(cluster3, "node-1"), "GET", "/_cluster/health/abuse?wait_for_status=green&timeout=20s")
    assert health.status == 200
    docs = b"".join(b'{"index":{"_id":"%d"}}\n{"n":%d}\n' % (i, i) for i in range(4))
    call(url(cluster3, "node-1"), "POST", "/abuse/_bulk?refresh=true", body=docs, headers=JSON)
    yield cluster3
    assert_cluster_whole(cluster3)


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A cluster with small HTTP limits: 1 MB bodies, 4 MB in flight (2 MB of bodies), 1 s read timeout."""
    settings = {"http_max_content_length": MB, "inflight_requests_limit": 4 * MB, "http_read_timeout_ms": 1000}
    limited = start_local_cluster(
        tmp_path_factory.mktemp("limited-"), 3, node_defaults={**FAST_FAILURE_DETECTION, **settings}
    )
    try:
        yield limited
        assert_cluster_whole(limited)
    finally:
        limited.stop()


def _post(base: str, path: str, body: bytes, headers: dict[str, str] | None = None) -> Response:
    return call(base, "POST", path, body=body, headers={**JSON, **(headers or {})}, timeout=120)


# --- parameters ------------------------------------------------------------------------------------------------


def test_a_60000_character_parameter_name_is_rejected_with_es_text(cluster: LocalCluster) -> None:
    name = "a" * 60_000
    for node in cluster.names:
        response = call(url(cluster, node), "GET", f"/abuse/_search?{name}=1")
        assert response.status == 400
        reason = f"request [/abuse/_search] contains unrecognized parameter: [{name}]"
        assert response.json == _error("illegal_argument_exception", reason)
    assert_cluster_whole(cluster)


def test_pretty_that_is_not_a_boolean_is_es_400_without_response_parameters(cluster: LocalCluster) -> None:
    response = call(url(cluster, "node-2"), "GET", "/_tasks?pretty=maybe&filter_path=status")
    assert response.status == 400
    assert response.headers["Content-Type"] == "application/json"
    assert response.text == json.dumps(
        _error("illegal_argument_exception", "Failed to parse value [maybe] as only [true] or [false] are allowed."),
        separators=(",", ":"),
    )


def test_a_2000_deep_filter_path_filters_like_es(cluster: LocalCluster) -> None:
    response = call(url(cluster, "node-3"), "GET", "/_tasks?filter_path=" + ".".join(["nodes"] * 2000))
    assert (response.status, response.json) == (200, {})


def test_requests_per_second_nan_is_accepted_as_es_accepts_it(cluster: LocalCluster) -> None:
    body = b'{"source":{"index":"abuse"},"dest":{"index":"abuse-nan"}}'
    response = _post(url(cluster, "node-1"), "/_reindex?requests_per_second=NaN", body)
    assert response.status == 200, response.text
    assert response.json["requests_per_second"] == "NaN"
    assert response.json["created"] == 4


@pytest.mark.parametrize("value", ["nan", "1_0", "-Infinity"])
def test_requests_per_second_that_java_cannot_parse_is_es_400(cluster: LocalCluster, value: str) -> None:
    response = _post(url(cluster, "node-1"), f"/_reindex?requests_per_second={value}", b"{}")
    assert response.status == 400
    assert response.json["error"]["reason"] == (
        "[requests_per_second] must be a float greater than 0. Use -1 to disable throttling."
    )


# --- bodies ------------------------------------------------------------------------------------------------------


def _constraint(column: int, message: str) -> dict[str, Any]:
    body = _error("x_content_parse_exception", f"[1:{column}] {message}")
    body["error"]["caused_by"] = {"type": "stream_constraints_exception", "reason": message}
    return body


def test_json_nested_deeper_than_jackson_allows_is_es_400(cluster: LocalCluster) -> None:
    message = (
        "Document nesting depth (1001) exceeds the maximum allowed (1000, from "
        "`StreamReadConstraints.getMaxNestingDepth()`)"
    )
    shallow = _post(url(cluster, "node-1"), "/abuse/_search", b"[" * 1001 + b"]" * 1001)
    assert (shallow.status, shallow.json) == (400, _constraint(1002, message))
    deep = _post(url(cluster, "node-2"), "/abuse/_search", b'{"query":' + b'{"bool":{"must":' * 50_000)
    assert (deep.status, deep.json) == (400, _constraint(8003, message))
    assert_cluster_whole(cluster)


def test_a_5001_digit_number_is_es_400(cluster: LocalCluster) -> None:
    message = (
        "Number value length (5001) exceeds the maximum allowed (1000, from "
        "`StreamReadConstraints.getMaxNumberLength()`)"
    )
    response = _post(url(cluster, "node-1"), "/abuse/_search", b'{"size":' + b"1" * 5001 + b"}")
    assert (response.status, response.json) == (400, _constraint(9, message))


def test_a_body_that_is_not_utf8_is_jacksons_parse_error(cluster: LocalCluster) -> None:
    response = _post(url(cluster, "node-1"), "/abuse/_search", b'{"query":{"match":{"f":"\xff"}}}')
    detail = "Invalid UTF-8 start byte 0xff"
    expected = _error("x_content_parse_exception", f"[1:25] {detail}\n at [Source: {_SOURCE}; line: 1, column: 25]")
    expected["error"]["caused_by"] = {
        "type": "json_parse_exception",
        "reason": f"{detail}\n at [Source: {_SOURCE}; line: 1, column: 25]",
    }
    assert (response.status, response.json) == (400, expected)


def test_a_reindex_body_of_the_wrong_types_is_es_400(cluster: LocalCluster) -> None:
    body = b'{"source":{"index":"abuse"},"dest":{"index":"x"},"max_docs":"abc"}'
    response = _post(url(cluster, "node-1"), "/_reindex", body)
    assert response.status == 400
    expected = _error("x_content_parse_exception", "[1:50] [reindex] failed to parse field [max_docs]")
    expected["error"]["caused_by"] = {"type": "number_format_exception", "reason": 'For input string: "abc"'}
    assert response.json == expected


# --- headers -----------------------------------------------------------------------------------------------------


def test_an_opaque_id_that_is_not_utf8_is_kept_as_netty_reads_it(cluster: LocalCluster) -> None:
    raw = b"\xff\xfe-tag"
    as_text = raw.decode("latin-1")  # http.client writes header text as Latin-1: the server gets exactly `raw`
    started = call(
        url(cluster, "node-1"),
        "POST",
        "/_sim/tasks?duration=10ms&wait_for_completion=false",
        headers={"X-Opaque-Id": as_text},
    )
    assert started.status == 200, started.text
    assert started.headers["X-Opaque-Id"].encode("latin-1").decode("utf-8") == as_text
    done = call(url(cluster, "node-2"), "GET", f"/_tasks/{started.json['task']}?wait_for_completion=true")
    assert done.status == 200, done.text
    assert done.json["completed"] is True
    assert done.json["task"]["headers"] == {"X-Opaque-Id": as_text}


# --- reindex slices ------------------------------------------------------------------------------------------------

_SLICES = (
    "The number of slices [{n}] is too large. It must be less than [1024]. This limit can be set by changing the "
    "[index.max_slices_per_scroll] index level setting."
)


def _every_shard_failed(error: dict[str, Any], reason: str) -> None:
    """A search failure whose every shard refused with `reason` (also as a task's stored error)."""
    assert (error["type"], error["reason"], error["phase"]) == (
        "search_phase_execution_exception",
        "all shards failed",
        "query",
    )
    assert error["caused_by"] == {"type": "illegal_argument_exception", "reason": reason}
    assert {(f["index"], f["reason"]["reason"]) for f in error["failed_shards"]} == {("abuse", reason)}


def _all_shards_failed(response: Response, reason: str) -> None:
    assert response.status == 400, response.text
    assert response.json["error"]["root_cause"] == [{"type": "illegal_argument_exception", "reason": reason}]
    _every_shard_failed(response.json["error"], reason)


def test_more_slices_than_a_scroll_allows_fail_as_es_slices_fail(cluster: LocalCluster) -> None:
    body = b'{"source":{"index":"abuse"},"dest":{"index":"abuse-sliced"}}'
    _all_shards_failed(_post(url(cluster, "node-1"), "/_reindex?slices=1025", body), _SLICES.format(n=1025))


def test_a_hundred_thousand_slices_start_nothing_and_store_es_failure(cluster: LocalCluster) -> None:
    before = resident_bytes(cluster, "node-1")
    body = b'{"source":{"index":"abuse"},"dest":{"index":"abuse-sliced"}}'
    started = _post(url(cluster, "node-1"), "/_reindex?slices=100000&wait_for_completion=false", body)
    assert started.status == 200, started.text
    done = call(url(cluster, "node-3"), "GET", f"/_tasks/{started.json['task']}?wait_for_completion=true")
    assert done.status == 200, done.text
    assert done.json["completed"] is True
    _every_shard_failed(done.json["error"], _SLICES.format(n=100_000))
    workers = call(url(cluster, "node-1"), "GET", "/_tasks?actions=indices:data/write/reindex&detailed").json
    assert all(not node["tasks"] for node in workers["nodes"].values())
    wait_for_resident_within(cluster, "node-1", before)
    assert_cluster_whole(cluster)


def test_a_scroll_kept_alive_longer_than_search_max_keep_alive_fails_on_every_shard(cluster: LocalCluster) -> None:
    response = _post(url(cluster, "node-2"), "/abuse/_search?scroll=2d", b"{}")
    _all_shards_failed(
        response,
        "Keep alive for request (2d) is too large. It must be less than (1d). This limit can be set by changing the "
        "[search.max_keep_alive] cluster level setting.",
    )


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/abuse/_search?scroll=1m&size=20000", b"{}"),
        ("/_reindex", b'{"source":{"index":"abuse","size":20000},"dest":{"index":"abuse-batch"}}'),
        ("/abuse/_update_by_query?scroll_size=20000", b"{}"),
    ],
)
def test_a_scroll_batch_over_the_result_window_fails_on_every_shard(
    cluster: LocalCluster, path: str, body: bytes
) -> None:
    _all_shards_failed(
        _post(url(cluster, "node-3"), path, body),
        "Batch size is too large, size must be less than or equal to: [10000] but was [20000]. Scroll batch sizes "
        "cost as much memory as result windows so they are controlled by the [index.max_result_window] index level "
        "setting.",
    )


# --- request bytes -------------------------------------------------------------------------------------------------


def _head(path: str, length: int, extra: str = "") -> bytes:
    return f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{extra}Content-Length: {length}\r\n\r\n".encode()


def test_a_body_over_max_content_length_gets_netty_bare_413_and_a_closed_connection(cluster: LocalCluster) -> None:
    before = resident_bytes(cluster, "node-1")
    answer = exchange(url(cluster, "node-1"), _head("/abuse/_search", 101 * MB) + b'{"query":')
    assert answer.status == 413
    assert answer.ending in ("closed", "reset")
    head, _, body = answer.data.partition(b"\r\n\r\n")
    assert body == b""
    assert b"\r\nConnection: close\r\n" in head and b"\r\nContent-Length: 0\r\n" in head
    assert b"X-elastic-product" not in head  # answered below ES's REST layer
    wait_for_resident_within(cluster, "node-1", before)


def test_expect_100_continue_over_the_limit_is_refused_before_the_body(cluster: LocalCluster) -> None:
    answer = exchange(url(cluster, "node-2"), _head("/abuse/_search", 200 * MB, "Expect: 100-continue\r\n"))
    assert (answer.status, answer.body, answer.ending) == (413, b"", "closed")


def test_concurrent_big_bodies_are_bounded_by_the_in_flight_requests_breaker(cluster: LocalCluster) -> None:
    pid = cluster.node("node-1").pid
    assert pid is not None and reset_peak_memory(pid)
    before = resident_bytes(cluster, "node-1")
    body = b'{"query":{"match_all":{}},"pad":"' + b"x" * (99 * MB - 64) + b'"}'
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: _post(url(cluster, "node-1"), "/abuse/_search", body), range(6)))
    statuses = sorted(a.status for a in answers)
    assert statuses.count(429) >= 4 and set(statuses) <= {400, 429}, statuses
    breaker = re.compile(
        r"\[in_flight_requests\] Data too large, data for \[<http_request>\] would be \[(\d+)/([0-9.]+[kmgtp]?b)\], "
        r"which is larger than the limit of \[268435456/256mb\]"
    )
    for answer in answers:
        if answer.status == 429:
            error = answer.json["error"]
            match = breaker.fullmatch(error["reason"])
            assert match is not None, error["reason"]
            assert error == {
                "root_cause": [{k: error[k] for k in ("type", "reason", "bytes_wanted", "bytes_limit", "durability")}],
                "type": "circuit_breaking_exception",
                "reason": error["reason"],
                "bytes_wanted": int(match.group(1)),
                "bytes_limit": 268435456,
                "durability": "TRANSIENT",
            }
            assert answer.json["status"] == 429
        else:
            assert answer.json["error"]["type"] == "parsing_exception"  # the one body read: an unknown key
    use = memory_use(pid)
    assert use is not None and use.peak - before < 700 * MB, f"peak {use.peak >> 20} MB from {before >> 20} MB"
    wait_for_resident_within(cluster, "node-1", before)
    assert_cluster_whole(cluster)


def test_a_chunked_body_is_cut_off_at_the_limit(limited: LocalCluster) -> None:
    head = b"POST /_search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunk = b"%x\r\n%s\r\n" % (600_000, b" " * 600_000)
    answer = exchange(url(limited, "node-1"), head + chunk + chunk)
    assert answer.status in (413, None)  # the connection may be reset before the answer is read, as with ES
    assert answer.ending in ("closed", "reset")


def test_a_body_past_the_in_flight_limit_gets_es_429_without_being_read(cluster: LocalCluster) -> None:
    """A request announcing 99 MB holds its reservation while its body is awaited; 30 MB more would take the
    in-flight bytes, counted twice, past the 256 MB default."""
    base = url(cluster, "node-2")
    parts = urlsplit(base)
    held = socket.create_connection((parts.hostname, parts.port), timeout=30)
    probe = b"{}" + b" " * (30 * MB - 2)
    try:
        held.sendall(_head("/abuse/_search", 99 * MB))
        refused = wait_until(
            lambda: (answer := _post(base, "/abuse/_search", probe)).status == 429 and answer,
            timeout=20,
            what="the held request's reservation",
        )
        reason = (
            "[in_flight_requests] Data too large, data for [<http_request>] would be [270532608/258mb], "
            "which is larger than the limit of [268435456/256mb]"
        )
        expected = _error(
            "circuit_breaking_exception",
            reason,
            429,
            bytes_wanted=270532608,
            bytes_limit=268435456,
            durability="TRANSIENT",
        )
        assert refused.json == expected
    finally:
        held.close()
    wait_until(lambda: _post(base, "/abuse/_search", probe).status == 200, timeout=20, what="the bytes released")


# --- slow clients ------------------------------------------------------------------------------------------------


def test_slow_and_idle_clients_are_disconnected(limited: LocalCluster) -> None:
    """200 connections: half trickle a request line byte by byte, half send nothing; all are closed by the nodes."""
    line = b"GET /_tasks HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"p" * 500
    sockets = []
    for i in range(200):
        parts = urlsplit(url(limited, limited.names[i % 3]))
        sock = socket.create_connection((parts.hostname, parts.port), timeout=5)
        sock.setblocking(False)
        sockets.append(sock)
    open_ = {sock: 0 for sock in sockets}
    deadline = time.monotonic() + 15
    try:
        while open_ and time.monotonic() < deadline:
            for n, sock in enumerate(list(open_)):
                if n % 2 == 0 and open_[sock] < len(line):
                    try:
                        sock.send(line[open_[sock] : open_[sock] + 1])
                        open_[sock] += 1
                    except OSError:
                        del open_[sock]
            readable, _, _ = select.select(list(open_), [], [], 0.1)
            for sock in readable:
                try:
                    if sock.recv(1024) == b"":
                        del open_[sock]
                except OSError:
                    del open_[sock]
        assert not open_, f"{len(open_)} of 200 slow connections still open after 15 s"
    finally:
        for sock in sockets:
            sock.close()
    assert call(url(limited, "node-1"), "GET", "/_tasks").status == 200


def test_a_body_that_stops_arriving_is_disconnected(limited: LocalCluster) -> None:
    answer = exchange(url(limited, "node-2"), _head("/_search", 100) + b"{", timeout=10)
    assert (answer.data, answer.ending) == (b"", "closed")


# --- requests aiohttp cannot parse -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "es_type", "reason"),
    [
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", "too_long_http_line_exception", "An HTTP line is larger than 65536 bytes."),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-A: " + b"b" * 70_000 + b"\r\n\r\n", "too_long_http_header_exception", "HTTP header is larger than 65536 bytes."),
    ],
)  # fmt: skip
def test_requests_aiohttp_cannot_parse_get_es_json_400(
    cluster: LocalCluster, data: bytes, es_type: str, reason: str
) -> None:
    answer = exchange(url(cluster, "node-1"), data)
    assert answer.status == 400
    assert json.loads(answer.body) == _error(es_type, reason)
