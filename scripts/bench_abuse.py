"""Benchmark: what hostile requests cost a 3-node cluster (issue 8's table, one phase per row).

Usage: python scripts/bench_abuse.py [--json FILE] [--slowloris 200] [--big-bodies 6]

Each phase sends its bad input to the nodes of a fresh cluster on default settings (except a 3 s
`http.read_timeout`, so the slow-client phase is short) and reports:

- the statuses the clients saw;
- the worst event-loop stall of any node during the phase (`GET /_sim/loop_lag`: `max_lag_ms` is how late a 100 ms
  timer ran, `max_busy_ms` the CPU time the loop's thread spent between two ticks, i.e. the node's own work; on a
  busy machine the first also counts time the process was not scheduled);
- the resident memory of the nodes before and after, and its peak during the phase (`VmRSS`, `VmHWM`);
- whether every node is still in the cluster afterwards.

The last phase sends `--generated` requests from the stress test's generator (`tests.support.bad_requests`, the
same seeds every run) over 8 keep-alive connections, and counts the answers ES would not give.

This is a benchmark, not a test: it prints numbers and never fails on them.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cluster.launcher import FAST_FAILURE_DETECTION, LocalCluster  # noqa: E402
from cluster.process import memory_use, reset_peak_memory  # noqa: E402
from tests.support.bad_requests import answer_problem, bad_request  # noqa: E402
from tests.support.http import KeepAliveSender, call, exchange  # noqa: E402

MB = 1 << 20
JSON = {"Content-Type": "application/json"}


def _statuses(results: list[int | str]) -> dict[str, int]:
    return dict(sorted(Counter(str(r) for r in results).items()))


def _post(url: str, path: str, body: bytes, headers: dict[str, str] | None = None) -> int | str:
    try:
        return call(url, "POST", path, body=body, headers={**JSON, **(headers or {})}, timeout=120).status
    except OSError as e:
        return type(e).__name__


def long_parameter_name(urls: list[str]) -> list[int | str]:
    return [call(u, "GET", "/abuse/_search?" + "a" * 60_000 + "=1").status for u in urls for _ in range(3)]


def many_slices(urls: list[str]) -> list[int | str]:
    body = b'{"source":{"index":"abuse"},"dest":{"index":"abuse-copy"}}'
    started = call(urls[0], "POST", "/_reindex?slices=100000&wait_for_completion=false", body=body, headers=JSON)
    task = started.json["task"]
    stored = call(urls[0], "GET", f"/_tasks/{task}?wait_for_completion=true&timeout=60s")
    return [started.status, stored.status, _post(urls[1], "/_reindex?slices=1025", body)]


def oversized_body(urls: list[str]) -> list[int | str]:
    head = f"POST /abuse/_search HTTP/1.1\r\nHost: x\r\nContent-Length: {101 * MB}\r\n\r\n".encode()
    return [exchange(u, head).status or "no answer" for u in urls]


def concurrent_big_bodies(urls: list[str], count: int) -> list[int | str]:
    pad = b"x" * (99 * MB - 64)
    body = b'{"query":{"match_all":{}},"pad":"' + pad + b'"}'
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: _post(urls[0], "/abuse/_search", body), range(count)))


def bad_bodies_and_numbers(urls: list[str]) -> list[int | str]:
    out: list[int | str] = []
    for url in urls:
        out.append(_post(url, "/abuse/_search", b"[" * 1001 + b"]" * 1001))
        out.append(
            _post(url, "/abuse/_search", b'{"query":' + b'{"bool":{"must":' * 2000 + b"{}" + b"}}" * 2000 + b"}")
        )
        out.append(_post(url, "/abuse/_search", b'{"size":' + b"1" * 5001 + b"}"))
        out.append(_post(url, "/abuse/_search", b'{"query":{"match":{"f":"\xff"}}}'))
        out.append(
            _post(url, "/_reindex?requests_per_second=NaN", b'{"source":{"index":"abuse"},"dest":{"index":"n"}}')
        )
    return out


def bad_headers_and_parameters(urls: list[str]) -> list[int | str]:
    opaque = b"\xff\xfe-opaque".decode("latin-1")  # http.client writes header text as Latin-1: these exact bytes
    out: list[int | str] = []
    for url in urls:
        started = call(
            url, "POST", "/_sim/tasks?duration=10ms&wait_for_completion=false", headers={"X-Opaque-Id": opaque}
        )
        out.append(started.status)
        out.append(call(url, "GET", f"/_tasks/{started.json['task']}?wait_for_completion=true").status)
        out.append(call(url, "GET", "/_tasks?pretty=maybe").status)
        out.append(call(url, "GET", "/_tasks?filter_path=" + ".".join(["a"] * 2000)).status)
    return out


def slow_clients(urls: list[str], count: int, seconds: float) -> list[int | str]:
    """`count` connections: half trickle a request line a byte at a time, half open and send nothing."""
    endings: list[int | str] = []
    lock = threading.Lock()
    line = b"GET /_tasks HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"p" * 200

    def client(i: int) -> None:
        url = urls[i % len(urls)].removeprefix("http://")
        host, port = url.split(":")
        sock = socket.create_connection((host, int(port)), timeout=seconds)
        ending = "still open"
        try:
            deadline = time.monotonic() + seconds
            sent = 0
            while time.monotonic() < deadline:
                if i % 2 == 0 and sent < len(line):
                    sock.sendall(line[sent : sent + 1])
                    sent += 1
                sock.settimeout(0.25)
                try:
                    if sock.recv(1) == b"":
                        ending = "closed by node"
                        break
                except TimeoutError:
                    continue
        except OSError:
            ending = "closed by node"
        finally:
            sock.close()
        with lock:
            endings.append(ending)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return endings


def generated(urls: list[str], count: int) -> list[int | str]:
    """`count` generated hostile requests; an answer ES would not give counts as `not ES's`."""
    sender = KeepAliveSender(urls)
    rng = random.Random(8)
    requests = [bad_request(rng) for _ in range(count)]

    def send(numbered: tuple[int, Any]) -> int | str:
        n, request = numbered
        status, content_type, body = sender.send(
            n % len(urls), request.method, request.path, request.headers, request.body
        )
        return status if answer_problem(request, status, content_type, body) is None else "not ES's"

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(send, enumerate(requests)))


def _loop_lag(urls: list[str], reset: bool) -> list[dict[str, Any]]:
    return [
        call(u, "POST" if reset else "GET", "/_sim/loop_lag/_reset" if reset else "/_sim/loop_lag").json for u in urls
    ]


def _memory(cluster: LocalCluster) -> dict[str, dict[str, int]]:
    out = {}
    for record in cluster.nodes:
        use = memory_use(record.pid) if record.pid is not None else None
        if use is not None:
            out[record.name] = {"rss_mb": round(use.resident / MB), "peak_mb": round(use.peak / MB)}
    return out


def _members(url: str) -> int:
    return len(call(url, "GET", "/_cat/nodes?format=json").json)


def run_phase(cluster: LocalCluster, name: str, action: Callable[[list[str]], list[int | str]]) -> dict[str, Any]:
    urls = cluster.endpoints()
    for record in cluster.nodes:
        if record.pid is not None:
            reset_peak_memory(record.pid)
    before = _memory(cluster)
    _loop_lag(urls, reset=True)
    started = time.monotonic()
    results = action(urls)
    elapsed = time.monotonic() - started
    lag = _loop_lag(urls, reset=False)
    after = _memory(cluster)
    return {
        "phase": name,
        "seconds": round(elapsed, 2),
        "answers": _statuses(results),
        "max_loop_lag_ms": max(entry["max_lag_ms"] for entry in lag),
        "max_loop_busy_ms": max(entry["max_busy_ms"] for entry in lag),
        "rss_before_mb": {n: m["rss_mb"] for n, m in before.items()},
        "rss_peak_mb": {n: m["peak_mb"] for n, m in after.items()},
        "rss_after_mb": {n: m["rss_mb"] for n, m in after.items()},
        "nodes_in_cluster": min(_members(u) for u in urls),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=None, help="also write the results to this file")
    parser.add_argument("--slowloris", type=int, default=200, help="slow connections in the slow-client phase")
    parser.add_argument("--big-bodies", type=int, default=6, help="concurrent 99 MB bodies")
    parser.add_argument("--generated", type=int, default=10_000, help="generated hostile requests in the last phase")
    args = parser.parse_args()
    read_timeout_ms = 3000
    phases: list[tuple[str, Callable[[list[str]], list[int | str]]]] = [
        ("60,000-character parameter name", long_parameter_name),
        ("reindex slices=100000 / 1025", many_slices),
        ("body over http.max_content_length", oversized_body),
        (f"{args.big_bodies} concurrent 99 MB bodies", lambda urls: concurrent_big_bodies(urls, args.big_bodies)),
        ("deep JSON, 5001-digit number, invalid UTF-8, rps=NaN", bad_bodies_and_numbers),
        ("X-Opaque-Id not UTF-8, pretty=maybe, 2000-deep filter_path", bad_headers_and_parameters),
        (
            f"{args.slowloris} slow or idle clients",
            lambda urls: slow_clients(urls, args.slowloris, read_timeout_ms / 1000 + 5),
        ),
        (f"{args.generated} generated hostile requests", lambda urls: generated(urls, args.generated)),
    ]
    report: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-abuse-") as home:
        defaults = {**FAST_FAILURE_DETECTION, "http_read_timeout_ms": read_timeout_ms}
        cluster = LocalCluster(home, 3, http_port=0, transport_port=0, node_defaults=defaults)
        try:
            cluster.start()
            cluster.wait_until_formed(60.0)
            url = cluster.endpoints()[0]
            call(url, "PUT", "/abuse", body=b'{"settings":{"number_of_shards":3,"number_of_replicas":1}}', headers=JSON)
            docs = b"".join(b'{"index":{}}\n{"n":%d}\n' % i for i in range(4))
            call(url, "POST", "/abuse/_bulk?refresh=true", body=docs, headers={"Content-Type": "application/x-ndjson"})
            for name, action in phases:
                entry = run_phase(cluster, name, action)
                report.append(entry)
                print(
                    f"{entry['phase']}: {entry['answers']} in {entry['seconds']}s; loop lag max "
                    f"{entry['max_loop_lag_ms']}ms (busy {entry['max_loop_busy_ms']}ms); RSS MB before "
                    f"{entry['rss_before_mb']} peak {entry['rss_peak_mb']} after {entry['rss_after_mb']}; "
                    f"{entry['nodes_in_cluster']} nodes in the cluster",
                    flush=True,
                )
        finally:
            cluster.stop(timeout=10.0)
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    main()
