"""Benchmark: cancel propagation on a 3-node cluster next to a bare gRPC round trip.

Usage: python scripts/bench_cancel.py [--runs 30] [--json FILE]

Each run starts a test task on node-1 whose children run on all 3 nodes (`POST /_sim/tasks`, checking for
cancellation every 1 ms), cancels it from node-2, and measures from sending the cancel request until the last
descendant is gone. "Gone" is observed by the cancel itself with `wait_for_completion=true`, which answers only once
the parent and every child have finished (reference §11.4) — so the number includes the ban round trips, each
child noticing its ban, and the completions travelling back. The same run measures a bare grpc.aio unary round trip
between two processes; the target is cancel propagation within 3 such round trips. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cluster.launcher import LocalCluster  # noqa: E402
from scripts.bench_tasks import BARE_GRPC_SERVER, _time_grpc, percentiles, spawn_server, stop  # noqa: E402


def _request(port: int, method: str, path: str) -> tuple[int, dict[str, object]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path)
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def _port(cluster: LocalCluster, name: str) -> int:
    address = cluster.node(name).http_address
    assert address is not None
    return int(address.rpartition(":")[2])


def _children_running(port: int, parent: str) -> bool:
    _, body = _request(port, "GET", f"/_tasks?parent_task_id={parent}&group_by=none")
    return len(body["tasks"]) == 3  # type: ignore[arg-type]


def measure_cancel(cluster: LocalCluster, runs: int) -> list[float]:
    coordinator, canceller = _port(cluster, "node-1"), _port(cluster, "node-2")
    samples: list[float] = []
    for _ in range(runs):
        status, body = _request(coordinator, "POST", "/_sim/tasks?wait_for_completion=false&check_interval=1ms")
        assert status == 200, body
        parent = str(body["task"])
        deadline = time.monotonic() + 10
        while not _children_running(coordinator, parent):
            if time.monotonic() > deadline:
                raise RuntimeError("the children did not start")
            time.sleep(0.005)
        start = time.perf_counter()
        status, body = _request(canceller, "POST", f"/_tasks/{parent}/_cancel?wait_for_completion=true")
        samples.append((time.perf_counter() - start) * 1000)
        assert status == 200, body
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    results: dict[str, object] = {}
    grpc_server, grpc_port = spawn_server(BARE_GRPC_SERVER)
    try:
        results["bare_grpc_aio_unary"] = percentiles(asyncio.run(_time_grpc(grpc_port, 300)))
    finally:
        stop(grpc_server)
    with tempfile.TemporaryDirectory() as tmp:
        cluster = LocalCluster(Path(tmp) / "bench", 3, http_port=0, transport_port=0)
        try:
            cluster.start()
            cluster.wait_until_formed(timeout=60)
            results["cancel_to_last_descendant_gone"] = percentiles(measure_cancel(cluster, args.runs))
        finally:
            cluster.stop()
    cancel = results["cancel_to_last_descendant_gone"]["p50_ms"]  # type: ignore[index]
    round_trip = results["bare_grpc_aio_unary"]["p50_ms"]  # type: ignore[index]
    results["cancel_p50_in_round_trips"] = round(cancel / round_trip, 1)
    results["target_round_trips"] = 3
    text = json.dumps(results, indent=2)
    print(text)
    if args.json is not None:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
